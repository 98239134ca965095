@testable import Bus
import Foundation
import Testing

/// Payloads in these tests are "SENDER|TEXT" or "SENDER,OTHER,...|TEXT": the roster reads the sender before the bar,
/// and any participants it also answers for after the sender's commas.
private func roster(_ names: Set<String>) -> BusRoster {
    BusRoster(names: names) { payload in
        guard let bar = payload.firstIndex(of: UInt8(ascii: "|")) else { return nil }
        let names = String(decoding: payload[..<bar], as: UTF8.self).split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        return (names[0], Array(names.dropFirst()))
    }
}

private func payload(_ sender: String, _ text: String) -> [UInt8] { Array("\(sender)|\(text)".utf8) }

/// Everything `client` receives on "news" until `quiet` passes without a message.
private func drain(_ client: BusClient, quiet: Duration = .milliseconds(300)) throws -> [String] {
    var texts: [String] = []
    while let message = try client.receive(timeout: quiet) {
        if message.topic == "news" { texts.append(String(decoding: message.payload.first ?? [], as: UTF8.self)) }
    }
    return texts
}

@Suite("Bus security: CURVE, senders bound to connections, limits", .timeLimit(.minutes(1)))
struct BusSecurityTests {
    @Test("With CURVE, a client with a participant's key joins and speaks as it; an unknown key cannot join and is recorded; a known key cannot speak for another")
    func curve() throws {
        let context = try BusContext()
        let server = try BusKeyPair.generate(), alice = try BusKeyPair.generate(), stranger = try BusKeyPair.generate()
        var rules = BusRules(roster: roster(["alice", "bob"]))
        rules.authentication = BusAuthentication(server: server, participants: [alice.publicKey: ["alice"]])
        let broker = try Broker(context: context, rules: rules)
        defer { broker.stop() }
        let listener = try BusClient(context: context, endpoints: broker.endpoints, topics: ["news"],
                                     credentials: BusCredentials(keys: alice, serverKey: server.publicKey))
        #expect(try listener.join(topic: "hello/alice", payload: payload("alice", "hello"), timeout: .seconds(5)))
        let intruder = try BusClient(context: context, endpoints: broker.endpoints, topics: [],
                                     credentials: BusCredentials(keys: stranger, serverKey: server.publicKey))
        #expect(try intruder.join(topic: "hello/x", payload: payload("alice", "hello"), timeout: .milliseconds(500)) == false)
        let plain = try BusClient(context: context, endpoints: broker.endpoints, topics: [])  // no CURVE at all
        try plain.publish("news", payload("alice", "plain"))
        try listener.publish("news", payload("alice", "genuine"))
        try listener.publish("news", payload("bob", "forged by alice"))
        #expect(try drain(listener) == ["alice|genuine"])
        #expect(broker.refusedConnections.contains { $0.key == stranger.publicKey && $0.attempts >= 1 })
        #expect(broker.refusedConnections.contains { $0.reason.hasPrefix("failed CURVE handshake") && $0.attempts >= 1 },
                "the client without CURVE failed its handshake")
        #expect(broker.refusals.map { [$0.connection, $0.sender ?? "", $0.reason.rawValue] } == [["alice", "bob", "impersonation"]])
        #expect(broker.capture.all.allSatisfy { !String(decoding: $0.payload[0], as: UTF8.self).contains("forged") })
    }

    @Test("Without authentication, a sender belongs to the first connection that speaks for it; others are refused by reason, and a release frees the name")
    func bindingWithoutAuthentication() throws {
        let context = try BusContext()
        var rules = BusRules(roster: roster(["alice", "bob"]))
        rules.maxMessageBytes = 1_000
        let broker = try Broker(context: context, rules: rules)
        defer { broker.stop() }
        let alice = try BusClient(context: context, endpoints: broker.endpoints, topics: ["news"])
        #expect(try alice.join(topic: "hello/alice", payload: payload("alice", "hello"), timeout: .seconds(5)))
        let rogue = try BusClient(context: context, endpoints: broker.endpoints, topics: [])
        #expect(try rogue.join(topic: "hello/rogue", payload: payload("bob", "hello"), timeout: .seconds(5)))
        try rogue.publish("news", payload("alice", "impersonated"))
        try rogue.publish("news", payload("mallory", "unknown"))
        try rogue.publish("news", Array("no sender at all".utf8))
        try rogue.publish("news", payload("bob", "two"), [1])
        try rogue.publish("news", payload("bob", String(repeating: "x", count: 2_000)))
        try rogue.publish("news", payload("bob", "fine"))
        #expect(try drain(alice) == ["bob|fine"])
        let reasons = Dictionary(broker.refusals.map { ($0.reason, $0.messages) }, uniquingKeysWith: +)
        #expect(reasons == [.impersonation: 1, .unknownSender: 1, .unattributable: 2, .oversize: 1])
        #expect(broker.refusals.first { $0.reason == .impersonation }?.sender == "alice")
        #expect(Set(broker.refusals.map(\.connection)).count == 1, "every refusal is the rogue's connection")
        broker.release(sender: "alice")
        try rogue.publish("news", payload("alice", "after the release"))
        #expect(try drain(alice) == ["alice|after the release"])
    }

    @Test("A participant on the broker's local endpoints speaks for its name unchecked, and no network connection can take it, even first")
    func local() throws {
        let context = try BusContext()
        var rules = BusRules(roster: roster(["conductor", "h1"]))
        rules.local = ["conductor"]
        let broker = try Broker(context: context, rules: rules)
        defer { broker.stop() }
        let rogue = try BusClient(context: try BusContext(), endpoints: broker.endpoints, topics: [])
        #expect(try rogue.join(topic: "hello/h1", payload: payload("h1", "hello"), timeout: .seconds(5)))
        try rogue.publish("news", payload("conductor", "the rogue, first"))
        let conductor = try BusClient(context: context, endpoints: broker.localEndpoints, topics: ["news"])
        #expect(try conductor.join(topic: "hello/conductor", payload: payload("conductor", "hello"), timeout: .seconds(5)))
        try rogue.publish("news", payload("conductor", "the rogue, later"))
        try conductor.publish("news", payload("conductor", "genuine"))
        #expect(try drain(conductor) == ["conductor|genuine"])
        #expect(broker.refusals.map { "\($0.reason.rawValue) \($0.sender ?? "") \($0.messages)" } == ["impersonation conductor 2"])
    }

    @Test("A connection over its rate limit loses the excess, counted; the capture keeps messages up to its bound and counts the rest")
    func limits() throws {
        let context = try BusContext()
        var rules = BusRules(roster: roster(["alice"]))
        rules.rateLimit = 200
        rules.captureLimit = 4_000
        let broker = try Broker(context: context, rules: rules)
        defer { broker.stop() }
        let alice = try BusClient(context: context, endpoints: broker.endpoints, topics: ["news"])
        #expect(try alice.join(topic: "hello/alice", payload: payload("alice", "hello"), timeout: .seconds(5)))
        Thread.sleep(forTimeInterval: 1.1)  // a full bucket
        for k in 0..<2_000 { try alice.publish("news", payload("alice", "\(k)")) }
        let received = try drain(alice).count
        let limited = broker.refusals.filter { $0.reason == .rateLimit }.map(\.messages).reduce(0, +)
        #expect(received + limited == 2_000)
        #expect(received >= 200 && received < 600, "a burst of 200 and what 200 a second refills while it is sent")
        let overflow = broker.capture.overflow
        #expect(overflow.messages > 0 && broker.capture.count + overflow.messages >= received)
        #expect(broker.capture.all.map { $0.payload[0].count + $0.topic.utf8.count + 8 }.reduce(0, +) <= 4_000)
    }

    @Test("The gate's rate limit refills at its rate, and no network connection may speak for a local participant")
    func gate() {
        var rules = BusRules(roster: roster(["conductor", "h1"]))
        rules.rateLimit = 10
        rules.local = ["conductor"]
        var gate = BusGate(rules: rules)
        func admit(_ connection: String, _ sender: String, at time: Double) -> Bool {
            gate.admit(connection: connection, address: "127.0.0.1", frames: 2, bytes: 10, withPayload: { payload(sender, "x").withUnsafeBytes($0) }, at: time)
        }
        #expect((0..<15).filter { _ in admit("peer 1", "h1", at: 100) }.count == 10)
        #expect((0..<15).filter { _ in admit("peer 1", "h1", at: 100.5) }.count == 5)
        #expect(!admit("peer 2", "conductor", at: 200))
        #expect(gate.refusals.map { "\($0.reason.rawValue) \($0.messages)" } == ["rate-limit 15", "impersonation 1"])
        // A flooder that reconnects for every message leaves one summary per reason, not one per connection.
        for k in 0..<20_000 { _ = admit("peer \(k + 3)", "mallory", at: 300 + Double(k) / 1_000) }
        #expect(gate.refusals.map { "\($0.reason.rawValue) \($0.sender ?? "") \($0.messages)" }
                == ["rate-limit  15", "impersonation conductor 1", "unknown-sender mallory 20000"])
    }

    @Test("A message that answers for other participants too needs a connection that speaks for each: without CURVE the first to use every name holds them all, with CURVE the key's participants")
    func answersForOthers() throws {
        var gate = BusGate(rules: BusRules(roster: roster(["h1", "h2", "h3", "conductor"])))
        func admit(_ connection: String, _ claims: String) -> Bool {
            gate.admit(connection: connection, address: "127.0.0.1", frames: 2, bytes: 10, withPayload: { payload(claims, "x").withUnsafeBytes($0) }, at: 1)
        }
        #expect(admit("peer 1", "h1,h2"))  // claims both names
        #expect(!admit("peer 2", "h3,h2"))  // h2 is peer 1's: nothing of this message is admitted, h3 not claimed
        #expect(admit("peer 2", "h3"))
        #expect(!admit("peer 1", "h1,h3"))
        #expect(!admit("peer 1", "h1,mallory"))
        #expect(admit("peer 1", "h2,h1"))
        #expect(Set(gate.refusals.map { "\($0.connection) \($0.reason.rawValue) \($0.sender ?? "")" })
                == ["peer 2 impersonation h2", "peer 1 impersonation h3", "peer 1 unknown-sender mallory"])

        let key = "k1"
        var authenticated = BusGate(rules: BusRules(roster: roster(["h1", "h2", "h3"]),
                                                    authentication: BusAuthentication(server: try BusKeyPair.generate(), participants: [key: ["h1", "h2"]])))
        let connection = authenticated.name(connection: "127.0.0.1", curveKey: key, at: 1) ?? ""
        func admitAuthenticated(_ claims: String) -> Bool {
            authenticated.admit(connection: connection, address: "127.0.0.1", frames: 2, bytes: 10, withPayload: { payload(claims, "x").withUnsafeBytes($0) }, at: 1)
        }
        #expect(admitAuthenticated("h1,h2") && admitAuthenticated("h2,h1"))
        #expect(!admitAuthenticated("h1,h3"))
    }
}
