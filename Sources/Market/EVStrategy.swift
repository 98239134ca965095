import Physics

/// What an EV charger's agent reads (the charger's registers and the vehicle's session).
public struct EVReading: Sendable, Hashable {
    public var isPluggedIn: Bool
    /// AC energy the vehicle still needs before it leaves, kWh.
    public var energyNeeded: Double
    /// Time until the vehicle leaves, s.
    public var timeToDeparture: Double
    /// The current range a charge may use, A per phase: IEC 61851's minimum up to the lower of the station's and
    /// the vehicle's maximum.
    public var minimumCurrent: Double
    public var maximumCurrent: Double
    public var phases: Int
    /// Phase-to-neutral voltage, V.
    public var voltage: Double

    public init(isPluggedIn: Bool, energyNeeded: Double, timeToDeparture: Double,
                minimumCurrent: Double = 6, maximumCurrent: Double = 16, phases: Int = 3, voltage: Double = 230) {
        self.isPluggedIn = isPluggedIn
        self.energyNeeded = energyNeeded
        self.timeToDeparture = timeToDeparture
        self.minimumCurrent = minimumCurrent
        self.maximumCurrent = maximumCurrent
        self.phases = phases
        self.voltage = voltage
    }

    /// kW per ampere of current on every phase.
    public var kilowattsPerAmpere: Double { (voltage * Double(max(phases, 0))).inKilo }
    public var maximumPower: Double { max(0, maximumCurrent) * kilowattsPerAmpere }
    public var minimumPower: Double { max(0, minimumCurrent) * kilowattsPerAmpere }
}

/// What an EV charger's agent writes: the current limit per phase, A; 0 stops charging.
public struct EVDispatch: Sendable, Hashable {
    public var currentLimit: Double

    public init(currentLimit: Double) { self.currentLimit = currentLimit }
}

/// Charging by urgency: the time a full-power charge needs over the time left before departure.
///
/// At urgency 0 the bid is `mean − ramp × σ` (charge only when energy is cheap); it rises linearly to
/// `mean + ramp × σ` as urgency nears `mustCharge`, and from there the bid is at the cap (price-taking), so the
/// vehicle leaves charged whatever the price. The quantity is the interval's average power: what the vehicle
/// still needs, at most what the charger can give before the vehicle leaves. It may be below the IEC minimum:
/// an agent that follows its award charges at the minimum for part of the interval.
public struct EVStrategy: BiddingStrategy {
    /// Urgency at which charging becomes a must, 0...1: 0.75 leaves a quarter of the time left as margin, for the
    /// vehicle tapering its current near full and for late or partial awards.
    public var mustCharge: Double
    public var ramp: Double

    public init(mustCharge: Double = 0.5, ramp: Double = 1) {
        self.mustCharge = min(max(mustCharge, 0.01), 1)
        self.ramp = max(0, ramp)
    }

    public func urgency(_ reading: EVReading) -> Double {
        guard reading.maximumPower > 0 else { return 0 }
        let hoursNeeded = reading.energyNeeded / reading.maximumPower
        let hoursLeft = reading.timeToDeparture / 3600
        return hoursLeft > 0 ? hoursNeeded / hoursLeft : .infinity
    }

    public func bids(for reading: EVReading, bidder: String, forecast: PriceForecast, terms: MarketTerms) -> [Bid] {
        guard reading.isPluggedIn, reading.energyNeeded > 0, reading.energyNeeded.isFinite,
              reading.maximumPower > 0, reading.maximumPower >= reading.minimumPower, terms.interval > 0 else { return [] }
        let urgency = urgency(reading)
        let price = urgency >= mustCharge
            ? terms.priceCap
            : forecast.mean + ramp * forecast.standardDeviation * (2 * urgency / mustCharge - 1)
        // The interval's average power: what the vehicle still needs, and no more than it can take before it leaves.
        let window = min(terms.interval, reading.timeToDeparture)
        guard window > 0 else { return [] }
        let quantity = min(reading.maximumPower * window / terms.interval, reading.energyNeeded / (terms.interval / 3600))
        return [Bid(id: bidder, side: .buy, price: terms.buyPrice(price), quantity: quantity)]
    }

    /// The award as a current. Below the IEC minimum the charger cannot go lower: an award of at least half the
    /// minimum power charges at the minimum (still within the bid), a smaller one stops, so the dispatched power is
    /// the feasible one nearest the award.
    public func setpoint(for reading: EVReading, award: DeviceAward, forecast: PriceForecast, terms: MarketTerms) -> EVDispatch {
        guard reading.kilowattsPerAmpere > 0, award.bought > 0, award.bought >= reading.minimumPower / 2 else { return EVDispatch(currentLimit: 0) }
        let current = award.bought / reading.kilowattsPerAmpere
        return EVDispatch(currentLimit: min(max(current, reading.minimumCurrent), reading.maximumCurrent))
    }
}
