import Physics

/// Why a frame is not a message this participant accepts.
public struct MessageError: Error, Sendable, Equatable, CustomStringConvertible {
    public var fault: ErrorReport.Fault
    public var detail: String
    /// The sender, when the header could be read.
    public var sender: String?

    public var description: String { "\(fault.rawValue): \(detail)" }
}

extension Message {
    /// The JSON frame: the header fields (`v`, `type`, `interval`, `sender`, `seq`), then the body's, in one
    /// object with snake_case keys, always in the same order, so equal messages give equal bytes.
    public func encoded() -> [UInt8] {
        var writer = JSONWriter()
        writer.field("v", header.version)
        writer.field("type", body.type)
        writer.fieldIfPresent("interval", header.interval)
        writer.field("sender", header.sender)
        writer.field("seq", header.sequence)
        body.write(into: &writer)
        return writer.encoded
    }

    /// Reads one message from its topic and JSON frame. Unknown fields are ignored; an unknown version or type,
    /// a malformed frame, or a topic that does not fit the message is refused with the fault named.
    public static func decode(topic: String, payload: [UInt8]) throws(MessageError) -> Message {
        let root: JSONValue
        do { root = try JSONValue.parse(payload) } catch {
            throw MessageError(fault: .malformed, detail: "not valid JSON: \(error.message)", sender: nil)
        }
        guard case .object(let members) = root.kind else {
            throw MessageError(fault: .malformed, detail: "not a JSON object, found \(root.found)", sender: nil)
        }
        let fields = MessageFields(members: members, path: "", type: "header", sender: nil)
        let sender = try fields.optionalString("sender")
        let header = MessageFields(members: members, path: "", type: "header", sender: sender)
        guard let version = try header.optionalInt("v") else {
            throw MessageError(fault: .malformed, detail: "missing field \"v\" (the protocol version)", sender: sender)
        }
        guard version == Self.version else {
            throw MessageError(fault: .version, detail: "protocol version \(version) is not spoken here (this participant speaks \(Self.version))", sender: sender)
        }
        let type = try header.string("type")
        guard let sender else { throw MessageError(fault: .malformed, detail: "missing field \"sender\"", sender: nil) }
        let sequence = try header.int("seq")
        guard sequence >= 0 else { throw MessageError(fault: .malformed, detail: "seq: expected a count from 1, found \(sequence)", sender: sender) }
        let interval = try header.optionalInt("interval")
        guard let bodyType = MessageBodies.byType[type] else {
            throw MessageError(fault: .unknownType, detail: "unknown message type \"\(type)\"", sender: sender)
        }
        let body = try bodyType.init(reading: MessageFields(members: members, path: "", type: type, sender: sender))
        let message = Message(header: Header(version: version, interval: interval, sender: sender, sequence: UInt64(sequence)), body: body)
        guard message.topic.description == topic else {
            throw MessageError(fault: .malformed, detail: "a \(type) message from \"\(sender)\" belongs on topic \"\(message.topic)\", not \"\(topic)\"", sender: sender)
        }
        return message
    }
}

/// One JSON object of a frame, read field by field; every fault names the message type and the field's path.
public struct MessageFields {
    let members: [(key: String, value: JSONValue)]
    /// The object's path in the message, e.g. "bids[0]"; empty at the top.
    let path: String
    let type: String
    let sender: String?

    private func value(_ key: String) -> JSONValue? {
        guard let value = members.first(where: { $0.key == key })?.value else { return nil }
        if case .null = value.kind { return nil }
        return value
    }

    private func location(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    func mistyped(_ key: String, expected: String, found: String) -> MessageError {
        MessageError(fault: .malformed, detail: "\(type): \(location(key)): expected \(expected), found \(found)", sender: sender)
    }

    private func missing(_ key: String) -> MessageError {
        MessageError(fault: .malformed, detail: "\(type): missing field \"\(location(key))\"", sender: sender)
    }

    func optionalNumber(_ key: String) throws(MessageError) -> Double? {
        guard let value = value(key) else { return nil }
        guard case .number(let number) = value.kind else { throw mistyped(key, expected: "a number", found: value.found) }
        return number
    }

    func number(_ key: String) throws(MessageError) -> Double {
        guard let number = try optionalNumber(key) else { throw missing(key) }
        return number
    }

    func optionalInt(_ key: String) throws(MessageError) -> Int? {
        guard let number = try optionalNumber(key) else { return nil }
        guard number.rounded() == number, abs(number) < 9.0e15 else { throw mistyped(key, expected: "a whole number", found: "\(number)") }
        return Int(number)
    }

    func int(_ key: String) throws(MessageError) -> Int {
        guard let number = try optionalInt(key) else { throw missing(key) }
        return number
    }

    func optionalString(_ key: String) throws(MessageError) -> String? {
        guard let value = value(key) else { return nil }
        guard case .string(let text) = value.kind else { throw mistyped(key, expected: "a string", found: value.found) }
        return text
    }

    /// A string that must be one of an enumeration's values, when present; another is refused, naming the ones there are.
    func optionalChoice<Choice: RawRepresentable & CaseIterable>(_ key: String, of type: Choice.Type) throws(MessageError) -> Choice?
        where Choice.RawValue == String {
        guard value(key) != nil else { return nil }
        return try choice(key, of: type)
    }

    /// A string that must be one of an enumeration's values; another is refused, naming the ones there are.
    func choice<Choice: RawRepresentable & CaseIterable>(_ key: String, of type: Choice.Type) throws(MessageError) -> Choice
        where Choice.RawValue == String {
        let text = try string(key)
        guard let value = Choice(rawValue: text) else {
            throw mistyped(key, expected: Choice.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: " or "), found: "\"\(text)\"")
        }
        return value
    }

