/// What one device won in a clearing: the price and the kW it bought and sold.
public struct DeviceAward: Sendable, Hashable {
    /// The clearing price, $/kWh.
    public var price: Double
    public var bought: Double
    public var sold: Double

    public init(price: Double, bought: Double = 0, sold: Double = 0) {
        self.price = price
        self.bought = bought
        self.sold = sold
    }
}

/// A device kind's bidding: from what its agent read over Modbus and the price forecast to bids, and from its award
/// to the setpoint the agent writes back.
///
/// Implementations are small value types with no I/O. Their contract, which the tests check for every kind:
/// - at most one bid per side, each valid for `terms` (`OrderBook.validate()` passes);
/// - bid quantities within what the device can do in one interval (power and energy limits);
/// - the setpoint stays within the device's limits and never draws or gives more than the award.
public protocol BiddingStrategy: Sendable {
    /// The device state the agent read.
    associatedtype Reading: Sendable
    /// What the agent writes to the device.
    associatedtype Setpoint: Sendable & Equatable

    func bids(for reading: Reading, bidder: String, forecast: PriceForecast, terms: MarketTerms) -> [Bid]
    func setpoint(for reading: Reading, award: DeviceAward, forecast: PriceForecast, terms: MarketTerms) -> Setpoint
}
