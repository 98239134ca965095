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
