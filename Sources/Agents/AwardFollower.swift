import Market
import Messages
import Physics

/// One device's award, followed through its interval at control steps: the agent measures what the device has
/// delivered so far and sets it so that the interval ends on the awarded energy. `follow(at:)` plans the
/// device's writes (at the awards, or at a control step) and returns the next simulated time it needs to act, nil when
/// nothing is due before the next interval.
/// `begin` does no I/O: the first `follow`, at the awards, reads what it needs.
protocol AwardFollower: AnyObject {
    var driver: DeviceDriver { get }
    /// Takes the interval's award (kW, + bought, − sold) at `time`, the interval running to `end`. On an island
    /// (`islanded`) a follower avoids steps above its award: the battery forming the grid has little reserve.
    func begin(award: Double, at time: Double, end: Double, islanded: Bool)
    /// Plans reading ahead what `follow(at: time)` will read (nothing it saw at that instant already).
    func readAhead(at time: Double)
    func follow(at time: Double, _ occasion: Occasion) -> (outcome: DispatchOutcome, next: Double?)
}

/// How often a follower looks again at a device whose award it is tracking, simulated s.
let replanPeriod = 60.0

/// The EV charger: the current that delivers the rest of the awarded energy in the time left, re-planned as the
/// vehicle's acceptance changes. Below the IEC minimum current it charges at the minimum, then stops once the
/// energy is in (a duty cycle within the interval), except on an island, where it does not charge below the
/// minimum at all.
final class EVFollower: AwardFollower {
    let driver: DeviceDriver
    private let mutation: HouseholdMutation?
    private var energy = 0.0, begun = 0.0, end = 0.0
    /// kWh the charger had delivered this session when the interval's following began; nil until the first look.
    private var delivered: Double?
    private var islanded = false
    /// The current offered, A, and since when.
    private var offered = (current: 0.0, since: 0.0)
    /// What the plugged-in vehicle takes when offered more, A (it tapers near full); nil until seen, and after it
    /// leaves. The agent bids no more than this.
    private(set) var acceptance: Double?
    /// Whether a vehicle was plugged in at the last look.
    private var pluggedIn = false
    /// The charger's status at the last look, and its simulated time: the awards come at the instant of the
    /// interval's start, and reuse what the agent read for its bids.
    private var seen: (time: Double, status: EVStatus)?

    init(driver: DeviceDriver, mutation: HouseholdMutation?) {
        self.driver = driver
        self.mutation = mutation
    }

    /// Learns the vehicle's acceptance from what it draws against what it has been offered for a while (a vehicle
    /// takes a few seconds to follow a new current). It only falls while the vehicle stays: a vehicle that takes all
    /// of an offer no higher than what it was learned to accept proves nothing more (forgetting then made the agent
    /// bid the full current again, and a tapering vehicle fell short of every such award).
    func observe(_ status: EVStatus, at time: Double) throws(DeviceLinkError) {
        guard seen?.time != time else { return }
        seen = (time, status)
        let reading = status.reading
        pluggedIn = reading.isPluggedIn
        guard reading.isPluggedIn else { acceptance = nil; return }
        guard learns(at: time), let drawn = try driver.drawnCurrent(), drawn > 0 else { return }
        if drawn < offered.current - 1 { acceptance = drawn }
    }

    /// Whether the vehicle has had its offer long enough to show what it accepts.
    private func learns(at time: Double) -> Bool { offered.current > 0 && time - offered.since >= 20 }

    /// Whether `follow` leaves the charger unread: nothing awarded, and no vehicle at the last look.
    private var idle: Bool { energy == 0 && !pluggedIn && mutation == nil }

    func readAhead(at time: Double) {
        guard seen?.time != time else { return driver.readAhead([], writing: true) }
        driver.readAhead(idle ? [] : driver.evStatus + (learns(at: time) ? [.chargingCurrent] : []), writing: true)
    }

    func begin(award: Double, at time: Double, end: Double, islanded: Bool) {
        energy = max(award, 0) * (end - time) / 3600
        delivered = nil
        begun = time
        self.end = end
        self.islanded = islanded
    }

    func follow(at time: Double, _ occasion: Occasion) -> (outcome: DispatchOutcome, next: Double?) {
        // Nothing awarded and no vehicle at the last look: only the watchdog needs the current written again.
        if idle { return (driver.apply(EVDispatch(currentLimit: 0), at: occasion), nil) }
        let reading: EVReading, got: Double
        do {
            let status: EVStatus
            if let seen, seen.time == time { status = seen.status } else { status = try driver.ev(at: time) }
            reading = status.reading
            if delivered == nil { delivered = status.delivered }
            got = status.delivered - (delivered ?? status.delivered)
            try observe(status, at: time)
        } catch {
            return (DispatchOutcome(name: .currentLimit, failure: error.description), time + replanPeriod)
        }
        let remaining = energy - got, left = min(end - time, reading.timeToDeparture)
        var current = 0.0, next: Double?
        if reading.isPluggedIn, reading.kilowattsPerAmpere > 0, remaining > 0.001, left > 0 {
            let power = remaining / (left / 3600)
            if power >= reading.minimumPower {
                current = min(power / reading.kilowattsPerAmpere, reading.maximumCurrent)
                next = time + replanPeriod
            } else if !islanded, remaining / reading.minimumPower * 3600 >= 10 {
                current = reading.minimumCurrent
                next = time + remaining / reading.minimumPower * 3600
            }
        }
        switch mutation {
        case .evOverCurrent where energy > 0 && reading.isPluggedIn:  // the award's current, open loop, 2 A too high
            current = min(energy / ((end - begun) / 3600) / max(reading.kilowattsPerAmpere, 1e-9), reading.maximumCurrent) + 2
        case .evWithoutAward where reading.isPluggedIn: current = reading.maximumCurrent
        default: break
        }
        if current != offered.current { offered = (current, time) }
        return (driver.apply(EVDispatch(currentLimit: current), at: occasion), next)
    }
}

