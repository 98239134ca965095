/// What a thermostat's agent reads.
public struct ThermostatReading: Sendable, Hashable {
    /// Room air temperature, °C.
    public var roomTemperature: Double
    /// Electric power the heat pump draws while it runs, kW.
    public var runningPower: Double

    public init(roomTemperature: Double, runningPower: Double) {
        self.roomTemperature = roomTemperature
        self.runningPower = runningPower
    }
}

/// What a thermostat's agent writes: the mode and the one setpoint that mode uses.
public struct ThermostatDispatch: Sendable, Hashable {
    public var season: ThermostatStrategy.Season
    /// °C: the cooling setpoint when cooling, the heating setpoint when heating.
    public var setpoint: Double

    public init(season: ThermostatStrategy.Season, setpoint: Double) {
        self.season = season
        self.setpoint = setpoint
    }
}

/// The GridLAB-D / Olympic Peninsula ramp bid of a thermostat.
///
/// The bid price rises with how far the room has drifted from the preferred setpoint in the direction that calls
/// for running (warmer when cooling, colder when heating): `mean + ramp × σ × drift / band`, where band is the
/// comfort band on that side. At the edge of the band that needs running the bid is at the cap (must run); past
/// the other edge there is no bid. After clearing, the setpoint moves to where this ramp meets the clearing price:
/// cheap energy lowers a cooling setpoint (pre-cooling) and raises a heating one (pre-heating), dear energy lets
/// the room drift, always within the comfort band.
public struct ThermostatStrategy: BiddingStrategy {
    public enum Season: String, Sendable, Hashable, Codable {
        case cooling, heating
    }

    public var season: Season
    /// The occupant's preferred setpoint, °C.
    public var setpoint: Double
    /// How far the room may go below and above the preferred setpoint, K (≥ 0).
    public var comfortBelow: Double
    public var comfortAbove: Double
    /// Multiples of the price standard deviation between the preferred setpoint and a band edge (GridLAB-D's
    /// ramp_low/ramp_high): higher trades comfort for price more eagerly.
    public var ramp: Double

    public init(season: Season, setpoint: Double, comfortBelow: Double = 2, comfortAbove: Double = 2, ramp: Double = 2) {
        self.season = season
        self.setpoint = setpoint
        self.comfortBelow = max(0, comfortBelow)
        self.comfortAbove = max(0, comfortAbove)
        self.ramp = max(0, ramp)
    }

    /// The band edge at which running becomes a must, and the one past which running is not wanted, K from the
    /// preferred setpoint in "drift" terms.
    private var urgentBand: Double { season == .cooling ? comfortAbove : comfortBelow }
    private var idleBand: Double { season == .cooling ? comfortBelow : comfortAbove }

    /// Drift from the preferred setpoint toward needing the heat pump, K.
    private func drift(_ temperature: Double) -> Double {
        season == .cooling ? temperature - setpoint : setpoint - temperature
    }

    public func bids(for reading: ThermostatReading, bidder: String, forecast: PriceForecast, terms: MarketTerms) -> [Bid] {
        guard reading.runningPower > 0, reading.runningPower.isFinite, reading.roomTemperature.isFinite else { return [] }
        let drift = drift(reading.roomTemperature)
        let price: Double
        if drift >= urgentBand {
            price = terms.priceCap
        } else if drift <= -idleBand {
            return []
        } else {
            let band = drift >= 0 ? urgentBand : idleBand
            price = forecast.mean + ramp * forecast.standardDeviation * drift / band
        }
        guard price >= MarketTerms.minimumBuyPrice else { return [] }
        return [Bid(id: bidder, side: .buy, price: terms.buyPrice(price), quantity: reading.runningPower)]
    }

    /// The setpoint at which the ramp bid equals the clearing price, within the comfort band. The heat pump is
    /// on/off, so it follows the price (as GridLAB-D's controller does), not a marginal fraction of its award.
    public func setpoint(for reading: ThermostatReading, award: DeviceAward, forecast: PriceForecast, terms: MarketTerms) -> ThermostatDispatch {
        let slope = ramp * forecast.standardDeviation
        let gap = award.price - forecast.mean
        var threshold: Double  // the drift at which the bid price equals the clearing price
        if slope > 0 {
            threshold = gap / slope * (gap >= 0 ? urgentBand : idleBand)
        } else {
            threshold = gap > 0 ? urgentBand : gap < 0 ? -idleBand : 0
        }
        threshold = min(max(threshold, -idleBand), urgentBand)
        let target = season == .cooling ? setpoint + threshold : setpoint - threshold
        return ThermostatDispatch(season: season, setpoint: target)
    }
}
