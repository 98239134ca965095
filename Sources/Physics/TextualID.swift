/// An id that is text of a given form (a house's name, a device's id), parsed by one initializer where it arrives.
/// In JSON (`GRIDRIG_DEVICES`) it is its text; text that does not parse fails to decode, naming it.
public protocol TextualID: Codable, CustomStringConvertible {
    init(parsing text: some StringProtocol) throws(IDError)
}

extension TextualID {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        do { try self.init(parsing: try container.decode(String.self)) } catch let error as IDError {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: error.description)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

/// Text that is not the id it should be: what was expected, and what was found.
public struct IDError: Error, Sendable, Equatable, CustomStringConvertible {
    public let expected: String
    public let text: String

    public var description: String { "expected \(expected), found \"\(text)\"" }

    @usableFromInline
    init(expected: String, text: String) {
        self.expected = expected
        self.text = text
    }
}
