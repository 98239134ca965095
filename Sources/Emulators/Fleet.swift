import Foundation  // Date
public import Logging
public import Modbus
public import Physics
import Synchronization

/// One device to emulate: which product, where it is served, and its house.
public struct DeviceSpec: Sendable {
    public var id: DeviceID
    /// The id as rigs, series, logs and reports write it.
    public var name: String { id.description }
    /// The house whose wiring the device is on; nil for a meter at the point of common coupling.
    public var house: HouseID?
    public var profile: DeviceProfile
    public var parameters: DeviceParameters
    /// TCP port (0 picks a free one) and unit id (nil: the profile's).
    public var port: UInt16
    public var unit: UInt8?
    /// An islanded microgrid's grid-forming battery: it balances the whole site, not only its house.
    public var isGridForming = false
    /// Field data the device replays (docs/FAULTS.md, "Replay").
    public var replay: Replay?

    /// The unit ids the device answers on: the one the rig gives, else the profile's.
    public var units: [UInt8] { unit.map { [$0] } ?? profile.units }

    public init(id: DeviceID, house: HouseID?, profile: DeviceProfile, parameters: DeviceParameters = .init(), port: UInt16, unit: UInt8? = nil) {
        self.id = id
        self.house = house
        self.profile = profile
        self.parameters = parameters
        self.port = port
        self.unit = unit
    }
}

/// The grid at one connection, as a feeder model computes it.
public struct GridPoint: Sendable, Equatable {
    /// Phase-to-neutral voltage, V; frequency, Hz (nil: nominal).
    public var voltage: Double
    public var frequency: Double?

    public init(voltage: Double, frequency: Double? = nil) {
        self.voltage = voltage
        self.frequency = frequency
    }
}

/// The utility is lost from `start` until `end`: the neighborhood is an island, formed by one of its batteries.
public struct GridOutage: Sendable, Equatable {
    public var start: Double
    public var end: Double
    /// The battery that forms the grid meanwhile.
    public var gridForming: DeviceID

    public init(start: Double, end: Double, gridForming: DeviceID) {
        self.start = start
        self.end = end
        self.gridForming = gridForming
    }

    public func contains(_ time: Double) -> Bool { time >= start && time < end }
}

/// A scripted disturbance of the grid (docs/FAULTS.md): from `start` until `end` the devices of `house` (of every
/// house and the PCC when nil) see the level's voltage (per unit of each device's nominal voltage) or frequency
/// (Hz), whatever a feeder model gives.
public struct GridEvent: Sendable, Equatable {
    public enum Level: Sendable, Equatable {
        case voltage(Double)
        case frequency(Double)
    }

    public var house: HouseID?
    public var level: Level
    public var start: Double
    public var end: Double

    public init(house: HouseID?, level: Level, start: Double, end: Double) {
        (self.house, self.level, self.start, self.end) = (house, level, start, end)
    }

    public func contains(_ time: Double) -> Bool { time >= start && time < end }

    /// Whether the event sets the same quantity as `other` at the same place (both cannot be in force at once).
    public func overlaps(_ other: GridEvent) -> Bool {
        let sameQuantity = switch (level, other.level) {
        case (.voltage, .voltage), (.frequency, .frequency): true
        default: false
        }
        return sameQuantity && (house == nil || other.house == nil || house == other.house) && start < other.end && other.start < end
    }
}

/// A device as it is served: the address a client connects to.
public final class ServedDevice: Sendable {
    public let emulator: DeviceEmulator
    public let house: HouseID?
    public let host: String
    public let port: UInt16
    /// Unit ids answered on `port` (a product may answer on several, e.g. Alfen's 200 and 1).
    public let units: [UInt8]
    public let isGridForming: Bool

    init(emulator: DeviceEmulator, house: HouseID?, host: String, port: UInt16, units: [UInt8], isGridForming: Bool) {
        (self.emulator, self.house, self.host, self.port, self.units, self.isGridForming) = (emulator, house, host, port, units, isGridForming)
    }
}

