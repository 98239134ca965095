/// The four Modbus data tables.
public enum RegisterTable: String, Sendable, Hashable, CaseIterable, Codable {
    case coils, discreteInputs = "discrete-inputs", inputRegisters = "input-registers", holdingRegisters = "holding-registers"

    /// Whether a client may write the table at all (coils and holding registers).
    public var isWritable: Bool { self == .coils || self == .holdingRegisters }
    public var isBits: Bool { self == .coils || self == .discreteInputs }
}

/// A decoded request PDU (function code and data, without the MBAP header).
public enum ModbusRequest: Sendable, Hashable {
    /// Function codes 1, 2, 3 and 4.
    case read(RegisterTable, address: UInt16, count: UInt16)
    /// Function code 6 (`isSingle`) or 16. Coils use 0 and 1 per value.
    case write(RegisterTable, address: UInt16, values: [UInt16], isSingle: Bool)

    public var functionCode: UInt8 {
        switch self {
        case .read(.coils, _, _): 1
        case .read(.discreteInputs, _, _): 2
        case .read(.holdingRegisters, _, _): 3
        case .read(.inputRegisters, _, _): 4
        case .write(.coils, _, _, true): 5
        case .write(_, _, _, true): 6
        case .write(.coils, _, _, false): 15
        case .write: 16
        }
    }

    public var table: RegisterTable {
        switch self {
        case .read(let table, _, _), .write(let table, _, _, _): table
        }
    }

    public var address: UInt16 {
        switch self {
        case .read(_, let address, _), .write(_, let address, _, _): address
        }
    }

    public var isWrite: Bool { if case .write = self { true } else { false } }

    /// Appends the request PDU bytes, as a client sends them.
    public func encode(into bytes: inout [UInt8]) {
        func append(_ word: UInt16) { bytes.append(UInt8(word >> 8)); bytes.append(UInt8(word & 0xFF)) }
        bytes.append(functionCode)
        switch self {
        case .read(_, let address, let count):
            append(address)
            append(count)
        case .write(let table, let address, let values, true):
            append(address)
            append(table == .coils ? (values[0] == 0 ? 0 : 0xFF00) : values[0])
        case .write(.coils, let address, let values, false):
            append(address)
            append(UInt16(values.count))
            var packed = [UInt8](repeating: 0, count: (values.count + 7) / 8)
            for (index, value) in values.enumerated() where value != 0 { packed[index / 8] |= 1 << UInt8(index % 8) }
            bytes.append(UInt8(packed.count))
            bytes += packed
        case .write(_, let address, let values, false):
            append(address)
            append(UInt16(values.count))
            bytes.append(UInt8(values.count * 2))
            for value in values { append(value) }
        }
    }

    /// Decodes a request PDU; a PDU that cannot be served yields the exception to answer instead.
    ///
    /// Limits follow the specification: 1...2000 bits and 1...125 registers per read, 1...1968 coils and
    /// 1...123 registers per write; a byte count that disagrees with the quantity is `illegalDataValue`.
    public static func decode(_ pdu: ArraySlice<UInt8>) -> Result<ModbusRequest, ModbusException> {
        guard let function = pdu.first else { return .failure(.illegalFunction) }
        let body = pdu.dropFirst()
        func word(_ offset: Int) -> UInt16? {
            let index = body.startIndex + offset
            guard index + 1 < body.endIndex else { return nil }
            return UInt16(body[index]) << 8 | UInt16(body[index + 1])
        }
        let invalid = Result<ModbusRequest, ModbusException>.failure(.illegalDataValue)
        switch function {
        case 1, 2, 3, 4:
            guard body.count == 4, let address = word(0), let count = word(2) else { return invalid }
            let table: RegisterTable = [1: .coils, 2: .discreteInputs, 3: .holdingRegisters, 4: .inputRegisters][function]!
            guard count >= 1, count <= (table.isBits ? 2000 : 125) else { return invalid }
            return .success(.read(table, address: address, count: count))
        case 5:
            guard body.count == 4, let address = word(0), let value = word(2), value == 0xFF00 || value == 0 else { return invalid }
            return .success(.write(.coils, address: address, values: [value == 0 ? 0 : 1], isSingle: true))
        case 6:
            guard body.count == 4, let address = word(0), let value = word(2) else { return invalid }
            return .success(.write(.holdingRegisters, address: address, values: [value], isSingle: true))
        case 15:
            guard body.count >= 5, let address = word(0), let count = word(2), count >= 1, count <= 1968 else { return invalid }
            let byteCount = Int(body[body.startIndex + 4])
            guard byteCount == (Int(count) + 7) / 8, body.count == 5 + byteCount else { return invalid }
            let bytes = body.dropFirst(5)
            let values = (0..<Int(count)).map { UInt16(bytes[bytes.startIndex + $0 / 8] >> UInt8($0 % 8) & 1) }
            return .success(.write(.coils, address: address, values: values, isSingle: false))
        case 16:
            guard body.count >= 5, let address = word(0), let count = word(2), count >= 1, count <= 123 else { return invalid }
            let byteCount = Int(body[body.startIndex + 4])
            guard byteCount == Int(count) * 2, body.count == 5 + byteCount else { return invalid }
            let values = (0..<Int(count)).map { word(5 + 2 * $0)! }
            return .success(.write(.holdingRegisters, address: address, values: values, isSingle: false))
        default:
            return .failure(.illegalFunction)
        }
    }
}

