/// A three-phase meter at the point of common coupling (or a house's grid connection).
public struct SiteMeterRatings: Sendable, Equatable {
    public var nominalVoltage: Double = 230
    public var nominalFrequency: Double = 50
    /// Voltage drop per watt imported (a stiff but not ideal grid), V/W.
    public var voltageSensitivity: Double = 0.0002
    /// Size of seeded measurement noise on voltage (V) and frequency (Hz).
    public var voltageNoise: Double = 0.3
    public var frequencyNoise: Double = 0.01

    public init() {}
}

public struct SiteMeterState: Sendable, Equatable {
    /// Net power at the meter, W. Positive: import from the grid; negative: export.
    public var power: Double = 0
    /// Net reactive power at the meter, var; positive: drawn from the grid.
    public var reactivePower: Double = 0
    /// Energy imported and exported since commissioning, Wh (non-zero: SunSpec hides zero accumulators).
    public var importedEnergy: Double = 1_000_000
    public var exportedEnergy: Double = 500_000
    public var voltage: Double
    public var frequency: Double
    public var noise: SplitMix64

    public init(ratings: SiteMeterRatings, seed: UInt64) {
        voltage = ratings.nominalVoltage
        frequency = ratings.nominalFrequency
        noise = SplitMix64(seed: seed)
    }
}

/// Measures the sum of everything behind it: `W = loads + EV + HVAC + battery charge − PV − battery discharge`.
public struct SiteMeter: Sendable, Equatable {
    public var ratings: SiteMeterRatings

    public init(ratings: SiteMeterRatings) { self.ratings = ratings }

    /// Advances `seconds` with `netLoad` W and `reactive` var (consumption positive) behind the meter. The voltage
    /// and frequency are the grid's when a feeder model gives them, else a stiff grid's drop under load.
    public func step(_ state: SiteMeterState, netLoad: Double, reactive: Double = 0, gridVoltage: Double? = nil, gridFrequency: Double? = nil,
                     for seconds: Double) -> SiteMeterState {
        var next = state
        next.power = netLoad
        next.reactivePower = reactive
        let energy = netLoad * seconds / 3600
        if energy > 0 { next.importedEnergy += energy } else { next.exportedEnergy -= energy }
        next.voltage = (gridVoltage ?? ratings.nominalVoltage - ratings.voltageSensitivity * netLoad / 3) + ratings.voltageNoise * next.noise.symmetric()
        next.frequency = (gridFrequency ?? ratings.nominalFrequency) + ratings.frequencyNoise * next.noise.symmetric()
        return next
    }
}