/// A client's write as the emulators' write log keeps it: wall clock, simulated time, device.
public struct LoggedWrite: Sendable {
    public let device: String
    public let simulatedTime: Double
    public let record: WriteRecord
    /// The controls an accepted write set, after the profile's scaling (empty for a refused one, or one that only
    /// stored registers).
    public var controls: Settings = [:]

    public init(device: String, simulatedTime: Double, record: WriteRecord, controls: Settings = [:]) {
        (self.device, self.simulatedTime, self.record, self.controls) = (device, simulatedTime, record, controls)
    }
}

/// Every write request that reached an emulator, accepted or refused, in arrival order.
public final class WriteLog: Sendable {
    private let records = Mutex<[LoggedWrite]>([])
    public init() {}
    public func append(_ write: LoggedWrite) { records.withLock { $0.append(write) } }
    public var all: [LoggedWrite] { records.withLock { $0 } }
}

/// When one device answered reads and when it turned them away (wall clock, seconds since the Unix epoch), for
/// judging what a household's telemetry claims of it. Eight bytes a read.
public final class ReadLog: Sendable {
    public struct Times: Sendable {
        /// Reads the device answered (a late answer is an answer).
        public var served: [Double] = []
        /// Reads a scheduled fault turned away (an exception, silence, a dropped connection, half an answer) and
        /// connections it refused.
        public var failed: [Double] = []
    }

    private let times = Mutex(Times())
    public init() {}
    func record(served: Bool) {
        let now = Date().timeIntervalSince1970
        times.withLock { served ? $0.served.append(now) : $0.failed.append(now) }
    }
    public var all: Times { times.withLock { $0 } }
}

/// Logs each request of one device, and answers as its scheduled faults say.
struct FleetHooks: ModbusHooks {
    let log: WriteLog
    let reads: ReadLog
    let device: DeviceEmulator
    let faults: FaultPlan?

    func verdict(for request: ModbusRequest, at address: UnitAddress) -> ReplyVerdict {
        let verdict = faults?.verdict(device: device.name, unit: address.unit, request: request, at: device.time) ?? .reply
        if !request.isWrite {
            switch verdict {
            case .reply, .delay, .slow: reads.record(served: true)
            case .exception, .noResponse, .close, .partial: reads.record(served: false)
            }
        }
        return verdict
    }

    func didWrite(_ record: WriteRecord) {
        log.append(LoggedWrite(device: device.name, simulatedTime: device.time, record: record,
                               controls: record.exception == nil ? device.lastWritten : [:]))
    }

    func admits(open: Int) -> Bool {
        let admitted = faults?.admits(device: device.name, open: open, at: device.time) ?? true
        if !admitted { reads.record(served: false) }
        return admitted
    }
}

/// Many emulated devices in one process behind one Modbus server, stepped together over shared weather.
public final class Fleet: Sendable {
    public let devices: [ServedDevice]
    public let writeLog = WriteLog()
    /// Each device's read log, by device name.
    public let readLogs: [String: ReadLog]
    private let server: ModbusServer
    private let weather: DayCurve
    private let baseLoads: [HouseID: BaseLoad]
    private let clock: Mutex<Double>
    private let faults: FaultPlan?
    private let outages: [GridOutage]
    private let gridEvents: [GridEvent]
    /// Each place's nominal voltage, its first device's (V), and whether the rig scripts voltage events: what the
    /// voltage series needs, worked out once rather than at every sample.
    private let nominalVoltages: [HouseID: Double]
    private let scriptsVoltage: Bool
    /// On an island, the share of the available sun the PV inverters may use in the next step (frequency-watt).
    private let solarShare = Mutex(1.0)
    /// The grid at each house's connection (and at the PCC, under `HouseID.pcc`) as a feeder model last gave it.
    private let grid = Mutex<[HouseID: GridPoint]>([:])
    /// Houses whose devices another process emulates (a shard): their devices' net active and reactive power,
    /// as that process last reported it.
    private let remote = Mutex<[HouseID: DeviceLoads]>([:])
    /// The houses the loads are summed for, with each device's; made again only when a remote house joins.
    private let houseSlots: Mutex<HouseSlots>
    /// The devices by what a step does with them: the meters last; a battery may form the grid.
    private let meters: [Int], batteries: [Int], others: [Int]

