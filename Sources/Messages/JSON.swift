/// A strict JSON value (RFC 8259) that remembers where it starts, so errors in a file a user wrote name its line and
/// column. GridRig reads bus frames and bids files with it: Foundation's readers say only "not valid JSON", and
/// they are 5-10x slower, which a bus of small messages feels on every hop.
public struct JSONValue: Sendable {
    public enum Kind: Sendable {
        case object([(key: String, value: JSONValue)])
        case array([JSONValue])
        case string(String)
        case number(Double)
        case bool(Bool)
        case null
    }

    public let kind: Kind
    /// Byte offset of the value's first character.
    public let offset: Int

    /// What a message says was found instead of the expected value.
    public var found: String {
        switch kind {
        case .object: "an object"
        case .array: "a list"
        case .string(let text): "\"\(text)\""
        case .number(let number): "\(number)"
        case .bool(let flag): "\(flag)"
        case .null: "null"
        }
    }

    /// Parses a whole document; trailing content other than whitespace is an error.
    public static func parse(_ bytes: [UInt8]) throws(JSONSyntaxError) -> JSONValue {
        var parser = Parser(bytes: bytes)
        let value = try parser.value(depth: 0)
        parser.skipWhitespace()
        guard parser.index == bytes.count else { throw parser.fail("expected the end of the document") }
        return value
    }
}

/// Reads a JSON document front to back without building a tree, for documents too big for one (a bids file of a
/// million bids): the caller walks it container by container and reads each value as the kind it expects, and the
/// syntax is as strict as `JSONValue.parse`'s.
public struct JSONReader {
    public enum Kind: Sendable { case object, array, string, number, other }

    private var parser: Parser
    /// The container just begun has had no member read yet, so no ',' may come before the next one.
    private var opened = false

    public init(_ bytes: [UInt8]) { parser = Parser(bytes: bytes) }

    /// Byte offset of the next value.
    public mutating func offset() -> Int {
        parser.skipWhitespace()
        return parser.index
    }

    /// What the next value is, without reading it.
    public mutating func peek() -> Kind {
        guard offset() < parser.bytes.count else { return .other }
        switch parser.bytes[parser.index] {
        case UInt8(ascii: "{"): return .object
        case UInt8(ascii: "["): return .array
        case UInt8(ascii: "\""): return .string
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number
        default: return .other
        }
    }

    /// Enters the object that comes next.
    public mutating func beginObject() throws(JSONSyntaxError) { try begin("{", "expected an object") }

    /// Enters the list that comes next.
    public mutating func beginArray() throws(JSONSyntaxError) { try begin("[", "expected a list") }

    private mutating func begin(_ bracket: Unicode.Scalar, _ expected: String) throws(JSONSyntaxError) {
        guard offset() < parser.bytes.count, parser.bytes[parser.index] == UInt8(ascii: bracket) else { throw parser.fail(expected) }
        parser.index += 1
        opened = true
    }

    /// The next key of the object being read, leaving its value to be read next; nil at the object's end.
    public mutating func nextKey() throws(JSONSyntaxError) -> String? {
        switch try nextKey(among: []) {
        case .other(let key): key
        case .known, nil: nil
        }
    }

    /// A key as `nextKey(among:)` reads it.
    public enum Key: Equatable, Sendable {
        /// Its position among the keys expected.
        case known(Int)
        case other(String)
    }

    /// The next key of the object being read, by its position among `keys` when it is one of them, with no String
    /// made (a bids file has three keys a bid); nil at the object's end.
    public mutating func nextKey(among keys: [[UInt8]]) throws(JSONSyntaxError) -> Key? {
        guard try another("}") else { return nil }
        guard offset() < parser.bytes.count, parser.bytes[parser.index] == UInt8(ascii: "\"") else { throw parser.fail("expected a key in double quotes") }
        let start = parser.index + 1
        var end = start
        while end < parser.bytes.count, parser.bytes[end] != UInt8(ascii: "\""), parser.bytes[end] != UInt8(ascii: "\\"), parser.bytes[end] >= 0x20 { end += 1 }
        let plain = end < parser.bytes.count && parser.bytes[end] == UInt8(ascii: "\"")
        let key: Key
        if plain, let known = keys.firstIndex(where: { $0.elementsEqual(parser.bytes[start..<end]) }) {
            parser.index = end + 1
            key = .known(known)
        } else {
            key = .other(try parser.string())
        }
        parser.skipWhitespace()
        guard parser.index < parser.bytes.count, parser.bytes[parser.index] == UInt8(ascii: ":") else { throw parser.fail("expected ':' after the key") }
        parser.index += 1
        return key
    }

