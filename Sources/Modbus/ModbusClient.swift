/// A Modbus client failure, typed: what went wrong, the operation, the target, and the system's words.
public struct ModbusClientError: Error, CustomStringConvertible, Equatable {
    public enum Kind: Equatable, Sendable {
        /// The device answered with a Modbus exception.
        case exception(ModbusException)
        /// No answer (or no connection) within the timeout.
        case timeout
        /// Nothing listens at the address.
        case refused
        /// The device closed the connection.
        case closed
        /// An answer that does not fit the request.
        case invalidResponse
        /// Any other failure, by errno.
        case other(Int32)
    }

    public let kind: Kind
    public let operation: String
    public let target: String
    public let message: String

    public var description: String {
        switch kind {
        case .exception(let code): "\(target): \(operation): Modbus \(code)"
        default: "\(target): \(operation): \(message)"
        }
    }
}

/// A Modbus TCP client: connects on creation, typed reads and writes, typed errors. It waits with poll(2), so it
/// works at any descriptor number.
///
/// Not thread-safe: one owner at a time.
public final class ModbusClient {
    private let transport: ClientTransport
    public var unit: UInt8

    /// Connects; `timeout` bounds the connect and each answer.
    public init(host: String = "127.0.0.1", port: UInt16, unit: UInt8 = 1, timeout: Duration = .seconds(1)) throws(ModbusClientError) {
        transport = try ClientTransport(host: host, port: port, timeout: timeout)
        self.unit = unit
    }

    /// Sends one request and returns the values read (none for a write); an exception answer throws.
    private func transact(_ request: ModbusRequest, operation: String) throws(ModbusClientError) -> [UInt16] {
        switch try transport.transact(request, unit: unit, operation: operation) {
        case .values(_, let values): return values
        case .written: return []
        case .exception(_, let code):
            throw ModbusClientError(kind: .exception(code), operation: operation, target: "\(transport.target) unit \(unit)", message: "\(code)")
        }
    }

    /// Reads raw registers (or bits as 0/1) from any table.
    public func read(_ table: RegisterTable = .holdingRegisters, at address: UInt16, count: Int) throws(ModbusClientError) -> [UInt16] {
        try transact(.read(table, address: address, count: UInt16(clamping: count)), operation: "read \(count) \(table.rawValue) at \(address)")
    }

    /// Reads one number of the given type.
    public func read(_ type: RegisterType, at address: UInt16, from table: RegisterTable = .holdingRegisters,
                     order: WordOrder = .highFirst) throws(ModbusClientError) -> Double {
        let registers = try read(table, at: address, count: type.registerCount)
        return type.decode(registers, order: order) ?? .nan
    }

    /// Reads an ASCII string of `registers` registers.
    public func readString(at address: UInt16, registers: Int, from table: RegisterTable = .holdingRegisters) throws(ModbusClientError) -> String {
        RegisterType.string(registers: registers).decodeText(try read(table, at: address, count: registers))
    }

    /// Writes raw values: FC 6 (or FC 5 for a coil) when there is one value and `single` holds, else FC 16 / FC 15.
    public func write(_ values: [UInt16], to table: RegisterTable = .holdingRegisters, at address: UInt16, single: Bool = true) throws(ModbusClientError) {
        _ = try transact(.write(table, address: address, values: values, isSingle: single && values.count == 1),
                         operation: "write \(values.count) \(table.rawValue) at \(address)")
    }

    /// Writes one number of the given type in one request.
    public func write(_ number: Double, as type: RegisterType, at address: UInt16, order: WordOrder = .highFirst) throws(ModbusClientError) {
        try write(type.encode(number, order: order), at: address)
    }
}