    /// Binds every port now, so a port in use is reported before anything runs.
    ///
    /// - Parameters:
    ///   - baseLoads: each house's unresponsive consumption, seen by its battery and meters.
    ///   - startTime: simulated seconds since midnight of day 0.
    ///   - faults: the rig's scheduled faults (docs/FAULTS.md).
    ///   - outages: when the utility is lost and which battery forms the island meanwhile.
    ///   - gridEvents: scripted voltage and frequency levels; steps end where one begins or ends.
    public init(_ specs: [DeviceSpec], weather: DayCurve, baseLoads: [HouseID: BaseLoad] = [:], startTime: Double,
                host: String = "127.0.0.1", faults: FaultPlan? = nil, outages: [GridOutage] = [], gridEvents: [GridEvent] = [],
                logger: Logger) throws(FleetError) {
        self.faults = faults
        self.outages = outages
        self.gridEvents = gridEvents
        server = ModbusServer(logger: logger)
        self.weather = weather
        self.baseLoads = baseLoads
        clock = Mutex(startTime)
        var boundPorts: [UInt16: UInt16] = [:]  // requested (non-zero) → bound
        var taken: Set<UnitAddress> = []
        var devices: [ServedDevice] = []
        var readLogs: [String: ReadLog] = [:]
        for spec in specs {
            let port: UInt16
            do {
                if spec.port != 0, let bound = boundPorts[spec.port] {
                    port = bound
                } else {
                    port = try server.listen(host: host, port: spec.port, options: spec.profile.transport)
                    if spec.port != 0 { boundPorts[spec.port] = port }
                }
            } catch {
                throw FleetError(message: "\(spec.name): \(error)")
            }
            let units = spec.units
            let emulator: DeviceEmulator
            do {
                var parameters = spec.parameters
                parameters.vehicle = faults?.vehicle(of: spec.name, planned: parameters.vehicle) ?? parameters.vehicle
                emulator = try DeviceEmulator(name: spec.name, profile: spec.profile, parameters: parameters, time: startTime, replay: spec.replay)
            } catch {
                throw FleetError(message: "\(spec.name): \(error)")
            }
            let reads = ReadLog()
            readLogs[spec.name] = reads
            for unit in units {
                let address = UnitAddress(port: port, unit: unit)
                guard taken.insert(address).inserted else {
                    throw FleetError(message: "\(spec.name): unit \(unit) on port \(port) is already taken by another device")
                }
                server.serve(UnitMap(emulator: emulator, profileUnit: spec.unit == nil ? unit : spec.profile.defaultUnit),
                             at: address, hooks: FleetHooks(log: writeLog, reads: reads, device: emulator, faults: faults))
            }
            devices.append(ServedDevice(emulator: emulator, house: spec.house, host: host, port: port, units: units, isGridForming: spec.isGridForming))
        }
        self.devices = devices
        houseSlots = Mutex(HouseSlots(baseLoads: baseLoads, devices: devices, remote: []))
        let kinds = devices.map(\.emulator.profile.kind)
        meters = kinds.indices.filter { kinds[$0] == .meter }
        batteries = kinds.indices.filter { kinds[$0] == .battery }
        others = kinds.indices.filter { kinds[$0] != .meter }
        var nominal: [HouseID: Double] = [:]
        for device in devices where nominal[device.house ?? HouseID.pcc] == nil { nominal[device.house ?? HouseID.pcc] = device.emulator.nominalVoltage }
        nominalVoltages = nominal
        scriptsVoltage = gridEvents.contains { if case .voltage = $0.level { true } else { false } }
        self.readLogs = readLogs
        // Devices were running before the emulation starts: a run that begins at noon meets inverters producing.
        let conditions = SiteConditions(weather: weather.weather(at: startTime), houseLoad: 0, solarShare: 1)
        for device in devices { device.emulator.settle(site: conditions) }
        server.start()
    }

