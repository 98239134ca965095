/// A Modbus exception code, as a server answers it in an exception response (function code | 0x80).
///
/// The codes are those of the Modbus application protocol v1.1b3, section 7; libmodbus names them in
/// `modbus_reply_exception(3)`.
public enum ModbusException: UInt8, Error, Sendable, CaseIterable, CustomStringConvertible {
    case illegalFunction = 1
    case illegalDataAddress = 2
    case illegalDataValue = 3
    case serverDeviceFailure = 4
    case acknowledge = 5
    case serverDeviceBusy = 6
    case negativeAcknowledge = 7
    case memoryParityError = 8
    case gatewayPathUnavailable = 10
    case gatewayTargetFailedToRespond = 11

    /// The name the specification gives the code, e.g. "illegal data address".
    public var name: String {
        switch self {
        case .illegalFunction: "illegal function"
        case .illegalDataAddress: "illegal data address"
        case .illegalDataValue: "illegal data value"
        case .serverDeviceFailure: "server device failure"
        case .acknowledge: "acknowledge"
        case .serverDeviceBusy: "server device busy"
        case .negativeAcknowledge: "negative acknowledge"
        case .memoryParityError: "memory parity error"
        case .gatewayPathUnavailable: "gateway path unavailable"
        case .gatewayTargetFailedToRespond: "gateway target device failed to respond"
        }
    }

    public var description: String { "exception \(rawValue) (\(name))" }
}