    /// Whether the list being read has another element, which is then read next.
    public mutating func nextElement() throws(JSONSyntaxError) -> Bool { try another("]") }

    /// Past the ',' before the next member, or past the container's closing bracket (false).
    private mutating func another(_ close: Unicode.Scalar) throws(JSONSyntaxError) -> Bool {
        let first = opened
        opened = false
        guard offset() < parser.bytes.count else { throw parser.fail("expected ',' or '\(close)'") }
        if parser.bytes[parser.index] == UInt8(ascii: close) {
            parser.index += 1
            return false
        }
        guard !first else { return true }
        guard parser.bytes[parser.index] == UInt8(ascii: ",") else { throw parser.fail("expected ',' or '\(close)'") }
        parser.index += 1
        return true
    }

    public mutating func string() throws(JSONSyntaxError) -> String {
        guard peek() == .string else { throw parser.fail("expected a string") }
        return try parser.string()
    }

    public mutating func number() throws(JSONSyntaxError) -> Double {
        guard peek() == .number else { throw parser.fail("expected a number") }
        return try parser.number()
    }

    /// The next value whole, whatever it is (to say what was found where something else was expected).
    public mutating func value() throws(JSONSyntaxError) -> JSONValue { try parser.value(depth: 0) }

    /// Checks that nothing but whitespace follows.
    public mutating func end() throws(JSONSyntaxError) {
        guard offset() == parser.bytes.count else { throw parser.fail("expected the end of the document") }
    }
}

/// A syntax error at a byte offset.
public struct JSONSyntaxError: Error, Sendable {
    public let offset: Int
    public let message: String
}

/// Line and column (from 1) of a byte offset, counting columns in characters.
public func position(of offset: Int, in bytes: [UInt8]) -> (line: Int, column: Int) {
    var line = 1, lineStart = 0
    for index in 0..<min(offset, bytes.count) where bytes[index] == UInt8(ascii: "\n") {
        line += 1
        lineStart = index + 1
    }
    let column = String(decoding: bytes[lineStart..<min(offset, bytes.count)], as: UTF8.self).count + 1
    return (line, column)
}

private struct Parser {
    let bytes: [UInt8]
    var index = 0
    /// Deeper nesting is refused rather than risking the stack.
    static let maximumDepth = 512

    init(bytes: [UInt8]) { self.bytes = bytes }

    func fail(_ message: String, at offset: Int? = nil) -> JSONSyntaxError {
        let at = offset ?? index
        guard at < bytes.count else { return JSONSyntaxError(offset: at, message: "\(message), found the end of the file") }
        let character = String(decoding: bytes[at..<min(at + 1, bytes.count)], as: UTF8.self)
        return JSONSyntaxError(offset: at, message: "\(message), found '\(character)'")
    }

    mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return
            }
        }
    }

    mutating func value(depth: Int) throws(JSONSyntaxError) -> JSONValue {
        skipWhitespace()
        guard depth < Self.maximumDepth else { throw fail("nesting deeper than \(Self.maximumDepth) levels") }
        let start = index
        guard index < bytes.count else { throw fail("expected a value") }
        switch bytes[index] {
        case UInt8(ascii: "{"):
            index += 1
            var members: [(key: String, value: JSONValue)] = []
            skipWhitespace()
            if index < bytes.count, bytes[index] == UInt8(ascii: "}") { index += 1; return JSONValue(kind: .object(members), offset: start) }
            while true {
                skipWhitespace()
                guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { throw fail("expected a key in double quotes") }
                let key = try string()
                skipWhitespace()
                guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { throw fail("expected ':' after the key") }
                index += 1
                members.append((key, try value(depth: depth + 1)))
                skipWhitespace()
                guard index < bytes.count else { throw fail("expected ',' or '}'") }
                if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
                guard bytes[index] == UInt8(ascii: "}") else { throw fail("expected ',' or '}'") }
                index += 1
                return JSONValue(kind: .object(members), offset: start)
            }
        case UInt8(ascii: "["):
            index += 1
            var elements: [JSONValue] = []
            skipWhitespace()
            if index < bytes.count, bytes[index] == UInt8(ascii: "]") { index += 1; return JSONValue(kind: .array(elements), offset: start) }
            while true {
                elements.append(try value(depth: depth + 1))
                skipWhitespace()
                guard index < bytes.count else { throw fail("expected ',' or ']'") }
                if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
                guard bytes[index] == UInt8(ascii: "]") else { throw fail("expected ',' or ']'") }
                index += 1
                return JSONValue(kind: .array(elements), offset: start)
            }
        case UInt8(ascii: "\""):
            return JSONValue(kind: .string(try string()), offset: start)
        case UInt8(ascii: "t"): try literal("true"); return JSONValue(kind: .bool(true), offset: start)
        case UInt8(ascii: "f"): try literal("false"); return JSONValue(kind: .bool(false), offset: start)
        case UInt8(ascii: "n"): try literal("null"); return JSONValue(kind: .null, offset: start)
        default:
            return JSONValue(kind: .number(try number()), offset: start)
        }
    }

    mutating func literal(_ word: String) throws(JSONSyntaxError) {
        let utf8 = Array(word.utf8)
        guard index + utf8.count <= bytes.count, Array(bytes[index..<index + utf8.count]) == utf8 else { throw fail("expected a value") }
        index += utf8.count
    }

    /// Powers of ten a Double holds exactly.
    private static let exactPowersOfTen: [Double] = [1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                                      1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22]

    /// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?, finite as a Double.
    ///
    /// Up to 2^53 of digits times an exact power of ten is one correctly rounded product or quotient (Clinger's
    /// fast path): every price and quantity a bids file holds. Other numbers go through Double's own reader.
    mutating func number() throws(JSONSyntaxError) -> Double {
        let start = index
        var mantissa: UInt64 = 0, exact = true
        func digits() -> Int {
            let first = index
            while index < bytes.count, bytes[index] >= UInt8(ascii: "0"), bytes[index] <= UInt8(ascii: "9") {
                if mantissa < 1 << 53 { mantissa = mantissa * 10 + UInt64(bytes[index] - UInt8(ascii: "0")) } else { exact = false }
                index += 1
            }
            return index - first
        }
        let negative = index < bytes.count && bytes[index] == UInt8(ascii: "-")
        if negative { index += 1 }
        let integerStart = index
        guard digits() > 0 else { throw fail("expected a value", at: integerStart) }
        if bytes[integerStart] == UInt8(ascii: "0"), index - integerStart > 1 { throw fail("expected no leading zero", at: integerStart) }
        var scale = 0
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            let fraction = digits()
            guard fraction > 0 else { throw fail("expected a digit after '.'") }
            scale = -fraction
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            index += 1
            exact = false
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
            guard digits() > 0 else { throw fail("expected a digit in the exponent") }
        }
        if exact, mantissa <= 1 << 53, scale >= -22 {
            let magnitude = Double(mantissa) / Self.exactPowersOfTen[-scale]
            return negative ? -magnitude : magnitude
        }
        let text = String(decoding: bytes[start..<index], as: UTF8.self)
        guard let number = Double(text), number.isFinite else {
            throw JSONSyntaxError(offset: start, message: "expected a number a double can hold, found \(text)")
        }
        return number
    }

    mutating func string() throws(JSONSyntaxError) -> String {
        let open = index
        index += 1
        var plainStart = index
        var decoded: [UInt8] = []
        while true {
            guard index < bytes.count else { throw fail("expected a closing '\"' for the string opened", at: open) }
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                let text = decoded.isEmpty ? String(decoding: bytes[plainStart..<index], as: UTF8.self)
                    : String(decoding: decoded + bytes[plainStart..<index], as: UTF8.self)
                index += 1
                return text
            }
            guard byte >= 0x20 else { throw fail("expected no control character inside a string") }
            guard byte == UInt8(ascii: "\\") else { index += 1; continue }
            decoded += bytes[plainStart..<index]
            index += 1
            guard index < bytes.count else { throw fail("expected an escape") }
            switch bytes[index] {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): decoded.append(bytes[index])
            case UInt8(ascii: "b"): decoded.append(0x08)
            case UInt8(ascii: "f"): decoded.append(0x0C)
            case UInt8(ascii: "n"): decoded.append(0x0A)
            case UInt8(ascii: "r"): decoded.append(0x0D)
            case UInt8(ascii: "t"): decoded.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = try hex4()
                if (0xD800..<0xDC00).contains(scalar) {  // a high surrogate must pair with a low one
                    guard index + 2 < bytes.count, bytes[index + 1] == UInt8(ascii: "\\"), bytes[index + 2] == UInt8(ascii: "u") else {
                        throw fail("expected a low surrogate after a high one", at: index + 1)
                    }
                    index += 2
                    let low = try hex4()
                    guard (0xDC00..<0xE000).contains(low) else { throw fail("expected a low surrogate after a high one") }
                    scalar = 0x10000 + (scalar - 0xD800) << 10 + (low - 0xDC00)
                }
                guard let unicode = Unicode.Scalar(scalar) else { throw fail("expected a Unicode scalar value") }
                decoded += Array(String(Character(unicode)).utf8)
            default:
                throw fail("expected an escape (\\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)")
            }
            index += 1
            plainStart = index
        }
    }

    /// Reads the four hex digits after "\u", leaving `index` on the last one.
    mutating func hex4() throws(JSONSyntaxError) -> UInt32 {
        guard index + 4 < bytes.count else { throw fail("expected four hex digits") }
        var value: UInt32 = 0
        for offset in 1...4 {
            guard let digit = Character(Unicode.Scalar(bytes[index + offset])).hexDigitValue else {
                throw fail("expected four hex digits", at: index + offset)
            }
            value = value << 4 | UInt32(digit)
        }
        index += 4
        return value
    }
}