/// The battery: the power that brings the interval's metered energy to the award, from its measured power
/// integrated since the award. A battery settles on a new setpoint within seconds (its latency and ramp), so a
/// stretch that began with a new setpoint counts at the power it settled on; any other at the mean of its ends.
/// A battery that does not settle on its setpoint (a hybrid inverter backing up the house in an outage, one held
/// at a state-of-charge limit) is not the agent's to sell: `obeys` turns false and the agent stops bidding it
/// until it follows again.
final class BatteryFollower: AwardFollower {
    let driver: DeviceDriver
    private let mutation: HouseholdMutation?
    /// kWh, + discharge.
    private var energy = 0.0, delivered = 0.0, end = 0.0
    /// The last look: when, the power then, and the setpoint written then if it changed (nil before the first look
    /// of an interval).
    private var last: (time: Double, power: Double, setpoint: Double?)?
    /// The last setpoint written, and when.
    private var written: (time: Double, power: Double)?
    /// Whether the battery settled on its last setpoint, as far as the agent has seen.
    private(set) var obeys = true
    private var limits: (charge: Double, discharge: Double) = (0, 0)
    /// The state-of-charge window, 0...1, and the capacity, kWh.
    private var window: ClosedRange<Double> = 0...1
    private var capacity = 0.0
    /// The power and state of charge at the agent's reading for its bids, and its simulated time: the awards come at
    /// that instant, and reuse it.
    private var seen: (time: Double, power: Double, stateOfCharge: Double)?

    init(driver: DeviceDriver, mutation: HouseholdMutation?) {
        self.driver = driver
        self.mutation = mutation
    }

    /// Takes the battery's ratings and SoC window from the agent's reading at the interval's start, and its power
    /// and state of charge then.
    func observe(_ reading: BatteryReading, power: Double?, at time: Double) {
        seen = power.map { (time, $0, reading.stateOfCharge) }
        limits = (reading.maximumChargePower, reading.maximumDischargePower)
        window = reading.minimumSoC...max(reading.minimumSoC, reading.maximumSoC)
        capacity = reading.capacity
    }

    func begin(award: Double, at time: Double, end: Double, islanded: Bool) {
        energy = -award * (end - time) / 3600
        delivered = 0
        last = nil
        self.end = end
    }

    func readAhead(at time: Double) {
        driver.readAhead(seen?.time == time ? [] : DeviceDriver.batteryStatus, writing: true)
    }

    func follow(at time: Double, _ occasion: Occasion) -> (outcome: DispatchOutcome, next: Double?) {
        let power: Double, soc: Double
        do {
            if let seen, seen.time == time { (power, soc) = (seen.power, seen.stateOfCharge) } else { (power, soc) = try driver.batteryState() }
        } catch {
            return (DispatchOutcome(name: .power, failure: error.description), time + replanPeriod)
        }
        if let written, time - written.time >= 20 { obeys = abs(power - written.power) <= 0.5 }
        if let last { delivered += (last.setpoint == nil ? (last.power + power) / 2 : power) * (time - last.time) / 3600 }
        let left = end - time
        var setpoint = left > 0 ? min(max((energy - delivered) / (left / 3600), -limits.charge), limits.discharge) : 0
        // Never force what the battery must refuse: a discharge at its minimum, a charge at its maximum.
        let margin = BatteryReading.edgeMargin
        let atLimit = (setpoint > 0 && soc <= window.lowerBound + margin) || (setpoint < 0 && soc >= window.upperBound - margin)
        if atLimit, mutation != .batteryIgnoresSoC { setpoint = 0 }
        // Nor run into a limit before the next re-plan: no more power than brings the SoC to its edge by then.
        if capacity > 0, mutation != .batteryIgnoresSoC {
            let perStep = capacity * 3600 / replanPeriod  // kW that move the SoC by 1 (the whole window) in a re-plan period
            setpoint = min(max(setpoint, -max(0, window.upperBound - margin - soc) * perStep), max(0, soc - window.lowerBound - margin) * perStep)
        }
        if mutation == .batterySign { setpoint = -setpoint }
        last = (time, power, abs(setpoint - power) > 0.05 ? setpoint : nil)
        if written?.power != setpoint { written = (time, setpoint) }
        let idle = energy == 0 && abs(power) < 0.05
        let outcome = driver.apply(BatteryDispatch(power: setpoint), maximumChargePower: limits.charge, at: occasion)
        if mutation == .batteryPowerMisreported { outcome.value = outcome.value.map { $0 * 10 } }
        return (outcome, idle ? nil : time + replanPeriod)
    }
}

