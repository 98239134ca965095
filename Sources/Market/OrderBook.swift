/// Which way a bid trades: a buyer takes energy, a seller gives it.
public enum Side: String, Sendable, Hashable, CaseIterable {
    case buy, sell
}

/// One step of a curve: the most a buyer pays, or the least a seller accepts, for a quantity over one interval.
///
/// Prices are $/kWh; quantities are kW held for the interval (energy = quantity × interval).
/// A buy bid at exactly the price cap is unresponsive (price-taking) demand.
public struct Bid: Sendable, Hashable {
    /// The bidder, unique per side within one order book: "house/device" for GridRig's agents (e.g. "h1/ev").
    public var id: String
    public var side: Side
    public var price: Double
    public var quantity: Double

    public init(id: String, side: Side, price: Double, quantity: Double) {
        self.id = id
        self.side = side
        self.price = price
        self.quantity = quantity
    }
}

/// The bids of one interval and the market's price cap.
public struct OrderBook: Sendable, Hashable {
    /// The highest price the market may clear at, $/kWh; unresponsive demand bids exactly this.
    public var priceCap: Double
    public var bids: [Bid]

    public init(priceCap: Double = 1.0, bids: [Bid] = []) {
        self.priceCap = priceCap
        self.bids = bids
    }

    /// Checks every rule of an acceptable book; the first broken one is thrown, naming the bid and field.
    ///
    /// Quantities are finite and > 0; buy prices lie in (0, cap], sell prices in [0, cap); an id appears at most
    /// once per side (a battery may both buy and sell under one id); the cap is finite and > 0.
    public func validate() throws(OrderBookError) {
        guard priceCap.isFinite, priceCap > 0 else {
            throw OrderBookError(bid: nil, field: "price_cap", expected: "a finite price > 0", found: "\(priceCap)")
        }
        var seen: Set<BidKey> = []
        seen.reserveCapacity(bids.count)
        var counts: [Side: Int] = [:]
        for bid in bids {
            let at = OrderBookError.Location(side: bid.side, index: counts[bid.side, default: 0], id: bid.id)
            counts[bid.side, default: 0] += 1
            guard !bid.id.isEmpty else { throw OrderBookError(bid: at, field: "id", expected: "a non-empty id", found: "\"\"") }
            guard bid.quantity.isFinite, bid.quantity > 0 else {
                throw OrderBookError(bid: at, field: "quantity", expected: "a finite quantity > 0 kW", found: "\(bid.quantity)")
            }
            let range = bid.side == .buy ? "(0, \(priceCap)]" : "[0, \(priceCap))"
            guard bid.price.isFinite, bid.side == .buy ? bid.price > 0 && bid.price <= priceCap : bid.price >= 0 && bid.price < priceCap else {
                throw OrderBookError(bid: at, field: "price", expected: "a \(bid.side.rawValue) price in \(range) $/kWh", found: "\(bid.price)")
            }
            guard seen.insert(BidKey(id: bid.id, side: bid.side)).inserted else {
                throw OrderBookError(bid: at, field: "id", expected: "an id used once per side", found: "a second \(bid.side.rawValue) bid with this id")
            }
        }
    }
}

/// A bid's identity in a book: its bidder and side.
public struct BidKey: Sendable, Hashable {
    public var id: String
    public var side: Side

    public init(id: String, side: Side) {
        self.id = id
        self.side = side
    }
}

/// A book the market refuses: which bid (by side, position and id), which field, what was expected and found.
public struct OrderBookError: Error, Sendable, Equatable, CustomStringConvertible {
    public struct Location: Sendable, Equatable {
        public var side: Side
        /// Position among the bids of its side, from 0, as a bids file lists them.
        public var index: Int
        public var id: String

        public init(side: Side, index: Int, id: String) {
            self.side = side
            self.index = index
            self.id = id
        }
    }

    /// nil when the fault is the book's own (its price cap).
    public var bid: Location?
    public var field: String
    public var expected: String
    public var found: String

    public init(bid: Location?, field: String, expected: String, found: String) {
        self.bid = bid
        self.field = field
        self.expected = expected
        self.found = found
    }

    public var description: String {
        let place = bid.map { "\($0.side == .buy ? "buyers" : "sellers")[\($0.index)] (id \"\($0.id)\").\(field)" } ?? field
        return "\(place): expected \(expected), found \(found)"
    }
}