/// Writes one JSON object, keys in the order given, as UTF-8 bytes (appending bytes costs a fraction of
/// appending to a String, and a bus message is bytes anyway).
public struct JSONWriter: Sendable {
    private var buffer: [UInt8]
    private var first = true

    public init() {
        buffer = [UInt8(ascii: "{")]
        buffer.reserveCapacity(128)
    }

    private mutating func key(_ name: String) {
        if !first { buffer.append(UInt8(ascii: ",")) }
        first = false
        buffer.append(UInt8(ascii: "\""))
        buffer.append(contentsOf: name.utf8)
        buffer.append(UInt8(ascii: "\""))
        buffer.append(UInt8(ascii: ":"))
    }

    public mutating func field(_ name: String, _ value: Double) {
        key(name)
        Self.append(value, to: &buffer)
    }

    /// A number as JSON text: null for what JSON cannot hold (infinities, NaN), else the shortest text that reads
    /// back as the same Double. Whole ten-thousandths (prices and energies as markets and agents round them) are
    /// written digit by digit, at a fraction of the cost of the shortest-representation printer, which writes every
    /// other number.
    public static func append(_ value: Double, to buffer: inout [UInt8]) {
        guard value.isFinite else { return buffer.append(contentsOf: "null".utf8) }
        let scaled = (value * 10_000).rounded()
        guard abs(scaled) < 1e15, scaled / 10_000 == value else { return buffer.append(contentsOf: "\(value)".utf8) }
        if value < 0 { buffer.append(UInt8(ascii: "-")) }
        let units = Int(abs(scaled))
        appendDigits(units / 10_000, to: &buffer)
        var fraction = units % 10_000, digits = 4
        guard fraction > 0 else { return }
        while fraction % 10 == 0 { fraction /= 10; digits -= 1 }
        buffer.append(UInt8(ascii: "."))
        for place in (0..<digits).reversed() { buffer.append(UInt8(ascii: "0") + UInt8(fraction / powersOfTen[place] % 10)) }
    }

    private static let powersOfTen = [1, 10, 100, 1_000]

    private static func appendDigits(_ value: Int, to buffer: inout [UInt8]) {
        guard value >= 10 else { return buffer.append(UInt8(ascii: "0") + UInt8(value)) }
        appendDigits(value / 10, to: &buffer)
        buffer.append(UInt8(ascii: "0") + UInt8(value % 10))
    }

    public mutating func field(_ name: String, _ value: Int) {
        key(name)
        if value < 0 { buffer.append(contentsOf: String(value).utf8) } else { Self.appendDigits(value, to: &buffer) }
    }

