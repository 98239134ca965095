import Foundation
import Messages
import Physics
import Testing

private func decode(_ topic: String, _ json: String) throws(MessageError) -> Message {
    try Message.decode(topic: topic, payload: Array(json.utf8))
}

private func fault(_ topic: String, _ json: String) -> String? {
    do { _ = try decode(topic, json); return nil } catch { return error.description }
}

@Suite("Protocol v1 messages")
struct MessageTests {
    static let examples: [any MessageBody] = [
        Hello(role: .household, software: "test"), Ready(), Ready(grants: .shared), Goodbye(reason: "done"), Tick(time: 43_200),
        IntervalStart(start: 43_200, length: 300, priceCap: 1, bidDeadlineMs: 1000, clearingDeadlineMs: 200, dispatchDeadlineMs: 500),
        IntervalStart(start: 43_200, length: 300, priceCap: 1, bidDeadlineMs: 1000, clearingDeadlineMs: 200, dispatchDeadlineMs: 500,
                      gridForming: DeviceID(house: "h1", name: "battery")),
        Gate(), Telemetry(house: "h1", devices: [.init(id: DeviceID(house: "h1", name: "battery"), values: ["soc": 55.5])]),
        Bids(house: "h1", bids: [WireBid(id: "h1/ev", side: .buy, price: 0.21, quantity: 7.4)]),
        ClearingResult(price: 0.2, quantity: 7, clearingType: .buyer, marginalQuantity: 2, marginalFraction: 0.4, unservedDemand: 0, bidCount: 4),
        Awards(house: "h1", price: 0.2, awards: [.init(id: "h1/ev", side: .buy, quantity: 7.4)]),
        DispatchReport(house: "h1", awardsReceivedAt: 1.5, setpoints: [.init(id: DeviceID(house: "h1", name: "ev"), name: .currentLimit, value: 10.7, landedAt: 1.6)]),
        DispatchReport(house: "h1", awardsReceivedAt: 1.5, setpoints: [], nextTime: 43_245),
        TimeGrant(participant: "h1", time: 43_245), TimeGrants(participants: ["h1", "h2-3"], time: 43_245),
        TimeRequests(requests: ["h1": 43_290, "h2-3": nil]), TimeRequest(time: 43_290), TimeRequest(time: nil),
        ErrorReport(fault: .invalidBid, detail: "quantity -1", about: "h2", topic: "bids/h2", count: 3),
    ]

    @Test("Every message type of the protocol's table has an example here, and each table entry a type of its own")
    func everyTypeCovered() {
        let types = MessageBodies.all.map { $0.type }
        #expect(Set(types).count == types.count)
        #expect(Set(Self.examples.map(\.type)) == Set(types))
    }

    @Test("Every message type survives encoding and decoding, on its own topic", arguments: examples)
    func roundTrip(body: any MessageBody) throws {
        var writer = MessageWriter(sender: "h1")
        _ = writer.message(Ready())
        let message = writer.message(body, interval: 7)
        #expect(message.header.sequence == 2)
        #expect(try Message.decode(topic: message.topic.description, payload: message.encoded()) == message)
    }

    @Test("The wire form is one flat snake_case object, header fields first, in a fixed order")
    func wireForm() throws {
        var writer = MessageWriter(sender: "h1")
        let message = writer.message(Bids(house: "h1", bids: [WireBid(id: "h1/ev", side: .buy, price: 0.21, quantity: 7.4)]), interval: 12)
        #expect(message.topic.description == "bids/h1")
        #expect(String(decoding: message.encoded(), as: UTF8.self)
                == #"{"v":1,"type":"bids","interval":12,"sender":"h1","seq":1,"house":"h1","bids":[{"id":"h1/ev","side":"buy","price":0.21,"quantity":7.4}]}"#)
    }