    /// Simulated seconds now.
    public var time: Double { clock.withLock { $0 } }

    /// Advances every device by `seconds`, in three phases. First the loads and sources, batteries seeing the net
    /// load of the rest of their house as of the previous step. Then an island's grid-forming battery, which
    /// balances the whole site as it now is, within the step, as a grid-forming inverter does in milliseconds.
    /// Then the meters, which measure what the others did in this step (a meter without a house measures every
    /// house). When the grid-forming battery cannot take all the surplus (at its charge limit or full), the PV
    /// inverters back off in the next step, as IEEE 1547 frequency-watt makes them.
    public func step(for seconds: Double) {
        var left = seconds
        while left > 1e-9 {
            let now = time
            var part = left
            for event in gridEvents {
                for edge in [event.start, event.end] where edge > now + 1e-9 && edge - now < part - 1e-9 { part = edge - now }
            }
            advance(for: part)
            left -= part
        }
    }

    /// The grid a device sees: what a feeder model gave its house (or the PCC), with the grid events in force over it.
    private func grid(of device: ServedDevice, feeder: [HouseID: GridPoint], at time: Double) -> (voltage: Double?, frequency: Double?) {
        grid(at: device.house ?? HouseID.pcc, nominalVoltage: device.emulator.nominalVoltage, feeder: feeder, at: time)
    }

    /// The grid at a house (or the PCC): the feeder's point, with the grid events in force over it, a voltage event's
    /// level per unit of `nominalVoltage`; nil where neither gives one (the nominal grid).
    private func grid(at place: HouseID, nominalVoltage: Double, feeder: [HouseID: GridPoint], at time: Double) -> (voltage: Double?, frequency: Double?) {
        let point = feeder[place]
        var grid = (voltage: point?.voltage, frequency: point?.frequency)
        for event in gridEvents where event.contains(time) && (event.house == nil || event.house == place) {
            switch event.level {
            case .voltage(let perUnit): grid.voltage = perUnit * nominalVoltage
            case .frequency(let hertz): grid.frequency = hertz
            }
        }
        return grid
    }

    /// The voltage at each place now, V phase to neutral, for the series: every place a feeder model gives one
    /// (served here or not), and every house and the PCC here when the rig scripts voltage events (nominal between
    /// them). A place's nominal voltage is its first device's (230 V without one here).
    public var placeVoltages: [HouseID: Double] {
        let feeder = grid.withLock { $0 }
        guard scriptsVoltage || !feeder.isEmpty else { return [:] }
        let now = time, places = Set(feeder.keys).union(scriptsVoltage ? Set(nominalVoltages.keys) : [])
        return Dictionary(uniqueKeysWithValues: places.map { place in
            let volts = nominalVoltages[place] ?? 230
            return (place, grid(at: place, nominalVoltage: volts, feeder: feeder, at: now).voltage ?? volts)
        })
    }

