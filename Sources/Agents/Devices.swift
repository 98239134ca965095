import Bus
import Market
import Messages
public import Physics

/// What a household's agent knows of one device beyond its registers: where it is, its nameplate, and for a
/// charger the vehicle its owner told the app about.
public struct DeviceSetup: Sendable {
    public enum Kind: String, Sendable, Codable, CaseIterable {
        case inverter, battery, thermostat, evCharger = "ev-charger"
    }

    /// As the rig names it.
    public var id: DeviceID
    public var kind: Kind
    /// The product's profile name, e.g. "alfen-ng9xx".
    public var profile: String
    public var map: DeviceMap
    /// The profile's ratings (e.g. cooling-capacity, round-trip-efficiency), in the profile's units.
    public var ratings: [Rating: Double]
    public var vehicle: VehiclePlan?
    /// The product's communication watchdog, s: without a re-arming write within it the device falls back to its
    /// safe settings (Alfen's 60 s); nil when it has none, or when the agent sets its timeout itself.
    public var watchdogTimeout: Double?

    public init(id: DeviceID, kind: Kind, profile: String, map: DeviceMap, ratings: [Rating: Double] = [:], vehicle: VehiclePlan? = nil,
                watchdogTimeout: Double? = nil) {
        self.id = id
        self.kind = kind
        self.profile = profile
        self.map = map
        self.ratings = ratings
        self.vehicle = vehicle
        self.watchdogTimeout = watchdogTimeout
    }
}

extension DeviceSetup.Kind {
    /// What the reference agent reads of such a device.
    var readings: [Quantity] {
        switch self {
        case .inverter: [.acPower, .ratedPower]
        case .battery: [.batteryPower, .stateOfCharge, .capacity, .maxChargePower, .maxDischargePower, .minimumSoC, .maximumSoC]
        case .thermostat: [.roomTemperature, .hvacAction]
        case .evCharger: [.pilotState, .sessionEnergy, .totalEnergy, .chargingCurrent]
        }
    }

    /// What it writes of such a device (a SunSpec battery maps 704's power limit too, which its agent never sets).
    var controls: [Control] {
        switch self {
        case .inverter: [.powerLimitPercent, .powerLimitEnabled]
        case .battery: [.storageControlMode, .chargeRatePercent, .dischargeRatePercent]
        case .thermostat: [.power, .mode, .heatSetpoint, .coolSetpoint]
        case .evCharger: [.maxCurrent, .chargingEnabled]
        }
    }
}

/// A charger's reading, and the kWh it has delivered this session.
typealias EVStatus = (reading: EVReading, delivered: Double)

/// A vehicle's visit as its owner entered it: when it comes and goes, and the AC energy it should get.
public struct VehiclePlan: Sendable, Equatable, Codable {
    /// Simulated seconds since midnight of the first day.
    public var arrival: Double
    public var departure: Double
    /// kWh at the charger.
    public var energyNeeded: Double
    /// The vehicle's on-board charger: A per phase and phases.
    public var maxCurrent: Double
    public var phases: Int

    public init(arrival: Double, departure: Double, energyNeeded: Double, maxCurrent: Double, phases: Int) {
        self.arrival = arrival
        self.departure = departure
        self.energyNeeded = energyNeeded
        self.maxCurrent = maxCurrent
        self.phases = phases
    }
}

/// One device as the agent drives it: Modbus reads into market readings, dispatch into Modbus writes.
final class DeviceDriver {
    let setup: DeviceSetup
    let connection: DeviceConnection
    /// The charger's lifetime energy when the vehicle plugged in, for chargers that map no session energy.
    private var totalAtPlugIn: Double?

    /// What the agent reads of the device for its bids: its kind's readings, but a charger's lifetime counter only
    /// where no session counter stands in for it.
    let readings: [Quantity]

