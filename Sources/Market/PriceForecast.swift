/// What a bidder expects prices to be: the mean and standard deviation of recent clearing prices, $/kWh.
///
/// GridLAB-D's controllers bid from the same two statistics (its auction's `current_price_mean_24h` and
/// `current_price_stdev_24h`).
public struct PriceForecast: Sendable, Hashable {
    public var mean: Double
    public var standardDeviation: Double

    public init(mean: Double, standardDeviation: Double) {
        self.mean = mean
        self.standardDeviation = max(0, standardDeviation)
    }

    /// The statistics of the last `window` prices of `history` (population standard deviation); `prior` until the
    /// history holds a full window, as GridLAB-D's auction uses its `init_price` and `init_stdev` until its
    /// statistics interval has passed.
    public init(history: some BidirectionalCollection<Double>, window: Int, prior: PriceForecast) {
        guard window > 0, history.count >= window else { self = prior; return }
        let recent = history.suffix(window)
        let count = Double(recent.count)
        let mean = recent.reduce(0, +) / count
        let variance = recent.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / count
        self.init(mean: mean, standardDeviation: variance.squareRoot())
    }
}

/// The terms every bidder of one market knows.
public struct MarketTerms: Sendable, Hashable {
    /// $/kWh: the highest clearing price, and the price of unresponsive demand.
    public var priceCap: Double
    /// Length of one market interval, s.
    public var interval: Double

    public init(priceCap: Double = 1.0, interval: Double = 300) {
        self.priceCap = priceCap
        self.interval = interval
    }

    /// The lowest price a responsive buyer bids, $/kWh: buy prices must be above 0.
    public static let minimumBuyPrice = OrderBook.rejectionOffset

    /// A buy price brought into (0, cap].
    func buyPrice(_ price: Double) -> Double { min(max(price, Self.minimumBuyPrice), priceCap) }

    /// A sell price brought into [0, cap).
    func sellPrice(_ price: Double) -> Double { min(max(price, 0), priceCap - OrderBook.rejectionOffset) }
}