    @Test("Shared grants name their participants in order, and a ready says how its sender takes grants only when shared (revision 1.2)")
    func sharedGrantsWireForm() {
        var writer = MessageWriter(sender: "conductor")
        #expect(String(decoding: writer.message(TimeGrants(participants: ["h10", "h2", "h1"], time: 45), interval: 3).encoded(), as: UTF8.self)
                == #"{"v":1,"type":"grants","interval":3,"sender":"conductor","seq":1,"participants":["h1","h10","h2"],"time":45}"#)
        #expect(String(decoding: writer.message(Ready()).encoded(), as: UTF8.self) == #"{"v":1,"type":"ready","sender":"conductor","seq":2}"#)
        #expect(String(decoding: writer.message(Ready(grants: .shared)).encoded(), as: UTF8.self)
                == #"{"v":1,"type":"ready","sender":"conductor","seq":3,"grants":"shared"}"#)
        // A shared grant is for the participants it names; every other message for all who read its topic.
        for body in Self.examples { #expect(body.addressees == (body as? TimeGrants)?.participants, "\(body.type)") }
    }

    @Test("Unknown fields are ignored")
    func unknownFields() throws {
        let message = try decode("gate", #"{"v": 1, "type": "gate", "interval": 3, "sender": "conductor", "seq": 9, "colour": "blue"}"#)
        #expect(message.body is Gate && message.header.interval == 3)
    }

    @Test("Bad frames are refused with the fault named", arguments: [
        ("gate", "not json", "malformed: not valid JSON: expected a value, found 'n'"),
        ("gate", "[1, 2]", "malformed: not a JSON object, found a list"),
        ("gate", #"{"v": 2, "type": "gate", "sender": "c", "seq": 1}"#, "version: protocol version 2 is not spoken here (this participant speaks 1)"),
        ("gate", #"{"type": "gate", "sender": "c", "seq": 1}"#, "malformed: missing field \"v\" (the protocol version)"),
        ("gate", #"{"v": 1, "type": "gate", "seq": 1}"#, "malformed: missing field \"sender\""),
        ("gate", #"{"v": 1, "type": "gate", "sender": "c", "seq": 1.5}"#, "malformed: header: seq: expected a whole number, found 1.5"),
        ("clock", #"{"v": 1, "type": "tick", "sender": "c", "seq": 1, "time": null}"#, "malformed: tick: missing field \"time\""),
        ("x", #"{"v": 1, "type": "teleport", "sender": "c", "seq": 1}"#, "unknown-type: unknown message type \"teleport\""),
        ("bids/h1", #"{"v": 1, "type": "bids", "sender": "h1", "seq": 1, "house": "h1", "bids": [{"id": "h1/ev", "side": "buy", "price": "cheap", "quantity": 1}]}"#,
         "malformed: bids: bids[0].price: expected a number, found \"cheap\""),
        ("bids/h1", #"{"v": 1, "type": "bids", "sender": "h1", "seq": 1, "house": "h1"}"#, "malformed: bids: missing field \"bids\""),
        ("bids/h1", #"{"v": 1, "type": "bids", "sender": "h1", "seq": 1, "house": "h1", "bids": [{"id": "h1/ev", "side": "hold", "price": 0.2, "quantity": 1}]}"#,
         "malformed: bids: bids[0].side: expected \"buy\" or \"sell\", found \"hold\""),
        ("clearing", #"{"v": 1, "type": "clearing", "sender": "m", "seq": 1, "price": 0.2, "quantity": 1, "clearing_type": "lucky", "marginal_quantity": 0, "marginal_fraction": 0, "unserved_demand": 0, "bid_count": 1}"#,
         "malformed: clearing: clearing_type: expected \"buyer\" or \"seller\" or \"exact\" or \"price\" or \"failure\" or \"null\", found \"lucky\""),
        ("bids/h2", #"{"v": 1, "type": "bids", "sender": "h1", "seq": 1, "house": "h1", "bids": []}"#,
         "malformed: a bids message from \"h1\" belongs on topic \"bids/h1\", not \"bids/h2\""),
        ("dispatch/h1", #"{"v": 1, "type": "dispatch", "sender": "h1", "seq": 1, "house": "h1", "awards_received_at": 1, "setpoints": [{"id": "h1/ev", "name": "setpoint", "value": 6}]}"#,
         "malformed: dispatch: setpoints[0].name: expected \"current-limit\" or \"power\" or \"heat-setpoint\" or \"cool-setpoint\" or \"power-limit\", found \"setpoint\""),
        ("hello/b1", #"{"v": 1, "type": "hello", "sender": "b1", "seq": 1, "role": "bidders"}"#,
         "malformed: hello: role: expected \"household\" or \"market\" or \"conductor\" or \"observer\", found \"bidders\""),
        ("telemetry/h1", #"{"v": 1, "type": "telemetry", "sender": "h1", "seq": 1, "house": "h1", "devices": [{"id": "battery", "values": {}}]}"#,
         "malformed: telemetry: devices[0].id: expected a device id \"<house>/<device>\" (the house of letters, digits, '-', '_' or '.'), found \"battery\""),
        ("telemetry/h1", #"{"v": 1, "type": "telemetry", "sender": "h1", "seq": 1, "house": "h1", "devices": [{"id": "h 1/battery", "values": {}}]}"#,
         "malformed: telemetry: devices[0].id: expected a device id \"<house>/<device>\" (the house of letters, digits, '-', '_' or '.'), found \"h 1/battery\""),
        ("bids/h,1", #"{"v": 1, "type": "bids", "sender": "h,1", "seq": 1, "house": "h,1", "bids": []}"#,
         "malformed: bids: house: expected a house name (letters, digits, '-', '_' or '.'), found \"h,1\""),
        ("awards/h/1", #"{"v": 1, "type": "awards", "sender": "market", "seq": 1, "house": "h/1", "price": 0.2, "awards": []}"#,
         "malformed: awards: house: expected a house name (letters, digits, '-', '_' or '.'), found \"h/1\""),
        ("interval", #"{"v": 1, "type": "interval", "sender": "conductor", "seq": 1, "start": 0, "length": 300, "price_cap": 1, "bid_deadline_ms": 1, "clearing_deadline_ms": 1, "dispatch_deadline_ms": 1, "grid_forming": "h1/"}"#,
         "malformed: interval: grid_forming: expected a device id \"<house>/<device>\" (the house of letters, digits, '-', '_' or '.'), found \"h1/\""),
        ("ready/h1", #"{"v": 1, "type": "ready", "sender": "h1", "seq": 1, "grants": "batched"}"#,
         "malformed: ready: grants: expected \"own\" or \"shared\", found \"batched\""),
        ("grants", #"{"v": 1, "type": "grants", "sender": "conductor", "seq": 1, "time": 10, "participants": "h1"}"#,
         "malformed: grants: participants: expected a list of strings, found \"h1\""),
        ("grants", #"{"v": 1, "type": "grants", "sender": "conductor", "seq": 1, "time": 10, "participants": ["h1", 2]}"#,
         "malformed: grants: participants[1]: expected a string, found 2.0"),
        ("grants", #"{"v": 1, "type": "grants", "sender": "conductor", "seq": 1, "participants": ["h1"]}"#, "malformed: grants: missing field \"time\""),
        ("time/h1", #"{"v": 1, "type": "time-requests", "sender": "h1", "seq": 1, "requests": {"h1": 10, "h2": "soon"}}"#,
         "malformed: time-requests: requests.h2: expected a number or null, found \"soon\""),
        ("time/h1", #"{"v": 1, "type": "time-requests", "sender": "h1", "seq": 1, "requests": {"h1": 10, "h1": 20}}"#,
         "malformed: time-requests: requests: expected each name once, found \"h1\" twice"),
        ("time/h1", #"{"v": 1, "type": "time-requests", "sender": "h1", "seq": 1, "requests": [10]}"#,
         "malformed: time-requests: requests: expected an object of numbers or nulls, found a list"),
        ("grants/h1", #"{"v": 1, "type": "grants", "sender": "conductor", "seq": 1, "time": 10, "participants": ["h1"]}"#,
         "malformed: a grants message from \"conductor\" belongs on topic \"grants\", not \"grants/h1\""),
    ])
    func refused(topic: String, json: String, expected: String) {
        #expect(fault(topic, json) == expected)
    }

    @Test("The broker's sender scan reads the sender every message type's receivers decode, from any field order and spacing")
    func senderScan() throws {
        for body in Self.examples {
            var writer = MessageWriter(sender: "h7")
            let encoded = writer.message(body, interval: 3).encoded()
            #expect(encoded.withUnsafeBytes(Message.sender(of:)) == "h7", "\(body.type)")
            // The same object as another writer might lay it out: keys reversed, spaces between tokens.
            guard case .object(let members) = try JSONValue.parse(encoded).kind else { continue }
            let reversed = "{ " + members.reversed().map { member in
                let start = member.value.offset
                let text = String(decoding: encoded[start...], as: UTF8.self)
                return "\"\(member.key)\" :  " + String(text.prefix(Self.valueLength(text)))
            }.joined(separator: " ,\n ") + " }"
            #expect(Array(reversed.utf8).withUnsafeBytes(Message.sender(of:)) == "h7", "\(reversed)")
            #expect((try? Message.decode(topic: writer.message(body, interval: 3).topic.description, payload: Array(reversed.utf8)))?.header.sender == "h7")
        }
    }

    /// The length of the JSON value at the start of `text`.
    private static func valueLength(_ text: String) -> Int {
        var depth = 0, inString = false, escaped = false
        for (offset, character) in text.enumerated() {
            if inString {
                if escaped { escaped = false } else if character == "\\" { escaped = true } else if character == "\"" { inString = false; if depth == 0 { return offset + 1 } }
                continue
            }
            switch character {
            case "\"": inString = true
            case "{", "[": depth += 1
            case "}", "]":
                if depth == 0 { return offset }
                depth -= 1
                if depth == 0 { return offset + 1 }
            case ",": if depth == 0 { return offset }
            default: break
            }
        }
        return text.count
    }

    @Test("The sender scan names no sender where a receiver could read another, or none", arguments: [
        #"{"v":1,"sender":"h1","sender":"market"}"#,  // twice: the receivers take the first, a forger hopes for the last
        #"{"v":1,"sender":"mark\u0065t"}"#,           // an escape: refused, never decoded a second way
        #"{"v":1,"body":{"sender":"market"}}"#,        // only a nested one
        #"{"v":1,"sender":7}"#,
        #"{"v":1,"sender":"h1""#,
        #"["sender","h1"]"#,
        #"sender"#,
        "",
        #"{"type":"time-requests","type":"bids","sender":"h1","requests":{"h2":1}}"#,  // a type twice
        #"{"type":"time\u002drequests","sender":"h1","requests":{"h2":1}}"#,  // a type with an escape
        #"{"type":"time-requests","sender":"h1","requests":{"h\u0032":1}}"#,  // a name answered for with an escape
        #"{"type":"time-requests","sender":"h1","requests":{"h2":1},"requests":{"h3":1}}"#,  // requests twice
        #"{"type":"time-requests","sender":"h1","requests":{"h2":1"#,
    ])
    func senderScanRefuses(json: String) {
        #expect(Array(json.utf8).withUnsafeBytes(Message.sender(of:)) == nil)
    }

    @Test("A time-requests message speaks for its sender and each participant it answers for, as the receivers read them; no other type answers for anyone")
    func claims() throws {
        var writer = MessageWriter(sender: "h1")
        let encoded = writer.message(TimeRequests(requests: ["h1": 45, "h2-3": nil, "h10": 60]), interval: 2).encoded()
        let claimed = try #require(encoded.withUnsafeBytes(Message.claims(of:)))
        #expect(claimed.sender == "h1" && claimed.alsoFor == ["h1", "h10", "h2-3"])
        let decoded = try Message.decode(topic: "time/h1", payload: encoded)
        #expect(Set((decoded.body as? TimeRequests)?.requests.keys.map { $0 } ?? []) == Set(claimed.alsoFor))
        // The same names, in another message type, claim nothing beyond the sender; nor does a list in place of the object.
        let bids = #"{"v":1,"requests":{"h2":1},"type":"bids","sender":"h1","seq":1}"#
        #expect(Array(bids.utf8).withUnsafeBytes(Message.claims(of:))?.alsoFor == [])
        let listed = #"{"v":1,"type":"time-requests","sender":"h1","requests":["h2"]}"#
        #expect(Array(listed.utf8).withUnsafeBytes(Message.claims(of:))?.alsoFor == [])
    }

    @Test("The sender scan skips nested values, escaped quotes and brackets inside strings")
    func senderScanSkips() {
        let json = #"{"detail":"a "quoted" } ] , text","bids":[{"id":"x","n":[1,2,{"sender":"market"}]}],"ok":true,"sender":"h3","n":-1.5e3}"#
        #expect(Array(json.utf8).withUnsafeBytes(Message.sender(of:)) == "h3")
    }
}

@Suite("Strict JSON")
struct JSONTests {
    @Test("JSON numbers read as Double reads their text, bit for bit: every shortest form, long and short decimals, exponents")
    func numbersExact() throws {
        var rng = SplitMix64(seed: 8)
        var texts = ["0", "-0", "0.1", "0.0001", "1e-7", "9007199254740993", "9007199254740992.5", "0.30000000000000004", "123456789012345678901234567890",
                     "2.2250738585072011e-308", "4.9e-324", "1.7976931348623157e308", "0.1000000000000000055511151231257827", "5e-22", "1.5E+3"]
        for _ in 0..<2_000 {
            texts.append("\(Double(bitPattern: rng.next() & 0x7FEF_FFFF_FFFF_FFFF))")
            texts.append("\(Double.random(in: 0...20, using: &rng))")
            texts.append("\(Int.random(in: 0...99_999_999, using: &rng)).\(Int.random(in: 0...9_999_999_999, using: &rng))")
        }
        for text in texts {
            var reader = JSONReader(Array("[\(text)]".utf8))
            try reader.beginArray()
            #expect(try reader.nextElement())
            #expect(try reader.number().bitPattern == Double(text)!.bitPattern, "\(text)")
            guard case .number(let number) = try JSONValue.parse(Array(text.utf8)).kind else { Issue.record("\(text) is no number"); continue }
            #expect(number.bitPattern == Double(text)!.bitPattern, "\(text)")
        }
    }

    @Test("A document read front to back: members, elements, their kinds, and the strict syntax's errors at their offsets")
    func reader() throws {
        var reader = JSONReader(Array(#" {"a": [1, "x", {}], "b": -2.5e1} "#.utf8))
        try reader.beginObject()
        #expect(try reader.nextKey() == "a")
        try reader.beginArray()
        var kinds: [JSONReader.Kind] = []
        while try reader.nextElement() {
            kinds.append(reader.peek())
            _ = try reader.value()
        }
        #expect(kinds == [.number, .string, .object])
        #expect(try reader.nextKey() == "b")
        #expect(try reader.number() == -25)
        #expect(try reader.nextKey() == nil)
        try reader.end()
        /// Every value of a flat document, read whole, then its end.
        func walk(_ text: String) throws(JSONSyntaxError) {
            var reader = JSONReader(Array(text.utf8))
            if text.hasPrefix("[") {
                try reader.beginArray()
                while try reader.nextElement() { _ = try reader.value() }
            } else {
                try reader.beginObject()
                while try reader.nextKey() != nil { _ = try reader.value() }
            }
            try reader.end()
        }
        for (text, offset, message) in [("[1 2]", 3, "expected ',' or ']', found '2'"), ("{\"a\" 1}", 5, "expected ':' after the key, found '1'"),
                                        ("[,1]", 1, "expected a value, found ','"), ("{} {}", 3, "expected the end of the document, found '{'")] {
            #expect(throws: JSONSyntaxError.self) { try walk(text) }
            do { try walk(text) } catch { #expect((error.offset, error.message) == (offset, message), "\(text)") }
        }
    }
}
