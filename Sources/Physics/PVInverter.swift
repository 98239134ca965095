import Foundation  // math only

/// Nameplate of a PV array and its inverter.
public struct PVInverterRatings: Sendable, Equatable {
    /// DC peak power of the array at standard test conditions (1000 W/m², 25 °C), W.
    public var arrayPeakPower: Double = 6000
    /// Maximum AC output (SunSpec WMax / WRtg), W.
    public var ratedPower: Double = 5000
    /// Inverter efficiency at full load, 0...1; it falls at light load.
    public var peakEfficiency: Double = 0.97
    /// Module power change per kelvin of cell temperature above 25 °C (negative).
    public var temperatureCoefficient: Double = -0.0037
    /// Nominal operating cell temperature, °C.
    public var nominalCellTemperature: Double = 45
    /// How fast AC output may change, as a fraction of `ratedPower` per second (SunSpec WGra / 100).
    public var rampRate: Double = 0.1

    public init() {}
}

/// What the controller asked of the inverter.
public struct PVInverterSetpoint: Sendable, Equatable {
    /// SunSpec 123 Conn: false puts the inverter in standby (no output).
    public var isConnected: Bool
    /// Active-power limit in W; nil is no limit.
    public var powerLimit: Double?
    /// Tripped by its protection: it ceases to energize at once, whatever the ramp rate.
    public var isTripped: Bool

    public init(isConnected: Bool = true, powerLimit: Double? = nil, isTripped: Bool = false) {
        self.isConnected = isConnected
        self.powerLimit = powerLimit
        self.isTripped = isTripped
    }
}

/// SunSpec 103 St values the physics produces.
public enum InverterStatus: Int, Sendable {
    case off = 1, sleeping = 2, mppt = 4, throttled = 5, fault = 7, standby = 8
}

public struct PVInverterState: Sendable, Equatable {
    /// AC output, W, never negative.
    public var acPower: Double = 0
    /// DC input, W.
    public var dcPower: Double = 0
    /// What the array could give through the inverter now, W (before any limit).
    public var availablePower: Double = 0
    public var cellTemperature: Double = 25
    /// Lifetime AC energy, Wh. Starts non-zero, as SunSpec clients hide a zero accumulator.
    public var lifetimeEnergy: Double = 1_234_567
    public var status: InverterStatus = .sleeping

    public init() {}
}

/// A PV array behind an inverter: irradiance and temperature to DC, DC to AC, limited and ramped.
public struct PVInverter: Sendable, Equatable {
    public var ratings: PVInverterRatings

    public init(ratings: PVInverterRatings) { self.ratings = ratings }

    /// Inverter efficiency at a DC load, rising from 0 to `peakEfficiency` (a light-load loss curve).
    public func efficiency(dcPower: Double) -> Double {
        let load = max(dcPower, 0) / ratings.ratedPower
        return ratings.peakEfficiency * load / (load + 0.01)
    }

    /// Advances `seconds`. Output moves toward min(available, limit) at `rampRate` (a trip stops it at once); energy
    /// counts the output held over the step.
    public func step(_ state: PVInverterState, applying setpoint: PVInverterSetpoint, for seconds: Double, weather: Weather) -> PVInverterState {
        var next = state
        let irradiance = max(weather.irradiance, 0)
        next.cellTemperature = weather.outdoorTemperature + (ratings.nominalCellTemperature - 20) / 800 * irradiance
        let dcAvailable = max(0, ratings.arrayPeakPower * irradiance / 1000 * (1 + ratings.temperatureCoefficient * (next.cellTemperature - 25)))
        next.availablePower = min(dcAvailable * efficiency(dcPower: dcAvailable), ratings.ratedPower)
        let limit = min(max(setpoint.powerLimit ?? ratings.ratedPower, 0), ratings.ratedPower)
        let target = setpoint.isConnected ? min(next.availablePower, limit) : 0
        let maxChange = ratings.rampRate * ratings.ratedPower * seconds
        next.acPower = setpoint.isTripped ? 0 : min(max(target, state.acPower - maxChange), state.acPower + maxChange)
        // Output may never exceed what the sun gives now, whatever the ramp.
        next.acPower = max(0, min(next.acPower, next.availablePower))
        next.dcPower = next.acPower > 0 ? next.acPower / max(efficiency(dcPower: dcAvailable), 0.01) : 0
        next.dcPower = min(next.dcPower, dcAvailable)
        next.lifetimeEnergy += next.acPower * seconds / 3600
        next.status = setpoint.isTripped ? .fault
            : !setpoint.isConnected ? .standby
            : next.availablePower <= 0 ? .sleeping
            : limit < next.availablePower ? .throttled : .mppt
        return next
    }
}