    /// One step of `step(for:)`, within which no grid event begins or ends.
    private func advance(for seconds: Double) {
        let now = time
        let conditions = weather.weather(at: now)
        let share = solarShare.withLock { $0 }, grid = grid.withLock { $0 }
        @Sendable func advance(_ index: Int, _ load: Loads, wholeSite: Bool = false) {
            let device = devices[index], slot = load.slots.devices[index]
            let (own, ownReactive) = (device.emulator.netLoad, device.emulator.netReactive)
            let behind = wholeSite ? load.site - own : slot.map { load.active[$0] - own } ?? load.site
            let reactive = wholeSite ? load.siteReactive - ownReactive : slot.map { load.reactive[$0] - ownReactive } ?? load.siteReactive
            let point = self.grid(of: device, feeder: grid, at: now)
            device.emulator.step(for: seconds, site: SiteConditions(weather: conditions, houseLoad: behind, solarShare: share, houseReactive: reactive,
                                                                    voltage: point.voltage, frequency: point.frequency))
        }
        func loads() -> Loads { self.loads(at: now) }
        if let faults {
            for device in devices {
                device.emulator.faultEffects = faults.effects(device: device.emulator.name, at: now)
                if faults.rebootBegins(device: device.emulator.name, from: now, to: now + seconds) { device.emulator.reboot() }
            }
        }
        // An island's battery forms the grid; during an outage the one the rig names does. Either ignores setpoints.
        let outageFormer = outages.first { $0.contains(now) }?.gridForming.description
        let former = batteries.first { devices[$0].isGridForming || devices[$0].emulator.name == outageFormer }
        for index in batteries { devices[index].emulator.isGridForming = index == former }
        let previous = loads()
        // Within a step each device advances on what the site drew before it, independently of the others.
        Self.concurrently(former.map { former in others.filter { $0 != former } } ?? others) { advance($0, previous) }
        if let former {
            advance(former, loads(), wholeSite: true)
            solarShare.withLock { $0 = nextSolarShare(former: devices[former].emulator, surplus: -loads().site) }
        }
        let current = loads()
        for index in meters { advance(index, current) }
        clock.withLock { $0 = now + seconds }
    }

    /// Runs `body` for every device index, spread over the cores when there are enough devices to repay the hand-over.
    private static func concurrently(_ devices: [Int], _ body: @Sendable (Int) -> Void) {
        let _: [Void] = onEveryCore(devices.count, minimum: devicesWorthSplitting) { range in
            for index in range { body(devices[index]) }
            return []
        }
    }

    /// Each house's net active and reactive power, and the site's, W and var (consumption positive).
    public struct Loads: Sendable {
        fileprivate let slots: HouseSlots
        /// By the slots' houses: each house's base load and devices, and its devices' reactive power.
        fileprivate var active: [Double], reactive: [Double]
        public var site = 0.0, siteReactive = 0.0
        /// A house's net active power, 0 for a house with neither a base load nor a device here.
        public func house(_ id: HouseID) -> Double { slots.index[id].map { active[$0] } ?? 0 }
        /// A house's devices' net reactive power, 0 for a house with no device here.
        public func houseReactive(_ id: HouseID) -> Double { slots.index[id].map { reactive[$0] } ?? 0 }
    }

    /// The net power of each house's devices alone, W and var, summed in the devices' order.
    public struct DeviceLoads: Sendable, Equatable {
        public var active = 0.0, reactive = 0.0
        public init(active: Double = 0, reactive: Double = 0) { (self.active, self.reactive) = (active, reactive) }
    }

    /// Each house's devices' net power as they stand (the houses of a shard, for the conductor).
    public func deviceLoads() -> [HouseID: DeviceLoads] {
        let slots = houseSlots.withLock { $0 }, sums = deviceSums(slots)
        return Dictionary(uniqueKeysWithValues: slots.houses.indices.filter { sums.present[$0] }.map {
            (slots.houses[$0], DeviceLoads(active: sums.active[$0], reactive: sums.reactive[$0]))
        })
    }

    /// Each slot's devices' net power summed in the devices' order (a remote house's as reported), and which slots
    /// have devices.
    private func deviceSums(_ slots: HouseSlots) -> (active: [Double], reactive: [Double], present: [Bool]) {
        var active = [Double](repeating: 0, count: slots.houses.count), reactive = active
        var present = [Bool](repeating: false, count: slots.houses.count)
        for (house, loads) in remote.withLock({ $0 }) {
            guard let slot = slots.index[house] else { continue }
            (active[slot], reactive[slot], present[slot]) = (loads.active, loads.reactive, true)
        }
        for (index, device) in devices.enumerated() {
            guard let slot = slots.devices[index] else { continue }
            active[slot] += device.emulator.netLoad
            reactive[slot] += device.emulator.netReactive
            present[slot] = true
        }
        return (active, reactive, present)
    }

