public import Bus
public import Emulators
public import Messages
public import Physics
public import Rigs

/// What the physics series holds of a device, each with its unit and sign.
public enum SeriesReading: String, Sendable, CaseIterable, Comparable {
    /// kW: + consumed for loads, + produced for PV, + discharged for a battery, + imported at a meter.
    case power
    /// %: a battery's state of charge.
    case soc
    /// °C: a room's air temperature.
    case room
    /// %: the state of charge of the vehicle at a charger.
    case vehicleSoC = "vehicle-soc"
    /// kWh: a meter's import and export counters.
    case imported, exported
    /// kW, + discharge: the power a controller forces on a battery (0 when it forces none).
    case forced
    /// 1 while a device runs on its comms-loss fallback (its watchdog expired), else 0.
    case fallback
    /// V phase to neutral: the grid at a house's connection (the series' device is the house, or `pcc`), as a
    /// feeder model gives it in a co-simulation, or as the rig's voltage events script it (nominal between them).
    case voltage
    /// kvar, + injected into the house wiring (raising the voltage), − absorbed: an inverter's or a battery's reactive
    /// power, with the sign of its power series.
    case reactive
    /// An inverter's voltage and frequency trips so far (a product with voltage-trip or frequency-trip).
    case trips
    /// 1 while an inverter has ceased to energize after a trip, until it enters service again, else 0.
    case tripped

    public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }
}

extension DeviceKind {
    /// +1 for a device whose power series counts what it draws from its house (a heat pump, a charger), −1 for one
    /// whose series counts what it gives (PV, a battery discharging), 0 for a meter.
    package var drawSign: Double {
        switch self {
        case .thermostat, .evCharger: 1
        case .inverter, .battery: -1
        case .meter: 0
        }
    }
}

/// One series of the physics: a device and what of it.
public struct SeriesKey: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var device: String
    public var reading: SeriesReading

    public init(_ device: String, _ reading: SeriesReading) {
        self.device = device
        self.reading = reading
    }

    /// "<device>/<reading>", as series.csv heads its columns.
    public var description: String { "\(device)/\(reading.rawValue)" }
    public static func < (a: Self, b: Self) -> Bool { (a.device, a.reading) < (b.device, b.reading) }
}

/// The physics as it ran, sampled after every physics step: GridRig's first truth (the bus capture and the
/// write logs are the other two).
public struct PhysicsSeries: Sendable {
    /// Simulated seconds of each sample.
    public private(set) var times: [Double] = []
    /// Sampled values, each aligned with `times`.
    public private(set) var values: [SeriesKey: [Double]] = [:]
    /// Where each value of the last fleet sampled went, in the order `read` hands them out, and the devices it came
    /// from: while the fleet stays the same, a sample appends without hashing a key (a run samples every device at
    /// every step).
    private var slots: [Dictionary<SeriesKey, [Double]>.Index] = []
    private var slotDevices: [ObjectIdentifier] = []

    public init() {}

    /// A series given whole (tests, replays).
    package init(times: [Double], values: [SeriesKey: [Double]]) {
        self.times = times
        self.values = values
    }

    /// What each kind of device contributes to the series.
    static let readings: [DeviceKind: [(reading: SeriesReading, quantity: Quantity, scale: Double)]] = [
        .inverter: [(.power, .acPower, 0.001), (.reactive, .reactivePower, 0.001)],
        .battery: [(.power, .batteryPower, 0.001), (.soc, .stateOfCharge, 1), (.forced, .forcedPower, 0.001), (.reactive, .reactivePower, 0.001)],
        .thermostat: [(.power, .hvacPower, 0.001), (.room, .roomTemperature, 1)],
        .evCharger: [(.power, .chargingPower, 0.001), (.vehicleSoC, .vehicleSoC, 1)],
        .meter: [(.power, .gridPower, 0.001), (.imported, .importedEnergy, 0.001), (.exported, .exportedEnergy, 0.001)],
    ]

    /// What a device with trips adds (`DeviceProfile.hasTrips`).
    private static let trips: [(reading: SeriesReading, quantity: Quantity, scale: Double)] = [(.trips, .trips, 1), (.tripped, .tripped, 1)]
    /// The quantities behind each list of readings, in its order: built once, not at every sample.
    private static let quantities = readings.mapValues { $0.map(\.quantity) }
    private static let tripQuantities = trips.map(\.quantity)

    /// The series a device of `profile` has.
    static func readings(of profile: DeviceProfile) -> [SeriesReading] {
        (readings[profile.kind] ?? []).map(\.reading) + (profile.watchdog != nil ? [.fallback] : [])
            + (profile.hasTrips ? [.trips, .tripped] : [])
    }

    /// Hands `body` what each of one device's series reads now, in `readings(of:)`'s order, without building a list:
    /// this runs for every device at every physics step.
    static func read(_ emulator: DeviceEmulator, _ body: (SeriesReading, Double) -> Void) {
        func hand(_ readings: [(reading: SeriesReading, quantity: Quantity, scale: Double)], _ quantities: [Quantity]) {
            var index = 0
            emulator.read(quantities) { value in
                body(readings[index].reading, (value ?? .nan) * readings[index].scale)
                index += 1
            }
        }
        let kind = emulator.profile.kind
        hand(readings[kind] ?? [], quantities[kind] ?? [])
        if emulator.profile.watchdog != nil { body(.fallback, emulator.isOnFallback ? 1 : 0) }
        if emulator.profile.hasTrips { hand(trips, tripQuantities) }
    }