    /// Its writes go out with `batch`.
    init(_ setup: DeviceSetup, batch: ModbusBatch) {
        self.setup = setup
        connection = DeviceConnection(name: setup.id.description, map: setup.map, batch: batch)
        let counter: Quantity = setup.map.readings[.sessionEnergy] != nil ? .sessionEnergy : .totalEnergy
        evStatus = [.pilotState, counter]
        readings = setup.kind.readings.filter { $0 != .totalEnergy || counter == .totalEnergy }
    }

    func rating(_ name: Rating, _ fallback: Double) -> Double { setup.ratings[name] ?? fallback }

    /// Plans reading `names` ahead, and with `writing` the scale factors its writes will need.
    func readAhead(_ names: [Quantity], writing: Bool) {
        connection.readAhead(names, settings: writing ? setup.kind.controls : [])
    }

    func thermostat(season: ThermostatStrategy.Season) throws(DeviceLinkError) -> ThermostatReading {
        try connection.fetching(DeviceSetup.Kind.thermostat.readings) { () throws(DeviceLinkError) in try thermostatReading(season: season) }
    }

    private func thermostatReading(season: ThermostatStrategy.Season) throws(DeviceLinkError) -> ThermostatReading {
        let running = season == .cooling
            ? rating(.coolingCapacity, 5000) / rating(.coolingCOP, 3) : rating(.heatingCapacity, 6000) / rating(.heatingCOP, 3.5)
        return ThermostatReading(roomTemperature: try connection.read(.roomTemperature), runningPower: (running + rating(.fanPower, 120)).inKilo)
    }

    /// Whether the compressor runs now (HVAC action heating, cooling or drying).
    func compressorRuns() throws(DeviceLinkError) -> Bool {
        guard connection.has(.hvacAction) else { return false }
        return [2, 3, 5].contains(Int(try connection.read(.hvacAction)))
    }

    /// The current the vehicle draws now, A per phase; nil when the charger does not show it.
    func drawnCurrent() throws(DeviceLinkError) -> Double? {
        connection.has(.chargingCurrent) ? try connection.read(.chargingCurrent) : nil
    }

    /// The battery's AC power now, kW (+ discharge), and its state of charge, 0...1, in as few requests as the map
    /// allows (each with its scale factor).
    func batteryState() throws(DeviceLinkError) -> (power: Double, stateOfCharge: Double) {
        try connection.fetching(Self.batteryStatus) { () throws(DeviceLinkError) in
            (try connection.read(.batteryPower).inKilo, try connection.read(.stateOfCharge).fromPercent)
        }
    }

    /// What `batteryState()` reads.
    static let batteryStatus: [Quantity] = [.batteryPower, .stateOfCharge]

    /// The battery's reading, and its AC power now, kW (+ discharge), when its profile maps it.
    func battery() throws(DeviceLinkError) -> (reading: BatteryReading, power: Double?) {
        try connection.fetching(DeviceSetup.Kind.battery.readings) { () throws(DeviceLinkError) in
            (try batteryReading(), connection.has(.batteryPower) ? try connection.read(.batteryPower).inKilo : nil)
        }
    }

    private func batteryReading() throws(DeviceLinkError) -> BatteryReading {
        let maxCharge = try connection.read(.maxChargePower).inKilo
        return BatteryReading(stateOfCharge: try connection.read(.stateOfCharge).fromPercent, capacity: try connection.read(.capacity).inKilo,
                              maximumChargePower: maxCharge,
                              maximumDischargePower: connection.has(.maxDischargePower) ? try connection.read(.maxDischargePower).inKilo : maxCharge,
                              minimumSoC: (connection.has(.minimumSoC) ? try connection.read(.minimumSoC) : rating(.minimumSoC, 5)).fromPercent,
                              maximumSoC: (connection.has(.maximumSoC) ? try connection.read(.maximumSoC) : rating(.maximumSoC, 100)).fromPercent,
                              roundTripEfficiency: rating(.roundTripEfficiency, 0.9))
    }

    /// The array's output as last seen without the agent's limit holding it back, kW.
    private var unlimitedOutput: Double?
    /// The power limit the agent last wrote, kW; nil when none holds.
    private var powerLimit: Double?

