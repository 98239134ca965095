/// What a battery's agent reads (SunSpec 802 / 124 points).
public struct BatteryReading: Sendable, Hashable {
    public var stateOfCharge: Double
    /// Usable capacity, kWh.
    public var capacity: Double
    /// AC power limits, kW.
    public var maximumChargePower: Double
    public var maximumDischargePower: Double
    public var minimumSoC: Double
    public var maximumSoC: Double
    /// AC-to-AC, 0...1.
    public var roundTripEfficiency: Double

    public init(stateOfCharge: Double, capacity: Double = 10, maximumChargePower: Double = 5, maximumDischargePower: Double = 5,
                minimumSoC: Double = 0.05, maximumSoC: Double = 1, roundTripEfficiency: Double = 0.9) {
        self.stateOfCharge = stateOfCharge
        self.capacity = capacity
        self.maximumChargePower = maximumChargePower
        self.maximumDischargePower = maximumDischargePower
        self.minimumSoC = minimumSoC
        self.maximumSoC = maximumSoC
        self.roundTripEfficiency = roundTripEfficiency
    }

    /// The share of the capacity short of each SoC limit at which the battery stops, as the agent keeps it: a
    /// battery asked to go further refuses what it cannot take, and the award would go undelivered.
    public static let edgeMargin = 0.005

    /// Charging (and discharging) efficiency: the square root of the round trip.
    var oneWayEfficiency: Double { min(max(roundTripEfficiency, 0.01), 1).squareRoot() }

    /// AC power that fills the battery to its top SoC (less the edge margin) in `hours`, within the charge limit, kW.
    func chargeRoom(over hours: Double) -> Double {
        let room = max(0, (maximumSoC - Self.edgeMargin - stateOfCharge) * capacity)
        return min(max(0, maximumChargePower), room / oneWayEfficiency / hours)
    }

    /// AC power that empties it to its bottom SoC (plus the edge margin) in `hours`, within the discharge limit, kW.
    func dischargeRoom(over hours: Double) -> Double {
        let stored = max(0, (stateOfCharge - minimumSoC - Self.edgeMargin) * capacity)
        return min(max(0, maximumDischargePower), stored * oneWayEfficiency / hours)
    }
}

/// What a battery's agent writes: AC power, kW. Positive discharges, negative charges.
public struct BatteryDispatch: Sendable, Hashable {
    public var power: Double

    public init(power: Double) { self.power = power }
}

/// Buy when cheap, sell when dear, relative to the forecast and the state of charge.
///
/// The battery values stored energy at `mean + ramp × σ × (1 − 2s)`, where s is the SoC's position in its window
/// (0 empty, 1 full): an empty battery values energy above the mean, a full one below. It bids to buy at that value
/// times the one-way efficiency and offers to sell at it divided by the one-way efficiency, so the spread covers
/// the round-trip loss and it never buys and sells in one clearing (sell price > buy price).
public struct BatteryStrategy: BiddingStrategy {
    public var ramp: Double

    public init(ramp: Double = 1) { self.ramp = max(0, ramp) }

    /// The buy and sell prices for this reading, $/kWh, the sell strictly above the buy.
    func prices(_ reading: BatteryReading, forecast: PriceForecast, terms: MarketTerms) -> (buy: Double, sell: Double?) {
        let window = reading.maximumSoC - reading.minimumSoC
        let position = window > 0 ? min(max((reading.stateOfCharge - reading.minimumSoC) / window, 0), 1) : 0.5
        let value = forecast.mean + ramp * forecast.standardDeviation * (1 - 2 * position)
        let efficiency = reading.oneWayEfficiency
        let buy = terms.buyPrice(value * efficiency)
        let sell = terms.sellPrice(max(value / efficiency, buy + 2 * OrderBook.rejectionOffset))
        return (buy, sell > buy ? sell : nil)
    }

    public func bids(for reading: BatteryReading, bidder: String, forecast: PriceForecast, terms: MarketTerms) -> [Bid] {
        guard terms.interval > 0, reading.capacity > 0, reading.stateOfCharge.isFinite else { return [] }
        let hours = terms.interval / 3600
        let (buy, sell) = prices(reading, forecast: forecast, terms: terms)
        var bids: [Bid] = []
        let charge = reading.chargeRoom(over: hours)
        if charge > 0 { bids.append(Bid(id: bidder, side: .buy, price: buy, quantity: charge)) }
        let discharge = reading.dischargeRoom(over: hours)
        if discharge > 0, let sell { bids.append(Bid(id: bidder, side: .sell, price: sell, quantity: discharge)) }
        return bids
    }

    /// Sold minus bought, within the power and energy limits of one interval.
    public func setpoint(for reading: BatteryReading, award: DeviceAward, forecast: PriceForecast, terms: MarketTerms) -> BatteryDispatch {
        let hours = max(terms.interval, 1) / 3600
        let power = min(award.sold, reading.dischargeRoom(over: hours)) - min(award.bought, reading.chargeRoom(over: hours))
        return BatteryDispatch(power: power)
    }
}