/// A response PDU.
public enum ModbusResponse: Sendable, Equatable {
    /// Registers or bits (0/1) read, for the request's function code.
    case values(function: UInt8, [UInt16])
    /// A write done: FC 5/6 echo address and value, FC 15/16 echo address and quantity.
    case written(function: UInt8, address: UInt16, word: UInt16)
    case exception(function: UInt8, ModbusException)

    /// The answer a successful request gets, given the values it read.
    public static func success(to request: ModbusRequest, values: [UInt16] = []) -> ModbusResponse {
        switch request {
        case .read:
            return .values(function: request.functionCode, values)
        case .write(let table, let address, let written, let isSingle):
            let word: UInt16 = isSingle ? (table == .coils ? (written[0] == 0 ? 0 : 0xFF00) : written[0]) : UInt16(written.count)
            return .written(function: request.functionCode, address: address, word: word)
        }
    }

    public var exception: ModbusException? { if case .exception(_, let code) = self { code } else { nil } }

    /// Decodes the response PDU a device gave to `request` (e.g. from a recorded trace); nil if it cannot be
    /// that request's answer.
    public static func decode(_ pdu: ArraySlice<UInt8>, answering request: ModbusRequest) -> ModbusResponse? {
        guard let function = pdu.first, function & 0x7F == request.functionCode else { return nil }
        let body = Array(pdu.dropFirst())
        if function & 0x80 != 0 {
            return body.count == 1 ? ModbusException(rawValue: body[0]).map { .exception(function: request.functionCode, $0) } : nil
        }
        switch request {
        case .read(let table, _, let count):
            guard let byteCount = body.first.map(Int.init), body.count == 1 + byteCount else { return nil }
            let bytes = body.dropFirst()
            if table.isBits {
                guard byteCount == (Int(count) + 7) / 8 else { return nil }
                return .values(function: function, (0..<Int(count)).map { UInt16(bytes[bytes.startIndex + $0 / 8] >> UInt8($0 % 8) & 1) })
            }
            guard byteCount == Int(count) * 2 else { return nil }
            return .values(function: function, stride(from: bytes.startIndex, to: bytes.endIndex, by: 2).map { UInt16(bytes[$0]) << 8 | UInt16(bytes[$0 + 1]) })
        case .write:
            guard body.count == 4 else { return nil }
            return .written(function: function, address: UInt16(body[0]) << 8 | UInt16(body[1]), word: UInt16(body[2]) << 8 | UInt16(body[3]))
        }
    }

    /// Appends the PDU bytes.
    public func encode(into bytes: inout [UInt8]) {
        switch self {
        case .values(let function, let values):
            bytes.append(function)
            if function == 1 || function == 2 {
                let byteCount = (values.count + 7) / 8
                bytes.append(UInt8(byteCount))
                var packed = [UInt8](repeating: 0, count: byteCount)
                for (index, value) in values.enumerated() where value != 0 { packed[index / 8] |= 1 << UInt8(index % 8) }
                bytes.append(contentsOf: packed)
            } else {
                bytes.append(UInt8(values.count * 2))
                for value in values { bytes.append(UInt8(value >> 8)); bytes.append(UInt8(value & 0xFF)) }
            }
        case .written(let function, let address, let word):
            bytes.append(contentsOf: [function, UInt8(address >> 8), UInt8(address & 0xFF), UInt8(word >> 8), UInt8(word & 0xFF)])
        case .exception(let function, let code):
            bytes.append(contentsOf: [function | 0x80, code.rawValue])
        }
    }
}

/// A whole Modbus frame as a master's log shows it: Modbus TCP with its MBAP header, or RTU with its CRC.
public struct ModbusFrame: Sendable, Equatable {
    /// The MBAP transaction id (TCP only).
    public let transaction: Int?
    public let pdu: ArraySlice<UInt8>

    /// TCP when the MBAP header's length fits the frame, else RTU when its CRC is right; nil for neither.
    public init?(_ bytes: [UInt8]) {
        if bytes.count >= 8, bytes[2] == 0, bytes[3] == 0, Int(bytes[4]) << 8 | Int(bytes[5]) == bytes.count - 6 {
            transaction = Int(bytes[0]) << 8 | Int(bytes[1])
            pdu = bytes[7...]
            return
        }
        guard bytes.count >= 4 else { return nil }
        var crc: UInt16 = 0xFFFF
        for byte in bytes.dropLast(2) {
            crc ^= UInt16(byte)
            for _ in 0..<8 { crc = crc & 1 != 0 ? crc >> 1 ^ 0xA001 : crc >> 1 }
        }
        guard UInt16(bytes[bytes.count - 2]) | UInt16(bytes[bytes.count - 1]) << 8 == crc else { return nil }
        transaction = nil
        pdu = bytes[1..<(bytes.count - 2)]
    }
}