    /// What the array could give now: the output, or while the agent's limit holds it (the output at the limit),
    /// the output last seen without it, since an inverter held at a limit shows no more.
    func solar() throws(DeviceLinkError) -> SolarReading {
        try connection.fetching(DeviceSetup.Kind.inverter.readings) { () throws(DeviceLinkError) in
            let output = max(0, try connection.read(.acPower)).inKilo
            if let powerLimit, output >= 0.95 * powerLimit, let unlimitedOutput {
                return SolarReading(availablePower: max(output, unlimitedOutput), ratedPower: try connection.read(.ratedPower).inKilo)
            }
            unlimitedOutput = output
            return SolarReading(availablePower: output, ratedPower: try connection.read(.ratedPower).inKilo)
        }
    }

    /// The charger's reading, and the kWh it has delivered this session. Plugged in is IEC 61851 state B, C or D
    /// (positions 1...6 of A, B1, B2, C1, C2, D1, D2, E, F).
    func ev(at time: Double) throws(DeviceLinkError) -> EVStatus {
        try connection.fetching(evStatus) { () throws(DeviceLinkError) in try evReading(at: time) }
    }

    /// What `ev(at:)` reads: the session's energy where the charger counts it, else its lifetime counter.
    let evStatus: [Quantity]

    private func evReading(at time: Double) throws(DeviceLinkError) -> EVStatus {
        let state = try connection.readState(.pilotState) ?? 0
        let plugged = (1...6).contains(state)
        let delivered = try evDelivered(pluggedIn: plugged)
        let plan = setup.vehicle
        let reading = EVReading(isPluggedIn: plugged && plan != nil, energyNeeded: max(0, (plan?.energyNeeded ?? 0) - delivered),
                         timeToDeparture: (plan?.departure ?? time) - time,
                         minimumCurrent: rating(.minimumCurrent, 6), maximumCurrent: min(rating(.maxCurrent, 32), plan?.maxCurrent ?? 32),
                         phases: min(Int(rating(.phases, 3)), plan?.phases ?? 3), voltage: rating(.voltage, 230))
        return (reading, delivered)
    }

    /// kWh the charger has delivered in this session (from its session counter, or its lifetime counter since
    /// the vehicle plugged in).
    private func evDelivered(pluggedIn plugged: Bool) throws(DeviceLinkError) -> Double {
        if connection.has(.sessionEnergy) { return try connection.read(.sessionEnergy).inKilo }
        guard connection.has(.totalEnergy) else { return 0 }
        let total = try connection.read(.totalEnergy).inKilo
        if !plugged { totalAtPlugIn = nil } else if totalAtPlugIn == nil { totalAtPlugIn = total }
        return total - (totalAtPlugIn ?? total)
    }

    /// Plans a setpoint's writes; returns what was set, to learn whether it landed once the batch is sent. A write
    /// goes out when it would change the registers (as the last write on the connection left them): so on/off and
    /// modes, and the setpoint itself at a control step, as firmware that writes on change does. The setpoint (the
    /// last write) always goes out at the awards, since the dispatch report claims it, and at every step to a
    /// product with a watchdog, as its heartbeat.
    func apply(_ name: SetpointName, _ value: Double?, writes: [(Control, Double)], at occasion: Occasion) -> DispatchOutcome {
        let rewritesLast = occasion == .awards || setup.watchdogTimeout != nil
        let outcome = DispatchOutcome(name: name, value: value)
        do {
            for (index, (point, raw)) in writes.enumerated() where (index == writes.count - 1 && rewritesLast) || !connection.holds(point, raw) {
                try connection.write(point, raw, done: outcome.awaitWrite())
            }
        } catch {
            outcome.fail(error.description)
        }
        outcome.planned()
        return outcome
    }

    func apply(_ dispatch: ThermostatDispatch, at occasion: Occasion) -> DispatchOutcome {
        let cooling = dispatch.season == .cooling, point: Control = cooling ? .coolSetpoint : .heatSetpoint
        let setpoint = connection.taken(point, dispatch.setpoint)
        return apply(cooling ? .coolSetpoint : .heatSetpoint, setpoint, writes: [(.power, 1), (.mode, cooling ? 4 : 1), (point, setpoint)],
                     at: occasion)
    }