    func string(_ key: String) throws(MessageError) -> String {
        guard let text = try optionalString(key) else { throw missing(key) }
        return text
    }

    func optionalDeviceID(_ key: String) throws(MessageError) -> DeviceID? {
        guard let text = try optionalString(key) else { return nil }
        do { return try DeviceID(parsing: text) } catch { throw mistyped(key, expected: error.expected, found: "\"\(text)\"") }
    }

    func house(_ key: String) throws(MessageError) -> HouseID {
        let text = try string(key)
        do { return try HouseID(parsing: text) } catch { throw mistyped(key, expected: error.expected, found: "\"\(text)\"") }
    }

    func deviceID(_ key: String) throws(MessageError) -> DeviceID {
        guard let id = try optionalDeviceID(key) else { throw missing(key) }
        return id
    }

    /// A list of objects, each read as `MessageFields` with its index in the path.
    func objects(_ key: String) throws(MessageError) -> [MessageFields] {
        try list(key, expected: "a list") { element, path throws(MessageError) in
            guard case .object(let members) = element.kind else { throw mistyped(path, expected: "an object", found: element.found) }
            return MessageFields(members: members, path: location(path), type: type, sender: sender)
        }
    }

    /// A list of strings.
    func strings(_ key: String) throws(MessageError) -> [String] {
        try list(key, expected: "a list of strings") { element, path throws(MessageError) in
            guard case .string(let text) = element.kind else { throw mistyped(path, expected: "a string", found: element.found) }
            return text
        }
    }

    /// A list, each element read by `read` with its path (`key[index]`) for the errors.
    private func list<Element>(_ key: String, expected: String,
                               _ read: (JSONValue, String) throws(MessageError) -> Element) throws(MessageError) -> [Element] {
        guard let value = value(key) else { throw missing(key) }
        guard case .array(let elements) = value.kind else { throw mistyped(key, expected: expected, found: value.found) }
        var list: [Element] = []
        for (index, element) in elements.enumerated() { list.append(try read(element, "\(key)[\(index)]")) }
        return list
    }

    /// An object whose values are all numbers or null, each name once.
    func optionalNumbers(_ key: String) throws(MessageError) -> [String: Double?] {
        guard let value = value(key) else { throw missing(key) }
        guard case .object(let members) = value.kind else { throw mistyped(key, expected: "an object of numbers or nulls", found: value.found) }
        var numbers: [String: Double?] = [:]
        for (name, member) in members {
            guard numbers[name] == nil else { throw mistyped(key, expected: "each name once", found: "\"\(name)\" twice") }
            switch member.kind {
            case .number(let number): numbers[name] = .some(number)
            case .null: numbers[name] = .some(nil)
            default: throw mistyped("\(key).\(name)", expected: "a number or null", found: member.found)
            }
        }
        return numbers
    }

    /// An object whose values are all numbers.
    func numbers(_ key: String) throws(MessageError) -> [String: Double] {
        guard let value = value(key) else { throw missing(key) }
        guard case .object(let members) = value.kind else { throw mistyped(key, expected: "an object of numbers", found: value.found) }
        var numbers: [String: Double] = [:]
        for (name, member) in members {
            guard case .number(let number) = member.kind else { throw mistyped("\(key).\(name)", expected: "a number", found: member.found) }
            numbers[name] = number
        }
        return numbers
    }
}

extension Message {
    /// The `sender` a payload frame claims: what the broker binds to a connection. Nil when the frame is not an
    /// object whose `sender` is a string, or names `sender` twice (a receiver must not read another sender than the
    /// broker did).
    public static func sender(of payload: UnsafeRawBufferPointer) -> String? { claims(of: payload)?.sender }

