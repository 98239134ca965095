/// A device, or a bid, of one house: `<house>/<name>` (`h2/ev`, `h1/battery`, `pcc/meter`), as rigs, the bus and
/// the reports write it. Parsed once where it arrives (a file, the wire, a flag); its parts are never looked for again.
public struct DeviceID: Hashable, Sendable, CustomStringConvertible {
    /// The household's name, as it is on the bus (`h2`), or `pcc` for a meter at the point of common coupling.
    public let house: String
    /// The device's own name within its house (`ev`, `pv`), or a bid's kind (`base-load`).
    public let name: String

    public init(house: String, name: String) {
        self.house = house
        self.name = name
    }

    /// The one place a "/" is looked for: the house is what comes before the first, the name what follows it.
    public init(parsing text: some StringProtocol) throws(DeviceIDError) {
        guard let slash = text.firstIndex(of: "/"), slash != text.startIndex, text.index(after: slash) != text.endIndex else {
            throw DeviceIDError(text: String(text))
        }
        self.init(house: String(text[..<slash]), name: String(text[text.index(after: slash)...]))
    }

    public var description: String { "\(house)/\(name)" }
}

/// Text that is not a device id: no "/", or nothing before or after it.
public struct DeviceIDError: Error, Sendable, Equatable, CustomStringConvertible {
    public let text: String

    public var description: String { "expected a device id \"<house>/<device>\", found \"\(text)\"" }
}

/// Written as its text (`"h2/ev"`), as in `GRIDRIG_DEVICES`; text that is not an id fails to decode, naming it.
extension DeviceID: Codable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        do { try self.init(parsing: text) } catch { throw DecodingError.dataCorruptedError(in: container, debugDescription: error.description) }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
