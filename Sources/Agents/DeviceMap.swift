public import Modbus

/// The readings and settings the reference agents use, named as profiles name them (docs/PROFILES.md).
public enum AgentPoint: String, Sendable, Hashable, CaseIterable {
    // inverter
    case acPower = "ac-power", ratedPower = "rated-power"
    case powerLimitPercent = "power-limit-percent", powerLimitEnabled = "power-limit-enabled"
    // battery
    case stateOfCharge = "state-of-charge", capacity, maxChargePower = "max-charge-power"
    case maxDischargePower = "max-discharge-power", minimumSoC = "minimum-soc", maximumSoC = "maximum-soc"
    case storageControlMode = "storage-control-mode", chargeRatePercent = "charge-rate-percent"
    case dischargeRatePercent = "discharge-rate-percent", batteryPower = "battery-power"
    // thermostat
    case roomTemperature = "room-temperature", power, mode, heatSetpoint = "heat-setpoint", coolSetpoint = "cool-setpoint"
    case hvacAction = "hvac-action"
    // EV charger
    case pilotState = "pilot-state", sessionEnergy = "session-energy", totalEnergy = "total-energy"
    case maxCurrent = "max-current", chargingEnabled = "charging-enabled", chargingCurrent = "charging-current"
}

/// Where one reading or setting lives in a device's registers, resolved once from its profile.
public struct RegisterPoint: Sendable, Hashable {
    public var unit: UInt8
    public var table: RegisterTable
    public var address: UInt16
    public var type: RegisterType
    /// Engineering value = raw × scale.
    public var scale: Double
    /// For a string point: the texts of state 0, 1, 2, ...
    public var labels: [String]?

    public init(unit: UInt8, table: RegisterTable, address: UInt16, type: RegisterType, scale: Double = 1, labels: [String]? = nil) {
        self.unit = unit
        self.table = table
        self.address = address
        self.type = type
        self.scale = scale
        self.labels = labels
    }
}

/// One device as its agent reaches it over Modbus TCP: the address and the points it uses.
public struct DeviceMap: Sendable {
    public var host: String
    public var port: UInt16
    public var wordOrder: WordOrder
    public var points: [AgentPoint: RegisterPoint]

    public init(host: String, port: UInt16, wordOrder: WordOrder = .highFirst, points: [AgentPoint: RegisterPoint]) {
        self.host = host
        self.port = port
        self.wordOrder = wordOrder
        self.points = points
    }
}

/// Why a device could not be read or written.
public struct DeviceLinkError: Error, Sendable, CustomStringConvertible {
    public let device: String
    public let message: String
    public var description: String { "\(device): \(message)" }
}

/// A Modbus TCP connection to one device, opened on first use and again after a failure.
final class DeviceConnection {
    let name: String
    let map: DeviceMap
    private var client: ModbusClient?

    init(name: String, map: DeviceMap) {
        self.name = name
        self.map = map
    }

    func has(_ name: AgentPoint) -> Bool { map.points[name] != nil }

    private func connected(unit: UInt8) throws(DeviceLinkError) -> ModbusClient {
        if let client {
            if client.unit != unit { client.unit = unit }
            return client
        }
        do {
            let client = try ModbusClient(host: map.host, port: map.port, unit: unit, timeout: .seconds(1))
            self.client = client
            return client
        } catch {
            throw DeviceLinkError(device: name, message: "\(error)")
        }
    }

    private func point(_ name: AgentPoint) throws(DeviceLinkError) -> RegisterPoint {
        guard let point = map.points[name] else { throw DeviceLinkError(device: self.name, message: "its profile maps no \(name.rawValue) point") }
        return point
    }

    /// A number in engineering units.
    func read(_ name: AgentPoint) throws(DeviceLinkError) -> Double {
        let point = try point(name)
        let client = try connected(unit: point.unit)
        do {
            return try client.read(point.type, at: point.address, from: point.table, order: map.wordOrder) * point.scale
        } catch {
            self.client = nil
            throw DeviceLinkError(device: self.name, message: "read \(name.rawValue): \(error)")
        }
    }

    /// A state: its position among the point's labels for a text point (e.g. Alfen's Mode3State "C2", Phoenix's
    /// "\0C"), matched register for register as the product encodes them, else the number itself.
    func readState(_ name: AgentPoint) throws(DeviceLinkError) -> Int? {
        let point = try point(name)
        guard case .string(let count) = point.type else { return Int(try read(name)) }
        let client = try connected(unit: point.unit)
        do {
            let registers = try client.read(point.table, at: point.address, count: count)
            return point.labels?.firstIndex { point.type.encode($0) == registers }
        } catch {
            self.client = nil
            throw DeviceLinkError(device: self.name, message: "read \(name.rawValue): \(error)")
        }
    }

    /// The engineering value the device takes when `value` is written: rounded to the register's resolution.
    func taken(_ name: AgentPoint, _ value: Double) -> Double {
        guard let point = try? point(name), ![.float32, .float64].contains(point.type) else { return value }
        return (value / point.scale).rounded() * point.scale
    }

    /// Writes an engineering value in one request: FC 6 (FC 5 for a coil), or FC 16 for a multi-register value.
    func write(_ name: AgentPoint, _ value: Double) throws(DeviceLinkError) {
        let point = try point(name)
        let client = try connected(unit: point.unit)
        let raw = value / point.scale
        do {
            let registers = point.type.encode([.float32, .float64].contains(point.type) ? raw : raw.rounded(), order: map.wordOrder)
            try client.write(registers, to: point.table, at: point.address)
        } catch {
            if case .exception = error.kind {} else { self.client = nil }
            throw DeviceLinkError(device: self.name, message: "write \(name.rawValue) = \(value): \(error)")
        }
    }
}
