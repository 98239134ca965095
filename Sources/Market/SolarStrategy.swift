/// What a PV inverter's agent reads.
public struct SolarReading: Sendable, Hashable {
    /// What the array could give through the inverter now, kW (the forecast for the interval).
    public var availablePower: Double
    /// The inverter's AC rating, kW.
    public var ratedPower: Double

    public init(availablePower: Double, ratedPower: Double) {
        self.availablePower = availablePower
        self.ratedPower = ratedPower
    }
}

/// What a PV inverter's agent writes: an active-power limit, kW, or none.
public struct SolarDispatch: Sendable, Hashable {
    public var powerLimit: Double?

    public init(powerLimit: Double?) { self.powerLimit = powerLimit }
}

/// Solar offers its forecast output at (near) zero marginal price.
public struct SolarStrategy: BiddingStrategy {
    /// $/kWh, in [0, cap).
    public var offerPrice: Double
    /// Whether surplus may flow out through the PCC; when not, output the market did not award is curtailed.
    public var mayExport: Bool

    public init(offerPrice: Double = 0, mayExport: Bool = true) {
        self.offerPrice = offerPrice
        self.mayExport = mayExport
    }

    public func bids(for reading: SolarReading, bidder: String, forecast: PriceForecast, terms: MarketTerms) -> [Bid] {
        let output = min(reading.availablePower, max(reading.ratedPower, 0))
        guard output > 0, output.isFinite else { return [] }
        return [Bid(id: bidder, side: .sell, price: terms.sellPrice(offerPrice), quantity: output)]
    }

    public func setpoint(for reading: SolarReading, award: DeviceAward, forecast: PriceForecast, terms: MarketTerms) -> SolarDispatch {
        guard !mayExport, award.sold < reading.availablePower else { return SolarDispatch(powerLimit: nil) }
        return SolarDispatch(powerLimit: min(max(award.sold, 0), max(reading.ratedPower, 0)))
    }
}

/// The utility behind the PCC, grid-connected: it sells imports at the import tariff and, where export is
/// allowed, buys exports at the export tariff, up to the connection's limits.
public struct GridTie: Sendable, Hashable {
    /// $/kWh; the import tariff must be below the cap (sell prices are), the export bid is at least
    /// `MarketTerms.minimumBuyPrice` (buy prices are positive).
    public var importTariff: Double
    public var exportTariff: Double
    /// kW through the PCC; an export limit of 0 forbids export.
    public var importLimit: Double
    public var exportLimit: Double

    public init(importTariff: Double, exportTariff: Double, importLimit: Double, exportLimit: Double) {
        self.importTariff = importTariff
        self.exportTariff = exportTariff
        self.importLimit = importLimit
        self.exportLimit = exportLimit
    }

    public static let importBidder = "grid/import"
    public static let exportBidder = "grid/export"

    /// An island's grid-forming battery standing in for the utility: it sells what it can discharge in an interval
    /// and buys what it can store, valuing energy by its state of charge (dear when nearly empty, cheap when nearly
    /// full), so that the market sheds load it cannot carry. It offers half its power: the other half is reserve
    /// for what the market cannot see (a heat pump awarded but idling, a cloud within the interval).
    public static func gridForming(_ battery: BatteryReading, terms: MarketTerms) -> GridTie {
        let hours = terms.interval / 3600
        let stored = max(0, battery.stateOfCharge - battery.minimumSoC) * battery.capacity
        let room = max(0, battery.maximumSoC - battery.stateOfCharge) * battery.capacity
        let window = battery.maximumSoC - battery.minimumSoC
        let position = window > 0 ? min(max((battery.stateOfCharge - battery.minimumSoC) / window, 0), 1) : 0.5
        let value = terms.priceCap * (0.1 + 0.8 * (1 - position))
        return GridTie(importTariff: value, exportTariff: max(value * 0.9, MarketTerms.minimumBuyPrice),
                       importLimit: min(battery.maximumDischargePower / 2, stored / hours),
                       exportLimit: min(battery.maximumChargePower / 2, room / hours))
    }

    public func bids(terms: MarketTerms) -> [Bid] {
        var bids: [Bid] = []
        if importLimit > 0 { bids.append(Bid(id: Self.importBidder, side: .sell, price: terms.sellPrice(importTariff), quantity: importLimit)) }
        if exportLimit > 0 { bids.append(Bid(id: Self.exportBidder, side: .buy, price: terms.buyPrice(exportTariff), quantity: exportLimit)) }
        return bids
    }
}
