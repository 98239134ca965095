import Foundation

/// Why a frame is not a message this participant accepts.
public struct MessageError: Error, Sendable, Equatable, CustomStringConvertible {
    public var fault: ErrorReport.Fault
    public var detail: String
    /// The sender, when the header could be read.
    public var sender: String?

    public var description: String { "\(fault.rawValue): \(detail)" }
}

extension Message {
    /// The JSON frame: header fields (`v`, `type`, `interval`, `sender`, `seq`) and body fields in one object,
    /// snake_case keys, sorted so equal messages give equal bytes.
    public func encoded() -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Every body is plain Codable data, so encoding cannot fail.
        return Array((try? encoder.encode(Wire(message: self))) ?? Data())
    }

    /// Reads one message from its topic and JSON frame. Unknown fields are ignored; an unknown version or type,
    /// a malformed frame, or a topic that does not fit the message is refused with the fault named.
    public static func decode(topic: String, payload: [UInt8]) throws(MessageError) -> Message {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        let data = Data(payload)
        let header: WireHeader
        do { header = try decoder.decode(WireHeader.self, from: data) } catch {
            // The header's fields are all optional, so only a frame that is not a JSON object fails here.
            throw MessageError(fault: .malformed, detail: "not a JSON object", sender: nil)
        }
        guard let version = header.v else { throw MessageError(fault: .malformed, detail: "missing field \"v\" (the protocol version)", sender: header.sender) }
        guard version == Self.version else {
            throw MessageError(fault: .version, detail: "protocol version \(version) is not spoken here (this participant speaks \(Self.version))", sender: header.sender)
        }
        for (name, present) in [("type", header.type != nil), ("sender", header.sender != nil), ("seq", header.seq != nil)] where !present {
            throw MessageError(fault: .malformed, detail: "missing field \"\(name)\"", sender: header.sender)
        }
        let sender = header.sender!
        let body: Body
        do {
            body = try Self.body(type: header.type!, decoder: decoder, data: data, sender: sender)
        } catch let error as MessageError {
            throw error
        } catch {
            throw MessageError(fault: .malformed, detail: "\(header.type!): \(Self.explain(error))", sender: sender)
        }
        let message = Message(header: Header(version: version, interval: header.interval, sender: sender, sequence: header.seq!), body: body)
        guard message.topic == topic else {
            throw MessageError(fault: .malformed, detail: "a \(body.type) message from \"\(sender)\" belongs on topic \"\(message.topic)\", not \"\(topic)\"", sender: sender)
        }
        return message
    }

    private static func body(type: String, decoder: JSONDecoder, data: Data, sender: String) throws -> Body {
        switch type {
        case "hello": return .hello(try decoder.decode(Hello.self, from: data))
        case "ready": return .ready
        case "goodbye": return .goodbye(try decoder.decode(Goodbye.self, from: data))
        case "tick": return .tick(try decoder.decode(Tick.self, from: data))
        case "interval": return .interval(try decoder.decode(IntervalStart.self, from: data))
        case "gate": return .gate
        case "telemetry": return .telemetry(try decoder.decode(Telemetry.self, from: data))
        case "bids": return .bids(try decoder.decode(Bids.self, from: data))
        case "clearing": return .clearing(try decoder.decode(ClearingResult.self, from: data))
        case "awards": return .awards(try decoder.decode(Awards.self, from: data))
        case "dispatch": return .dispatch(try decoder.decode(DispatchReport.self, from: data))
        case "error": return .error(try decoder.decode(ErrorReport.self, from: data))
        default: throw MessageError(fault: .unknownType, detail: "unknown message type \"\(type)\"", sender: sender)
        }
    }

    /// A decoding error as "field path: what was wrong".
    private static func explain(_ error: any Error) -> String {
        func path(_ keys: [any CodingKey]) -> String {
            keys.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined().drop { $0 == "." }.description
        }
        switch error as? DecodingError {
        case .keyNotFound(let key, let context)?: return "missing field \"\(path(context.codingPath + [key]))\""
        case .typeMismatch(let type, let context)?: return "\(path(context.codingPath)): expected \(type)"
        case .valueNotFound(let type, let context)?: return "\(path(context.codingPath)): expected \(type), found null"
        case .dataCorrupted(let context)?: return "\(path(context.codingPath)): \(context.debugDescription)"
        default: return "\(error)"
        }
    }
}

/// The header as it may arrive: every field optional, so each absence is named.
private struct WireHeader: Decodable {
    var v: Int?
    var type: String?
    var interval: Int?
    var sender: String?
    var seq: UInt64?
}

private struct Wire: Encodable {
    let message: Message

    enum Key: String, CodingKey { case v, type, interval, sender, seq }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Key.self)
        try container.encode(message.header.version, forKey: .v)
        try container.encode(message.body.type, forKey: .type)
        try container.encodeIfPresent(message.header.interval, forKey: .interval)
        try container.encode(message.header.sender, forKey: .sender)
        try container.encode(message.header.sequence, forKey: .seq)
        switch message.body {
        case .hello(let body): try body.encode(to: encoder)
        case .goodbye(let body): try body.encode(to: encoder)
        case .tick(let body): try body.encode(to: encoder)
        case .interval(let body): try body.encode(to: encoder)
        case .telemetry(let body): try body.encode(to: encoder)
        case .bids(let body): try body.encode(to: encoder)
        case .clearing(let body): try body.encode(to: encoder)
        case .awards(let body): try body.encode(to: encoder)
        case .dispatch(let body): try body.encode(to: encoder)
        case .error(let body): try body.encode(to: encoder)
        case .ready, .gate: break
        }
    }
}
