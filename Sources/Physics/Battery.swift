/// Nameplate and limits of a home battery (AC-coupled).
public struct BatteryRatings: Sendable, Equatable {
    /// Usable capacity, Wh.
    public var capacity: Double = 10_000
    /// Largest AC charge power, W (SunSpec WChaMax).
    public var maxChargePower: Double = 5000
    /// Largest AC discharge power, W.
    public var maxDischargePower: Double = 5000
    /// AC-to-AC round-trip efficiency, 0...1; split evenly between charging and discharging.
    public var roundTripEfficiency: Double = 0.9
    /// State-of-charge window, 0...1.
    public var minimumSoC: Double = 0.05
    public var maximumSoC: Double = 1.0
    /// Largest change of AC power per second, W/s (SunSpec WChaGra/WDisChaGra).
    public var rampRate: Double = 2500
    /// Nominal DC bus voltage, V.
    public var nominalVoltage: Double = 400

    public init() {}

    /// Charging (and discharging) efficiency: the square root of the round trip.
    public var oneWayEfficiency: Double { roundTripEfficiency.squareRoot() }
}

/// SunSpec 124/802 ChaSt values.
public enum BatteryChargeStatus: Int, Sendable {
    case off = 1, empty = 2, discharging = 3, charging = 4, full = 5, holding = 6
}

public struct BatteryState: Sendable, Equatable {
    /// Energy stored, Wh.
    public var stored: Double
    /// AC power, W. Positive: discharge (energy leaves toward the house); negative: charge.
    public var power: Double = 0
    /// AC energy taken in and given out since the start, Wh.
    public var chargedEnergy: Double = 0
    public var dischargedEnergy: Double = 0

    public init(stored: Double) { self.stored = stored }

    public func stateOfCharge(_ ratings: BatteryRatings) -> Double { stored / ratings.capacity }
}

/// A battery: SoC from AC power through one-way efficiencies, within power, ramp and SoC limits.
public struct Battery: Sendable, Equatable {
    public var ratings: BatteryRatings

    public init(ratings: BatteryRatings) { self.ratings = ratings }

    public func initialState(stateOfCharge: Double) -> BatteryState {
        BatteryState(stored: min(max(stateOfCharge, ratings.minimumSoC), ratings.maximumSoC) * ratings.capacity)
    }

    /// Advances `seconds` toward `setpoint` W (+ discharge). Power is cut so stored energy never leaves the SoC window.
    public func step(_ state: BatteryState, toward setpoint: Double, for seconds: Double) -> BatteryState {
        guard seconds > 0 else { return state }
        var next = state
        let target = min(max(setpoint.isFinite ? setpoint : 0, -ratings.maxChargePower), ratings.maxDischargePower)
        let maxChange = ratings.rampRate * seconds
        var power = min(max(target, state.power - maxChange), state.power + maxChange)
        let hours = seconds / 3600
        let efficiency = ratings.oneWayEfficiency
        if power < 0 {
            let headroom = max(0, ratings.maximumSoC * ratings.capacity - state.stored)
            power = max(power, -headroom / (efficiency * hours))
            next.stored += -power * efficiency * hours
            next.chargedEnergy += -power * hours
        } else if power > 0 {
            let available = max(0, state.stored - ratings.minimumSoC * ratings.capacity)
            power = min(power, available * efficiency / hours)
            next.stored -= power / efficiency * hours
            next.dischargedEnergy += power * hours
        }
        next.power = power
        return next
    }

    public func chargeStatus(_ state: BatteryState) -> BatteryChargeStatus {
        let soc = state.stateOfCharge(ratings)
        if state.power < 0 { return .charging }
        if state.power > 0 { return .discharging }
        if soc >= ratings.maximumSoC - 1e-6 { return .full }
        if soc <= ratings.minimumSoC + 1e-6 { return .empty }
        return .holding
    }
}
