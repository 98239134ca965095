public import Modbus
import Foundation

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
    /// The SunSpec scale-factor register whose exponent gives `scale`, read with the value: a device may change its
    /// resolution (a firmware update), and SunSpec has clients read the factor, not remember it.
    public var scaleFactor: UInt16?
    /// For a string point: the texts of state 0, 1, 2, ...
    public var labels: [String]?

    public init(unit: UInt8, table: RegisterTable, address: UInt16, type: RegisterType, scale: Double = 1, scaleFactor: UInt16? = nil,
                labels: [String]? = nil) {
        self.unit = unit
        self.table = table
        self.address = address
        self.type = type
        self.scale = scale
        self.scaleFactor = scaleFactor
        self.labels = labels
    }

    /// The point's scale-factor register, as a point of its own.
    var factor: RegisterPoint? { scaleFactor.map { RegisterPoint(unit: unit, table: table, address: $0, type: .int16) } }
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
    /// The registers each point was last written with on this connection, and the scale they were written at: a
    /// new connection may meet a device that restarted and forgot what it was written, so it starts without them.
    private var lastWrites: [AgentPoint: (registers: [UInt16], scale: Double)] = [:]
    /// Registers read together for the reading in progress (`fetch`), by where they are.
    private var fetched: [Place: [UInt16]] = [:]

    private struct Place: Hashable {
        let unit: UInt8, table: RegisterTable, address: UInt16
        init(_ point: RegisterPoint) { (unit, table, address) = (point.unit, point.table, point.address) }
    }

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
            lastWrites = [:]
            return client
        } catch {
            throw DeviceLinkError(device: name, message: "\(error)")
        }
    }

    private func point(_ name: AgentPoint) throws(DeviceLinkError) -> RegisterPoint {
        guard let point = map.points[name] else { throw DeviceLinkError(device: self.name, message: "its profile maps no \(name.rawValue) point") }
        return point
    }

    /// Reads `names` in as few requests as the map allows, for `body` to read from: points of one unit and
    /// register table lying within 16 registers of each other, up to 125 registers a request (what every Modbus
    /// server must serve in one read). A request the device refuses with an exception leaves its points to their
    /// own reads; a timeout or a lost connection fails the reading at once, as its first read would have.
    func fetching<Reading>(_ names: [AgentPoint], _ body: () throws(DeviceLinkError) -> Reading) throws(DeviceLinkError) -> Reading {
        defer { fetched = [:] }
        let named = names.compactMap { name in map.points[name].map { (name: name.rawValue, point: $0) } }.filter { !$0.point.table.isBits }
        let points = named + named.compactMap { entry in entry.point.factor.map { (name: "\(entry.name) scale factor", point: $0) } }
        let groups = Dictionary(grouping: points) { "\($0.point.unit) \($0.point.table.rawValue)" }
        for group in groups.values {
            var spans: [[(name: String, point: RegisterPoint)]] = []
            for entry in group.sorted(by: { $0.point.address < $1.point.address }) {
                if let last = spans.last?.last, let first = spans.last?.first,
                   Int(entry.point.address) <= Int(last.point.address) + last.point.type.registerCount + 16,
                   Int(entry.point.address) + entry.point.type.registerCount - Int(first.point.address) <= 125 {
                    spans[spans.count - 1].append(entry)
                } else {
                    spans.append([entry])
                }
            }
            for span in spans where span.count > 1 {
                let start = span[0].point.address
                let count = span.map { Int($0.point.address) + $0.point.type.registerCount }.max()! - Int(start)
                let client = try connected(unit: span[0].point.unit)
                do {
                    let registers = try client.read(span[0].point.table, at: start, count: count)
                    for entry in span {
                        let offset = Int(entry.point.address - start)
                        fetched[Place(entry.point)] = Array(registers[offset..<(offset + entry.point.type.registerCount)])
                    }
                } catch {
                    if case .exception = error.kind { continue }
                    self.client = nil
                    throw DeviceLinkError(device: self.name, message: "read \(span.map(\.name).joined(separator: ", ")): \(error)")
                }
            }
        }
        return try body()
    }

    /// A number in engineering units.
    func read(_ name: AgentPoint) throws(DeviceLinkError) -> Double {
        let point = try point(name)
        return try raw(point, name.rawValue) * scale(of: point, name)
    }

    /// The point's raw number: from the reading in progress, else read now.
    private func raw(_ point: RegisterPoint, _ what: String) throws(DeviceLinkError) -> Double {
        if let registers = fetched[Place(point)] { return point.type.decode(registers, order: map.wordOrder) ?? .nan }
        let client = try connected(unit: point.unit)
        do {
            return try client.read(point.type, at: point.address, from: point.table, order: map.wordOrder)
        } catch {
            self.client = nil
            throw DeviceLinkError(device: self.name, message: "read \(what): \(error)")
        }
    }

    /// Engineering value per raw unit: 10 to the scale factor as the device reads it now, or the profile's scale.
    private func scale(of point: RegisterPoint, _ name: AgentPoint) throws(DeviceLinkError) -> Double {
        guard let factor = point.factor else { return point.scale }
        let exponent = try raw(factor, "\(name.rawValue)'s scale factor")
        guard (-10...10).contains(exponent) else { throw DeviceLinkError(device: self.name, message: "\(name.rawValue)'s scale factor reads \(exponent)") }
        return pow(10, exponent)
    }

    /// A state: its position among the point's labels for a text point (e.g. Alfen's Mode3State "C2", Phoenix's
    /// "\0C"), matched register for register as the product encodes them, else the number itself.
    func readState(_ name: AgentPoint) throws(DeviceLinkError) -> Int? {
        let point = try point(name)
        guard case .string(let count) = point.type else { return Int(try read(name)) }
        if let registers = fetched[Place(point)] { return point.labels?.firstIndex { point.type.encode($0) == registers } }
        let client = try connected(unit: point.unit)
        do {
            let registers = try client.read(point.table, at: point.address, count: count)
            return point.labels?.firstIndex { point.type.encode($0) == registers }
        } catch {
            self.client = nil
            throw DeviceLinkError(device: self.name, message: "read \(name.rawValue): \(error)")
        }
    }

    /// The engineering value the device takes when `value` is written: rounded to the register's resolution (a
    /// point without a scale-factor register; one with it is rounded as it is written).
    func taken(_ name: AgentPoint, _ value: Double) -> Double {
        guard let point = try? point(name), point.scaleFactor == nil, ![.float32, .float64].contains(point.type) else { return value }
        return (value / point.scale).rounded() * point.scale
    }

    /// Whether writing `value` to `name` would put in its registers what the last write on this connection put there
    /// (at the scale that write used).
    func holds(_ name: AgentPoint, _ value: Double) -> Bool {
        guard let last = lastWrites[name], let point = map.points[name] else { return false }
        return encode(value / last.scale, point) == last.registers
    }

    private func encode(_ raw: Double, _ point: RegisterPoint) -> [UInt16] {
        point.type.encode([.float32, .float64].contains(point.type) ? raw : raw.rounded(), order: map.wordOrder)
    }

    /// Writes an engineering value in one request: FC 6 (FC 5 for a coil), or FC 16 for a multi-register value,
    /// at the resolution the device's scale factor gives now.
    func write(_ name: AgentPoint, _ value: Double) throws(DeviceLinkError) {
        let point = try point(name)
        lastWrites[name] = nil
        let scale = try scale(of: point, name)
        let client = try connected(unit: point.unit)
        do {
            let registers = encode(value / scale, point)
            try client.write(registers, to: point.table, at: point.address)
            lastWrites[name] = (registers, scale)
        } catch {
            if case .exception = error.kind {} else { self.client = nil }
            throw DeviceLinkError(device: self.name, message: "write \(name.rawValue) = \(value): \(error)")
        }
    }
}