    public mutating func field(_ name: String, _ value: UInt64) {
        key(name)
        if value > UInt64(Int.max) { buffer.append(contentsOf: String(value).utf8) } else { Self.appendDigits(Int(value), to: &buffer) }
    }

    public mutating func field(_ name: String, _ value: String) {
        key(name)
        Self.appendQuoted(value, to: &buffer)
    }

    /// A value already written as JSON (an object or a list).
    public mutating func field(_ name: String, json: String) {
        key(name)
        buffer.append(contentsOf: json.utf8)
    }

    /// A list of objects, each written by its own writer.
    public mutating func field(_ name: String, objects: [JSONWriter]) {
        key(name)
        buffer.append(UInt8(ascii: "["))
        for (index, object) in objects.enumerated() {
            if index > 0 { buffer.append(UInt8(ascii: ",")) }
            buffer.append(contentsOf: object.buffer)
            buffer.append(UInt8(ascii: "}"))
        }
        buffer.append(UInt8(ascii: "]"))
    }

    /// A list of strings.
    public mutating func field(_ name: String, strings: [String]) {
        key(name)
        buffer.append(UInt8(ascii: "["))
        for (index, text) in strings.enumerated() {
            if index > 0 { buffer.append(UInt8(ascii: ",")) }
            Self.appendQuoted(text, to: &buffer)
        }
        buffer.append(UInt8(ascii: "]"))
    }

    /// An object of numbers or nulls, its members in the order given.
    public mutating func field(_ name: String, optionalNumbers members: [(key: String, value: Double?)]) {
        key(name)
        buffer.append(UInt8(ascii: "{"))
        for (index, member) in members.enumerated() {
            if index > 0 { buffer.append(UInt8(ascii: ",")) }
            Self.appendQuoted(member.key, to: &buffer)
            buffer.append(UInt8(ascii: ":"))
            if let value = member.value { Self.append(value, to: &buffer) } else { buffer.append(contentsOf: "null".utf8) }
        }
        buffer.append(UInt8(ascii: "}"))
    }

    public mutating func fieldIfPresent(_ name: String, _ value: Double?) { if let value { field(name, value) } }
    public mutating func fieldIfPresent(_ name: String, _ value: Int?) { if let value { field(name, value) } }
    public mutating func fieldIfPresent(_ name: String, _ value: String?) { if let value { field(name, value) } }

    /// The object as UTF-8 bytes.
    public var encoded: [UInt8] { buffer + [UInt8(ascii: "}")] }

    public var json: String { String(decoding: encoded, as: UTF8.self) }

    /// A list of already-written JSON values.
    public static func list(_ items: some Sequence<String>) -> String { "[" + items.joined(separator: ",") + "]" }

    /// A JSON string literal, escaping what RFC 8259 requires.
    public static func quoted(_ text: String) -> String {
        var bytes: [UInt8] = []
        appendQuoted(text, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// `text` as a JSON string literal, escaping what RFC 8259 requires.
    public static func appendQuoted(_ text: String, to bytes: inout [UInt8]) {
        bytes.append(UInt8(ascii: "\""))
        if text.utf8.allSatisfy({ $0 >= 0x20 && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "\\") }) {  // most ids: copied whole
            bytes.append(contentsOf: text.utf8)
            return bytes.append(UInt8(ascii: "\""))
        }
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): bytes += [UInt8(ascii: "\\"), UInt8(ascii: "\"")]
            case UInt8(ascii: "\\"): bytes += [UInt8(ascii: "\\"), UInt8(ascii: "\\")]
            case UInt8(ascii: "\n"): bytes += [UInt8(ascii: "\\"), UInt8(ascii: "n")]
            case UInt8(ascii: "\r"): bytes += [UInt8(ascii: "\\"), UInt8(ascii: "r")]
            case UInt8(ascii: "\t"): bytes += [UInt8(ascii: "\\"), UInt8(ascii: "t")]
            case ..<0x20:
                let hex = String(byte, radix: 16)
                bytes += Array("\\u".utf8) + Array(repeating: UInt8(ascii: "0"), count: 4 - hex.count) + Array(hex.utf8)
            default: bytes.append(byte)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }
}
