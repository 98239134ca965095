// Every call into libmodbus lives in this file; no libmodbus type leaves it.
private import CModbus
#if canImport(Glibc)
import Glibc
#endif

/// A libmodbus failure: the operation, its target, and libmodbus's own words (`modbus_strerror(3)`).
public struct ModbusError: Error, CustomStringConvertible, Equatable {
    public let operation: String
    public let code: Int32
    public let message: String
    public var description: String { "\(operation): \(message) (errno \(code))" }

    static func current(_ operation: String) -> ModbusError {
        let code = errno  // before any other call can overwrite it
        return ModbusError(operation: operation, code: code, message: String(cString: modbus_strerror(code)))
    }
}

/// A listening TCP socket made by `modbus_tcp_listen(3)`; the server loop accepts on its descriptor.
final class ListeningSocket: @unchecked Sendable {
    // @unchecked: made on the caller's thread, then handed whole to the server thread, which alone uses it.
    private let context: OpaquePointer
    let descriptor: Int32
    let port: UInt16

    init(host: String, port: UInt16, backlog: Int32 = 64) throws(ModbusError) {
        guard let context = modbus_new_tcp(host, Int32(port)) else { throw .current("modbus_new_tcp \(host):\(port)") }
        let descriptor = modbus_tcp_listen(context, backlog)
        guard descriptor >= 0 else {
            let error = ModbusError.current("modbus_tcp_listen \(host):\(port)")
            modbus_free(context)
            throw error
        }
        self.context = context
        self.descriptor = descriptor
        self.port = Socket.boundPort(descriptor) ?? port
    }

    deinit {
        Socket.close(descriptor)
        modbus_free(context)
    }
}

/// One libmodbus TCP client context (`modbus_t`), connected on creation.
final class ClientContext {
    private let raw: OpaquePointer
    let target: String

    init(host: String, port: UInt16, unit: UInt8, timeout: Duration) throws(ModbusClientError) {
        target = "\(host):\(port) unit \(unit)"
        guard let raw = modbus_new_tcp(host, Int32(port)) else {
            throw ModbusClientError.current("modbus_new_tcp", target: "\(host):\(port)")
        }
        self.raw = raw
        let (seconds, attoseconds) = timeout.components
        let microseconds = UInt32(attoseconds / 1_000_000_000_000)
        modbus_set_response_timeout(raw, UInt32(seconds), microseconds)
        modbus_set_byte_timeout(raw, UInt32(seconds), microseconds)
        modbus_set_slave(raw, Int32(unit))
        guard modbus_connect(raw) == 0 else { throw ModbusClientError.current("modbus_connect", target: target) }
    }

    deinit {
        modbus_close(raw)
        modbus_free(raw)
    }

    func setUnit(_ unit: UInt8) { modbus_set_slave(raw, Int32(unit)) }

    func read(_ table: RegisterTable, at address: UInt16, count: Int) throws(ModbusClientError) -> [UInt16] {
        let operation = "read \(count) \(table.rawValue) at \(address)"
        if table.isBits {
            var bits = [UInt8](repeating: 0, count: count)
            let done = table == .coils
                ? modbus_read_bits(raw, Int32(address), Int32(count), &bits)
                : modbus_read_input_bits(raw, Int32(address), Int32(count), &bits)
            guard done == count else { throw .current(operation, target: target) }
            return bits.map { UInt16($0) }
        }
        var registers = [UInt16](repeating: 0, count: count)
        let done = table == .holdingRegisters
            ? modbus_read_registers(raw, Int32(address), Int32(count), &registers)
            : modbus_read_input_registers(raw, Int32(address), Int32(count), &registers)
        guard done == count else { throw .current(operation, target: target) }
        return registers
    }

    /// Writes with FC 6 / FC 5 for one value when `single`, else FC 16 / FC 15.
    func write(_ values: [UInt16], table: RegisterTable, at address: UInt16, single: Bool) throws(ModbusClientError) {
        let operation = "write \(values.count) \(table.rawValue) at \(address)"
        let done: Int32
        switch (table, single) {
        case (.coils, true): done = modbus_write_bit(raw, Int32(address), Int32(values[0])) == 1 ? 1 : -1
        case (.coils, false):
            let bits = values.map { UInt8($0 == 0 ? 0 : 1) }
            done = modbus_write_bits(raw, Int32(address), Int32(bits.count), bits)
        case (_, true): done = modbus_write_register(raw, Int32(address), values[0]) == 1 ? 1 : -1
        case (_, false): done = modbus_write_registers(raw, Int32(address), Int32(values.count), values)
        }
        guard done == (single ? 1 : Int32(values.count)) else { throw .current(operation, target: target) }
    }
}

extension ModbusClientError {
    static func current(_ operation: String, target: String) -> ModbusClientError {
        let code = errno  // before any other call can overwrite it
        let message = String(cString: modbus_strerror(code))
        let exceptionBase = Int32(MODBUS_ENOBASE)
        let kind: Kind
        if code > exceptionBase, let exception = ModbusException(rawValue: UInt8(clamping: code - exceptionBase)) {
            kind = .exception(exception)
        } else {
            switch code {
            case ETIMEDOUT, EAGAIN, EINPROGRESS: kind = .timeout
            case ECONNREFUSED: kind = .refused
            case ECONNRESET, EPIPE, EBADF, ENOTCONN: kind = .closed
            case exceptionBase + 14...exceptionBase + 19: kind = .invalidResponse  // EMBBADDATA ... EMBBADSLAVE
            default: kind = .other(code)
            }
        }
        return ModbusClientError(kind: kind, operation: operation, target: target, message: message)
    }
}
