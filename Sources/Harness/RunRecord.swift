public import Bus
public import Emulators
public import Messages
import Physics

/// The physics as it ran, sampled after every physics step: GridRig's first truth (the bus capture and the
/// write logs are the other two).
public struct PhysicsSeries: Sendable {
    /// Simulated seconds of each sample.
    public private(set) var times: [Double] = []
    /// Sampled values by "<device>/<reading>", each aligned with `times`: `power` (kW; + consumed for loads,
    /// + produced for PV, + discharged for a battery, + imported at a meter), `soc` (%), `room` (°C),
    /// `vehicle-soc` (%), `imported` and `exported` (kWh, a meter's counters).
    public private(set) var values: [String: [Double]] = [:]

    public init() {}

    /// A series given whole (tests, replays).
    init(times: [Double], values: [String: [Double]]) {
        self.times = times
        self.values = values
    }

    /// What each kind of device contributes to the series.
    static let readings: [DeviceKind: [(name: String, quantity: Quantity, scale: Double)]] = [
        .inverter: [("power", .acPower, 0.001)],
        .battery: [("power", .batteryPower, 0.001), ("soc", .stateOfCharge, 1)],
        .thermostat: [("power", .hvacPower, 0.001), ("room", .roomTemperature, 1)],
        .evCharger: [("power", .chargingPower, 0.001), ("vehicle-soc", .vehicleSoC, 1)],
        .meter: [("power", .gridPower, 0.001), ("imported", .importedEnergy, 0.001), ("exported", .exportedEnergy, 0.001)],
    ]

    mutating func sample(_ fleet: Fleet, at time: Double) {
        times.append(time)
        for device in fleet.devices {
            let emulator = device.emulator
            for reading in Self.readings[emulator.profile.kind] ?? [] {
                values["\(emulator.name)/\(reading.name)", default: []].append((emulator.reading(reading.quantity) ?? .nan) * reading.scale)
            }
        }
    }

    public func series(_ key: String) -> [Double] { values[key] ?? [] }
}

/// Everything one run left behind, from which assertions and reports are computed.
public struct RunRecord: Sendable {
    public var rig: Rig
    public var intervals: [IntervalRecord]
    public var capture: [CapturedMessage]
    public var writes: [LoggedWrite]
    public var physics: PhysicsSeries
    /// The households of the run, in the rig's order.
    public var households: [String]
    /// Wall-clock seconds the run took.
    public var wallSeconds: Double
    /// The same rig with no controller (`gridrig run --baseline`): devices on their own defaults.
    public var baseline: PhysicsSeries?
    /// What the rig's bus faults did to messages, in arrival order.
    public var busFaultEvents: [BusFaultEvent] = []

    /// Every captured message that decodes, with its arrival time, in order.
    public var messages: [(message: Message, received: Double)] {
        capture.compactMap { captured in
            (try? Message.decode(topic: captured.topic, payload: captured.payload.first ?? [])).map { ($0, captured.received) }
        }
    }
}
