/// A household's name, as rigs, the bus and the reports write it (`h2`, `h19-28`, `s17`), or `pcc` for the point of
/// common coupling. Parsed once where it arrives (a file, the wire, a flag, an environment variable).
///
/// A name is one or more ASCII letters, digits, `-`, `_` and `.`: it is the tail of a topic (`bids/h2`), the head of a
/// device id (`h2/ev`), one item of the comma-separated `GRIDRIG_HOUSEHOLDS` and part of a CSV column, so a `/`, a
/// comma, a quote or a space in it would be read back as something else.
public struct HouseID: Hashable, Comparable, Sendable, TextualID {
    public let name: String

    /// Inlinable, so that each caller gets it specialized for its kind of text: a generic call asked the runtime for
    /// type metadata at every id, a tenth of decoding a bus message.
    @inlinable
    public init(parsing text: some StringProtocol) throws(IDError) {
        guard !text.isEmpty, text.utf8.allSatisfy(Self.isAllowed) else {
            throw IDError(expected: Self.expected, text: String(text))
        }
        name = String(text)
    }

    /// The point of common coupling's place: the "house" of the site meter (`pcc/meter`).
    public static let pcc: HouseID = "pcc"

    /// For names made by GridRig itself from allowed parts (`h12`, `s3`, `h4-2`); a name that breaks the rule is a
    /// bug here, not bad input.
    public init(checked name: String) {
        assert((try? HouseID(parsing: name)) != nil, "not a house name: \(name)")
        self.name = name
    }

    public var description: String { name }

    public static func < (lhs: HouseID, rhs: HouseID) -> Bool { lhs.name < rhs.name }

    /// What an error says a house name is.
    public static let expected = "a house name (letters, digits, '-', '_' or '.')"

    @usableFromInline
    static func isAllowed(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
             UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."): true
        default: false
        }
    }
}

/// A name written in source (`"h2"`), as swift-system's `FilePath` takes one: code, not input, so it is checked
/// only in debug builds.
extension HouseID: ExpressibleByStringLiteral {
    public init(stringLiteral name: String) { self.init(checked: name) }
}