/// The heat pump: on for the awarded share of the interval, off for the rest. It runs by moving the setpoint to
/// the comfort edge that calls for running and rests at the other edge, so comfort always wins. Short-cycle
/// protection makes on-times whole minimum cycles; what that rounding adds or leaves out is carried into the
/// next intervals' on-time. Each heat pump runs at its own place within the interval (a phase from its device id),
/// so that a neighborhood's heat pumps do not all start at the interval's start: synchronized compressors would
/// draw a peak no market cleared, and an island's battery could not hold it.
final class ThermostatFollower: AwardFollower {
    let driver: DeviceDriver
    private let comfort: ThermostatStrategy
    private let mutation: HouseholdMutation?
    /// Electric power while the compressor runs, kW, and its minimum run and rest time, s.
    let runningPower: Double
    let minimumCycle: Double
    private var target = 0.0, onTime = 0.0, carry = 0.0, end = 0.0
    /// Where within the interval the on-time begins: a share of the slack, fixed per device.
    private let phase: Double
    private var runFrom = 0.0
    /// What the compressor did when last seen, and when it last stopped.
    private var runs = false, seenAt: Double?, stoppedAt: Double?

    init(driver: DeviceDriver, comfort: ThermostatStrategy, mutation: HouseholdMutation?) {
        self.driver = driver
        self.comfort = comfort
        self.mutation = mutation
        runningPower = (try? driver.thermostat(season: comfort.season).runningPower) ?? 0
        minimumCycle = driver.rating(.minimumCycle, 180)
        // FNV-1a of the id: the same phase in every run, different ones across devices.
        let hash = driver.setup.id.description.utf8.reduce(UInt64(14_695_981_039_346_656_037)) { ($0 ^ UInt64($1)) &* 1_099_511_628_211 }
        phase = Double(hash % 1000) / 1000
    }

    /// Counts the on-time since the compressor was last seen (once per instant: the interval's start reads it for
    /// the bids, the awards and the first step come at the same simulated time).
    func observe(at time: Double) throws(DeviceLinkError) {
        guard seenAt != time else { return }
        let now = try driver.compressorRuns()
        if runs, let seenAt { onTime += time - seenAt }
        if runs, !now { stoppedAt = time }
        runs = now
        seenAt = time
    }

    /// The share of the coming interval the compressor can run, 0...1: none while the room is past the edge where
    /// it would start, less while short-cycle protection holds it off.
    func available(at time: Double, room: Double, length: Double) -> Double {
        guard !runs else { return 1 }
        let half = driver.rating(.deadband, 1) / 2
        let startsAbove = comfort.season == .cooling ? room > runEdge + half : room < runEdge - half
        guard startsAbove else { return 0 }
        let lockout = stoppedAt.map { max(0, minimumCycle - (time - $0)) } ?? 0
        return max(0, length - lockout) / length
    }

    private var runEdge: Double { comfort.season == .cooling ? comfort.setpoint - comfort.comfortBelow : comfort.setpoint + comfort.comfortAbove }
    private var restEdge: Double { comfort.season == .cooling ? comfort.setpoint + comfort.comfortAbove : comfort.setpoint - comfort.comfortBelow }

    func begin(award: Double, at time: Double, end: Double, islanded: Bool) {
        carry = min(max(target - onTime, -minimumCycle), minimumCycle)
        onTime = 0
        let length = end - time
        target = runningPower > 0 ? min(max(max(award, 0) / runningPower * length + carry, 0), length) : 0
        runFrom = time + ((phase * max(0, length - target)) / 5).rounded(.down) * 5
        self.end = end
    }

    func readAhead(at time: Double) {
        driver.readAhead(seenAt == time ? [] : [.hvacAction], writing: true)
    }

    func follow(at time: Double, _ occasion: Occasion) -> (outcome: DispatchOutcome, next: Double?) {
        do { try observe(at: time) } catch {
            return (DispatchOutcome(name: comfort.season == .cooling ? .coolSetpoint : .heatSetpoint, failure: error.description), nil)
        }
        let remaining = target - onTime, left = end - time
        let waiting = !runs && time < runFrom - 1e-6
        let run = !waiting && (runs ? remaining > 0 : remaining >= minimumCycle / 2 && left > 0)
        let setpoint = mutation == .thermostatIgnoresAward ? comfort.setpoint : run ? runEdge : restEdge
        let next: Double? = waiting && remaining >= minimumCycle / 2 ? runFrom
            : run ? time + min(max(remaining, 1), replanPeriod) : runs ? time + 30 : nil
        return (driver.apply(ThermostatDispatch(season: comfort.season, setpoint: setpoint), at: occasion), next)
    }
}