    /// Whom a payload frame speaks for: its `sender`, and in a `time-requests` message each participant it answers
    /// for (the names in its `requests`). The broker checks the connection speaks for every one. It scans the
    /// top-level object's keys and skips the other values without building them (the broker reads every message).
    /// Nil where a receiver could read other names than the scan: a `sender`, `type` or `requests` named twice, or
    /// a name or type with escapes. The rest of the frame is the receivers' to judge.
    public static func claims(of payload: UnsafeRawBufferPointer) -> (sender: String, alsoFor: [String])? {
        var scanner = SenderScanner(bytes: payload)
        return scanner.claims()
    }
}

/// A forward-only scan of a JSON object's top-level keys for `Message.claims(of:)`.
private struct SenderScanner {
    let bytes: UnsafeRawBufferPointer
    var index = 0
    static let senderKey = Array("sender".utf8), typeKey = Array("type".utf8), requestsKey = Array("requests".utf8)
    static let answersForOthers = Array(TimeRequests.type.utf8)

    mutating func claims() -> (sender: String, alsoFor: [String])? {
        skipWhitespace()
        guard take(UInt8(ascii: "{")) else { return nil }
        var sender: String?, type: UnsafeRawBufferPointer.SubSequence?, requests: [String]?
        skipWhitespace()
        if take(UInt8(ascii: "}")) { return nil }
        while true {
            skipWhitespace()
            guard let key = string() else { return nil }
            skipWhitespace()
            guard take(UInt8(ascii: ":")) else { return nil }
            skipWhitespace()
            if key.elementsEqual(Self.senderKey) {
                guard sender == nil, index < bytes.count, bytes[index] == UInt8(ascii: "\""), let value = string() else { return nil }
                sender = String(decoding: value, as: UTF8.self)
            } else if key.elementsEqual(Self.typeKey), index < bytes.count, bytes[index] == UInt8(ascii: "\"") {
                guard type == nil, let value = string() else { return nil }
                type = value
            } else if key.elementsEqual(Self.requestsKey), index < bytes.count, bytes[index] == UInt8(ascii: "{") {
                guard requests == nil, let names = keys() else { return nil }
                requests = names
            } else {
                guard skipValue() else { return nil }
            }
            skipWhitespace()
            if take(UInt8(ascii: ",")) { continue }
            guard take(UInt8(ascii: "}")), let sender else { return nil }
            return (sender, type?.elementsEqual(Self.answersForOthers) == true ? requests ?? [] : [])
        }
    }

    /// The keys of the object here, its values skipped.
    mutating func keys() -> [String]? {
        guard take(UInt8(ascii: "{")) else { return nil }
        var keys: [String] = []
        skipWhitespace()
        if take(UInt8(ascii: "}")) { return keys }
        while true {
            skipWhitespace()
            guard let key = string() else { return nil }
            keys.append(String(decoding: key, as: UTF8.self))
            skipWhitespace()
            guard take(UInt8(ascii: ":")) else { return nil }
            skipWhitespace()
            guard skipValue() else { return nil }
            skipWhitespace()
            if take(UInt8(ascii: ",")) { continue }
            return take(UInt8(ascii: "}")) ? keys : nil
        }
    }

    mutating func skipWhitespace() {
        while index < bytes.count, bytes[index] == 0x20 || bytes[index] == 0x09 || bytes[index] == 0x0A || bytes[index] == 0x0D { index += 1 }
    }

    mutating func take(_ byte: UInt8) -> Bool {
        guard index < bytes.count, bytes[index] == byte else { return false }
        index += 1
        return true
    }

    /// A string's bytes between its quotes; nil if it does not close, or holds an escape (no participant name
    /// needs one, and decoding it here would be a second decoder to keep in step with the first).
    mutating func string() -> UnsafeRawBufferPointer.SubSequence? {
        guard take(UInt8(ascii: "\"")) else { return nil }
        let start = index
        while index < bytes.count {
            switch bytes[index] {
            case UInt8(ascii: "\""):
                index += 1
                return bytes[start..<index - 1]
            case UInt8(ascii: "\\"): return nil
            default: index += 1
            }
        }
        return nil
    }

    /// Skips one value: a string (escapes allowed), a nested object or list, or a bare scalar.
    mutating func skipValue() -> Bool {
        var depth = 0
        repeat {
            guard index < bytes.count else { return false }
            switch bytes[index] {
            case UInt8(ascii: "\""):
                index += 1
                while index < bytes.count, bytes[index] != UInt8(ascii: "\"") { index += bytes[index] == UInt8(ascii: "\\") ? 2 : 1 }
                guard index < bytes.count else { return false }
                index += 1
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                depth += 1
                index += 1
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                guard depth > 0 else { return true }  // the enclosing object's end: a scalar ended here
                depth -= 1
                index += 1
            case UInt8(ascii: ","):
                if depth == 0 { return true }
                index += 1
            default:
                index += 1
            }
        } while depth > 0 || (index < bytes.count && ![UInt8(ascii: ","), UInt8(ascii: "}")].contains(bytes[index]))
        return true
    }
}