    /// The current as the charger takes it (Phoenix: whole amps), so that the report says what was set.
    func apply(_ dispatch: EVDispatch, at occasion: Occasion) -> DispatchOutcome {
        let current = connection.taken(.maxCurrent, dispatch.currentLimit)
        if connection.has(.chargingEnabled) {  // a charger with an enable switch and a current floor (Phoenix)
            return apply(.currentLimit, current, writes: current > 0 ? [(.maxCurrent, current), (.chargingEnabled, 1)] : [(.chargingEnabled, 0)],
                         at: occasion)
        }
        return apply(.currentLimit, current, writes: [(.maxCurrent, current)], at: occasion)
    }

    /// SunSpec 124 as Fronius reads it: with StorCtl_Mod 3 the power window is [−InWRte, OutWRte] × WChaMax,
    /// so equal bounds force one power.
    func apply(_ dispatch: BatteryDispatch, maximumChargePower: Double, at occasion: Occasion) -> DispatchOutcome {
        let percent = maximumChargePower > 0 ? min(max(dispatch.power / maximumChargePower * 100, -100), 100) : 0
        return apply(.power, dispatch.power, writes: [(.storageControlMode, 3), (.chargeRatePercent, -percent), (.dischargeRatePercent, percent)],
                     at: occasion)
    }

    func apply(_ dispatch: SolarDispatch, ratedPower: Double) -> DispatchOutcome {
        guard let limit = dispatch.powerLimit, ratedPower > 0 else {
            powerLimit = nil
            return apply(.powerLimit, nil, writes: [(.powerLimitEnabled, 0)], at: .awards)
        }
        let outcome = apply(.powerLimit, limit, writes: [(.powerLimitPercent, min(max(limit / ratedPower * 100, 0), 100)), (.powerLimitEnabled, 1)],
                            at: .awards)
        outcome.whenLanded { [self] in powerLimit = limit }
        return outcome
    }
}

/// When a setpoint is written: at the awards (reported in the dispatch), or at a control step within the interval.
enum Occasion {
    case awards, controlStep
}

/// One setpoint's fate. Its writes are answered when the loop's batch is sent; until then it has neither landed
/// nor failed (unless planning them failed).
final class DispatchOutcome {
    let name: SetpointName
    /// What the dispatch report claims was set.
    var value: Double?
    /// Wall clock when the device acknowledged the last write, seconds since the Unix epoch.
    private(set) var landedAt: Double?
    private(set) var error: String?
    private var unanswered = 0, isPlanned = false
    private var landing: [() -> Void] = []

    init(name: SetpointName, value: Double?) {
        self.name = name
        self.value = value
    }

    /// An outcome that failed before any write (its device could not be read).
    convenience init(name: SetpointName, failure: String) {
        self.init(name: name, value: nil)
        fail(failure)
        planned()
    }

    /// Counts one more write; returns what its answer calls.
    func awaitWrite() -> (DeviceLinkError?) -> Void {
        unanswered += 1
        return { [self] failure in
            unanswered -= 1
            if let failure { fail(failure.description) }
            settle()
        }
    }

    func fail(_ reason: String) {
        if error == nil { error = reason }
    }

    /// Every write is planned: with none to send, it has landed now.
    func planned() {
        isPlanned = true
        settle()
    }

    /// Runs `body` when it lands (now, if it has); never when it fails.
    func whenLanded(_ body: @escaping () -> Void) {
        if landedAt != nil { body() } else { landing.append(body) }
    }

    private func settle() {
        guard isPlanned, unanswered == 0, error == nil, landedAt == nil else { return }
        landedAt = unixTime()
        for body in landing { body() }
        landing = []
    }

    func setpoint(of device: DeviceID) -> DispatchReport.Setpoint {
        DispatchReport.Setpoint(id: device, name: name, value: value, landedAt: landedAt, error: error)
    }
}