    /// What every device's series read now, in the devices' order and each device's `read` order. The devices are read
    /// on every core: at 1,000 houses, reading them one after another was the largest part of a lockstep step spent
    /// on one core while the agents wait.
    private static func readAll(_ devices: [ServedDevice]) -> [Double] {
        onEveryCore(devices.count, minimum: devicesWorthSplitting) { range in
            var row: [Double] = []
            for index in range { Self.read(devices[index].emulator) { _, value in row.append(value) } }
            return row
        }
    }

    /// Samples the fleet's devices, the grid it was given, and what other processes (shards) reported of theirs.
    mutating func sample(_ fleet: Fleet, at time: Double, remote: [SeriesKey: Double] = [:]) {
        times.append(time)
        let devices = fleet.devices.map { ObjectIdentifier($0.emulator) }
        if devices == slotDevices {
            for (slot, value) in zip(slots, Self.readAll(fleet.devices)) { values.values[slot].append(value) }
        } else {
            var keys: [SeriesKey] = []
            for device in fleet.devices {
                Self.read(device.emulator) { reading, value in
                    let key = SeriesKey(device.emulator.name, reading)
                    values[key, default: []].append(value)
                    keys.append(key)
                }
            }
            slotDevices = devices
            slots = keys.map { values.index(forKey: $0)! }
        }
        // A new key moves the others: the next sample finds its slots again.
        let known = values.count
        for (place, volts) in fleet.placeVoltages { values[SeriesKey(place.name, .voltage), default: []].append(volts) }
        for (key, value) in remote { values[key, default: []].append(value) }
        if values.count != known { slotDevices = [] }
    }

    public func series(_ device: String, _ reading: SeriesReading) -> [Double] { values[SeriesKey(device, reading)] ?? [] }
}

/// What the broker kept off a run's bus (docs/PROTOCOL.md, "Security"): refused messages and connections, and
/// what arrived after the capture was full.
public struct BusAdmissions: Sendable {
    /// Whether connections had to authenticate with CURVE.
    public var authenticated = false
    public var refusals: [BusRefusal] = []
    public var refusedConnections: [RefusedConnection] = []
    public var captureOverflow = BusCaptureOverflow()

    public init(authenticated: Bool = false, refusals: [BusRefusal] = [], refusedConnections: [RefusedConnection] = [],
                captureOverflow: BusCaptureOverflow = BusCaptureOverflow()) {
        self.authenticated = authenticated
        self.refusals = refusals
        self.refusedConnections = refusedConnections
        self.captureOverflow = captureOverflow
    }
}

/// Everything one run left behind, from which assertions and reports are computed.
public struct RunRecord: Sendable {
    public var rig: Rig
    public var intervals: [IntervalRecord]
    public var capture: CaptureLog
    public var writes: [LoggedWrite]
    /// When each device answered reads and when it turned them away, by device name.
    public var reads: [String: ReadLog.Times] = [:]
    public var physics: PhysicsSeries
    /// The households of the run, in the rig's order.
    public var households: [HouseID]
    /// Wall-clock seconds the run took.
    public var wallSeconds: Double
    /// The same rig with no controller (`gridrig run --baseline`): devices on their own defaults.
    public var baseline: PhysicsSeries?
    /// What the rig's bus faults did to messages, in arrival order.
    public var busFaultEvents: [BusFaultEvent] = []
    /// What the broker kept off the bus.
    public var admissions = BusAdmissions()
    /// Wall-clock seconds each HELICS time request waited for its grant (a co-simulation; empty otherwise).
    public var grantWaits: [Double] = []
    /// Where each device was served.
    public var devices: [DevicePlace] = []

    /// A paced run's own clock: how late its physics steps ended behind wall time, ms (nil in lockstep).
    public var clockLag: (p99: Double, max: Double)? {
        let lags = intervals.flatMap(\.lags).map { $0 * 1000 }.sorted()
        guard let p99 = Figures.percentile(sorted: lags, 0.99) else { return nil }
        return (p99, lags.last ?? 0)
    }

    /// The most a paced run's clock may lag before the run says nothing of its controllers, ms.
    public static let clockLagLimit = 100.0

    /// Why the run cannot judge its controllers, if its own clock lagged beyond the limit: GridRig's failure.
    public var clockFailure: String? {
        guard let lag = clockLag, lag.max > Self.clockLagLimit else { return nil }
        return "GridRig's clock lagged \(Figures.format(lag.max, 1)) ms behind wall time (p99 \(Figures.format(lag.p99, 1)) ms; "
            + "at most \(Figures.format(Self.clockLagLimit, 0)) ms): the machine could not keep the pace, so the run says nothing of its controllers"
    }

    /// Every captured message that decodes, with its arrival time, in order.
    public var messages: [(message: Message, received: Double)] {
        capture.compactMap { captured in
            (try? Message.decode(topic: captured.topic, payload: captured.payload.first ?? [])).map { ($0, captured.received) }
        }
    }
}