    /// Sets the devices' net power of a house another process emulates, for the steps that follow.
    public func setRemote(_ loads: DeviceLoads, of house: HouseID) {
        remote.withLock { $0[house] = loads }
        houseSlots.withLock { slots in
            guard slots.index[house] == nil else { return }
            slots = HouseSlots(baseLoads: baseLoads, devices: devices, remote: remote.withLock { Array($0.keys) })
        }
    }

    /// The loads as the devices stand, with the base loads at `time`. A house's devices are summed before its base
    /// load is added, so that a house emulated elsewhere (`setRemote`) sums the same to the last bit; the site sums
    /// the houses in name order, so that a seed replays bit for bit.
    public func loads(at time: Double) -> Loads {
        let slots = houseSlots.withLock { $0 }, devices = deviceSums(slots)
        var loads = Loads(slots: slots, active: [Double](repeating: 0, count: slots.houses.count), reactive: devices.reactive)
        for slot in slots.houses.indices {
            if let base = slots.baseLoads[slot] { loads.active[slot] = base.power(at: time) }
            if devices.present[slot] {
                loads.active[slot] += devices.active[slot]
                loads.siteReactive += devices.reactive[slot]
            }
            loads.site += loads.active[slot]
        }
        return loads
    }

    /// Gives the grid at a house's connection (or at the PCC, `HouseID.pcc`) for the steps that follow; nil values
    /// return it to nominal.
    public func setGrid(_ point: GridPoint?, at place: HouseID) { grid.withLock { $0[place] = point } }

    /// What PV may give next step: its output now, less the surplus the grid-forming battery could not take, plus
    /// what the battery could still absorb; as a share of what the sun offers.
    private func nextSolarShare(former: DeviceEmulator, surplus: Double) -> Double {
        let inverters = devices.filter { $0.emulator.profile.kind == .inverter }.map(\.emulator)
        let output = inverters.reduce(0) { $0 - $1.netLoad }
        let available = inverters.reduce(0) { $0 + ($1.reading(.availablePower) ?? 0) }
        guard available > 0 else { return 1 }
        let charging = max(0, -(former.reading(.batteryPower) ?? 0))
        let full = (former.reading(.stateOfCharge) ?? 0) >= (former.reading(.maximumSoC) ?? 100) - 0.1
        let headroom = full ? 0 : max(0, (former.reading(.maxChargePower) ?? 0) - charging)
        return min(1, max(0, (output - max(surplus, 0) + headroom) / available))
    }

    /// Closes every port and client connection.
    public func stop() { server.stop() }
}

/// Serves a device under a rig-chosen unit id while its profile's blocks keep their own.
final class UnitMap: ModbusUnit {
    let emulator: DeviceEmulator
    let profileUnit: UInt8
    init(emulator: DeviceEmulator, profileUnit: UInt8) {
        self.emulator = emulator
        self.profileUnit = profileUnit
    }
    func respond(to request: ModbusRequest, unit: UInt8) -> ModbusResponse { emulator.respond(to: request, unit: profileUnit) }
}

public struct FleetError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}

/// The houses a fleet sums loads for, each a slot in name order, and each device's slot. The sums ran through
/// dictionaries keyed by house, which hashed a name several times a device a step: half the physics of 10,000
/// inverters.
struct HouseSlots: Sendable {
    let houses: [HouseID]
    let index: [HouseID: Int]
    /// Each slot's base load, if its house has one.
    let baseLoads: [BaseLoad?]
    /// Each device's slot, in the fleet's order; nil for a device of the whole site (a meter at the PCC).
    let devices: [Int?]

    init(baseLoads: [HouseID: BaseLoad], devices: [ServedDevice], remote: [HouseID]) {
        houses = Set(baseLoads.keys).union(devices.compactMap(\.house)).union(remote).sorted()
        let index = Dictionary(uniqueKeysWithValues: houses.enumerated().map { ($1, $0) })
        self.index = index
        self.baseLoads = houses.map { baseLoads[$0] }
        self.devices = devices.map { $0.house.flatMap { index[$0] } }
    }
}
