/// A contiguous run of registers (or bits, stored 0/1) in one table, starting at a protocol (0-based) address.
public struct RegisterBlock: Sendable, Equatable {
    public let table: RegisterTable
    public let start: UInt16
    public var values: [UInt16]

    public init(table: RegisterTable, start: UInt16, values: [UInt16]) {
        self.table = table
        self.start = start
        self.values = values
    }

    /// One past the last address, as an `Int` so a block may end at 65536.
    public var end: Int { Int(start) + values.count }

    func contains(_ address: UInt16, count: Int) -> Bool {
        Int(address) >= Int(start) && Int(address) + count <= end
    }
}

/// The in-memory Modbus face of one unit: its register blocks, served without any socket.
///
/// A request is served only if its whole range lies inside one block; anything else is
/// `illegalDataAddress`, as a real device answers a read across a hole in its map.
public struct RegisterBank: Sendable, Equatable {
    public private(set) var blocks: [RegisterBlock]

    /// Fails if two blocks of one table overlap or a block runs past address 65535.
    public init(blocks: [RegisterBlock]) throws(RegisterBankError) {
        for block in blocks where block.end > 65536 || block.values.isEmpty {
            throw RegisterBankError(message: "\(block.table.rawValue) block at \(block.start) has \(block.values.count) registers: must hold 1 or more and end at or before 65535")
        }
        let sorted = blocks.sorted { ($0.table.rawValue, $0.start) < ($1.table.rawValue, $1.start) }
        for (first, second) in zip(sorted, sorted.dropFirst()) where first.table == second.table && first.end > Int(second.start) {
            throw RegisterBankError(message: "\(first.table.rawValue) blocks at \(first.start) and \(second.start) overlap")
        }
        self.blocks = sorted
    }

    private func blockIndex(_ table: RegisterTable, _ address: UInt16, count: Int) -> Int? {
        blocks.firstIndex { $0.table == table && $0.contains(address, count: count) }
    }

    /// Reads `count` values, or `illegalDataAddress`.
    public func read(_ table: RegisterTable, at address: UInt16, count: Int) -> Result<[UInt16], ModbusException> {
        guard let index = blockIndex(table, address, count: count) else { return .failure(.illegalDataAddress) }
        let block = blocks[index]
        let offset = Int(address) - Int(block.start)
        return .success(Array(block.values[offset..<offset + count]))
    }

    /// Stores values (a device's own update, or a client's write once the device accepted it).
    public mutating func store(_ values: [UInt16], in table: RegisterTable, at address: UInt16) -> Result<Void, ModbusException> {
        guard let index = blockIndex(table, address, count: values.count) else { return .failure(.illegalDataAddress) }
        let offset = Int(address) - Int(blocks[index].start)
        blocks[index].values.replaceSubrange(offset..<offset + values.count, with: values)
        return .success(())
    }

    /// Serves a request as a plain register store: reads answer, writes to coils and holding registers land.
    public mutating func respond(to request: ModbusRequest) -> ModbusResponse {
        switch request {
        case .read(let table, let address, let count):
            switch read(table, at: address, count: Int(count)) {
            case .success(let values): return .success(to: request, values: values)
            case .failure(let code): return .exception(function: request.functionCode, code)
            }
        case .write(let table, let address, let values, _):
            switch store(values, in: table, at: address) {
            case .success: return .success(to: request)
            case .failure(let code): return .exception(function: request.functionCode, code)
            }
        }
    }
}

public struct RegisterBankError: Error, CustomStringConvertible, Equatable {
    public let message: String
    public var description: String { message }
}
