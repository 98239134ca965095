/// The order of 16-bit words in a multi-register value. Bytes inside a word are always big-endian.
public enum WordOrder: String, Sendable, Codable {
    /// High word first (SunSpec, Alfen: "big-endian").
    case highFirst = "high-first"
    /// Low word first (Phoenix Contact EV-ETH).
    case lowFirst = "low-first"
}

/// How a value is laid out in registers: the one codec every device map and the client use.
public enum RegisterType: Sendable, Hashable {
    case uint16, int16, uint32, int32, uint64, int64, float32, float64
    /// ASCII, two characters per register, first character in the high byte, NUL-padded.
    case string(registers: Int)

    public var registerCount: Int {
        switch self {
        case .uint16, .int16: 1
        case .uint32, .int32, .float32: 2
        case .uint64, .int64, .float64: 4
        case .string(let registers): registers
        }
    }

    /// Encodes a number, rounded to the nearest integer for integer types and saturated to the type's range.
    /// NaN encodes as the float NaN or, for integers, as 0.
    public func encode(_ number: Double, order: WordOrder = .highFirst) -> [UInt16] {
        let bits: UInt64
        switch self {
        case .uint16: bits = UInt64(Self.saturate(number, 0, 65535))
        case .int16: bits = UInt64(UInt16(bitPattern: Int16(Self.saturate(number, -32768, 32767))))
        case .uint32: bits = UInt64(Self.saturate(number, 0, 4_294_967_295))
        case .int32: bits = UInt64(UInt32(bitPattern: Int32(Self.saturate(number, -2_147_483_648, 2_147_483_647))))
        case .uint64: bits = number.isNaN || number <= 0 ? 0 : number >= 1.8446744073709552e19 ? .max : UInt64(number.rounded())
        case .int64: bits = UInt64(bitPattern: number.isNaN ? 0 : number >= 9.2e18 ? .max : number <= -9.2e18 ? .min : Int64(number.rounded()))
        case .float32: bits = UInt64(Float(number).bitPattern)
        case .float64: bits = number.bitPattern
        case .string: return encode(String(number))
        }
        return Self.words(bits, count: registerCount, order: order)
    }

    /// Encodes a raw bit pattern (e.g. SunSpec's "unimplemented" 0x8000) without any conversion.
    public func encode(bitPattern: UInt64, order: WordOrder = .highFirst) -> [UInt16] {
        Self.words(bitPattern, count: registerCount, order: order)
    }

    /// Encodes text: ASCII, NUL-padded or cut to the type's length.
    public func encode(_ text: String) -> [UInt16] {
        var bytes = Array(text.utf8.prefix(registerCount * 2))
        bytes += [UInt8](repeating: 0, count: registerCount * 2 - bytes.count)
        return (0..<registerCount).map { UInt16(bytes[2 * $0]) << 8 | UInt16(bytes[2 * $0 + 1]) }
    }

    /// Decodes registers (exactly `registerCount` of them) to a number; strings decode to nil.
    public func decode(_ registers: some Collection<UInt16>, order: WordOrder = .highFirst) -> Double? {
        guard registers.count == registerCount else { return nil }
        var bits: UInt64 = 0
        let words = order == .highFirst ? Array(registers) : registers.reversed()
        for word in words { bits = bits << 16 | UInt64(word) }
        switch self {
        case .uint16, .uint32, .uint64: return Double(bits)
        case .int16: return Double(Int16(bitPattern: UInt16(bits)))
        case .int32: return Double(Int32(bitPattern: UInt32(bits)))
        case .int64: return Double(Int64(bitPattern: bits))
        case .float32: return Double(Float(bitPattern: UInt32(bits)))
        case .float64: return Double(bitPattern: bits)
        case .string: return nil
        }
    }

    /// Decodes an ASCII string, trailing NULs stripped.
    public func decodeText(_ registers: some Collection<UInt16>) -> String {
        let bytes = registers.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xFF)] }
        return String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
    }

    private static func saturate(_ number: Double, _ low: Double, _ high: Double) -> Double {
        number.isNaN ? 0 : min(max(number.rounded(), low), high)
    }

    private static func words(_ bits: UInt64, count: Int, order: WordOrder) -> [UInt16] {
        let highFirst = (0..<count).map { UInt16(truncatingIfNeeded: bits >> UInt64(16 * (count - 1 - $0))) }
        return order == .highFirst ? highFirst : highFirst.reversed()
    }
}
