/// How the curves met, in GridLAB-D's words (its auction's CT_* clearing types).
public enum ClearingType: String, Sendable, Hashable {
    /// A buyer was partly filled (or buyers at the clearing price share the quantity): the price is theirs.
    case buyer
    /// A seller was partly filled (or sellers at the clearing price share it): the price is theirs.
    case seller
    /// The curves met on a vertical segment at one price.
    case exact
    /// The curves met on a vertical segment between two prices; the price was chosen in the gap.
    case price
    /// Supply fell short of unresponsive demand: the price is the cap and some demand is unserved.
    case failure
    /// Nothing traded.
    case null
}

/// What one bid won.
public struct Award: Sendable, Hashable {
    public var bid: Bid
    /// kW awarded at the clearing price, 0...bid.quantity.
    public var quantity: Double

    public init(bid: Bid, quantity: Double) {
        self.bid = bid
        self.quantity = quantity
    }
}

/// The result of clearing one interval.
public struct Clearing: Sendable, Hashable {
    /// The uniform price every award trades at, $/kWh.
    public var price: Double
    /// kW traded: the sum of awarded buys, and of awarded sells.
    public var quantity: Double
    public var type: ClearingType
    /// For a buyer (or failure) clearing, the kW shared by the buyers bidding exactly the price; for a seller
    /// clearing, by the sellers offering exactly the price; otherwise 0.
    public var marginalQuantity: Double
    /// `marginalQuantity` over the total quantity bid exactly at the price on that side, 0...1.
    public var marginalFraction: Double
    /// Unresponsive demand (buy bids at the cap) left unserved, kW; non-zero only for a failure.
    public var unservedDemand: Double
    /// One award per bid, in the book's order: `awards[i]` is what `bids[i]` won.
    public var awards: [Award]

    public init(price: Double, quantity: Double, type: ClearingType, marginalQuantity: Double, marginalFraction: Double,
                unservedDemand: Double, awards: [Award]) {
        self.price = price
        self.quantity = quantity
        self.type = type
        self.marginalQuantity = marginalQuantity
        self.marginalFraction = marginalFraction
        self.unservedDemand = unservedDemand
        self.awards = awards
    }

    /// The award of one bid, if the book held it.
    public func award(for key: BidKey) -> Award? {
        awards.first { $0.bid.id == key.id && $0.bid.side == key.side }
    }
}

extension OrderBook {
    /// The offset GridLAB-D puts between a clearing price and the next rejected bid, $/kWh.
    public static let rejectionOffset = 0.0001

    /// Clears the book as a uniform-price double auction (docs/MARKET.md states the rule).
    ///
    /// Every award trades at `Clearing.price`: buy bids above it are filled whole, sell offers below it are
    /// filled whole, and the bids exactly at it share what is left pro rata to their quantities. No buyer pays above
    /// its bid, no seller gets below its offer, and bought equals sold. The book should pass `validate()` first.
    /// O(n log n) in the number of bids (the sort). The curves order equal prices by quantity, so every sum is
    /// taken in one order and the same bids in any order give bit-identical price, quantity and awards.
    public func clear() -> Clearing {
        let buyers = Curve(bids, side: .buy)
        let sellers = Curve(bids, side: .sell)
        let unresponsive = buyers.quantity(where: { $0 >= priceCap })

        var (price, quantity, type) = walk(buyers, sellers)
        if quantity < unresponsive {
            (price, type) = (priceCap, .failure)
        }
        price = min(max(price, -priceCap), priceCap)
        return allocate(price: price, quantity: quantity, type: type, buyers: buyers, sellers: sellers)
    }

    /// The awards, marginal quantity and fraction and unserved demand that the allocation rule gives at a price,
    /// quantity and type however they were found: what a market's published clearing must agree with.
    public func allocate(price: Double, quantity: Double, type: ClearingType) -> Clearing {
        allocate(price: price, quantity: quantity, type: type, buyers: Curve(bids, side: .buy), sellers: Curve(bids, side: .sell))
    }

    private func allocate(price: Double, quantity: Double, type: ClearingType, buyers: Curve, sellers: Curve) -> Clearing {
        let buyShare = buyers.share(of: quantity, at: price)
        let sellShare = sellers.share(of: quantity, at: price)
        let marginal = type == .buyer || type == .failure ? buyShare : type == .seller ? sellShare : .none
        let awards = bids.map { bid in
            let share = bid.side == .buy ? buyShare : sellShare
            let inTheMoney = bid.side == .buy ? bid.price > price : bid.price < price
            return Award(bid: bid, quantity: inTheMoney ? bid.quantity : bid.price == price ? bid.quantity * share.fraction : 0)
        }
        let unresponsive = buyers.quantity(where: { $0 >= priceCap })
        return Clearing(price: price, quantity: quantity, type: type,
                        marginalQuantity: marginal.quantity, marginalFraction: marginal.fraction,
                        unservedDemand: max(0, unresponsive - quantity), awards: awards)
    }

    /// GridLAB-D's walk down the demand curve and up the supply curve, then the price rule for where they met.
    private func walk(_ buyers: Curve, _ sellers: Curve) -> (price: Double, quantity: Double, type: ClearingType) {
        guard let bestBuy = buyers.prices.first, let bestSell = sellers.prices.first else {
            // One side empty: as if a buyer bid 0 and a seller offered the cap, neither trading (keeps monotonicity).
            return (((buyers.prices.first ?? 0) + (sellers.prices.first ?? priceCap)) / 2, 0, .null)
        }
        guard bestBuy >= bestSell else { return ((bestBuy + bestSell) / 2, 0, .null) }

        enum Step { case buyerMarginal, sellerMarginal, vertical }
        var i = 0, j = 0
        var demand = 0.0, supply = 0.0
        var lastBuy = 0.0, lastSell = 0.0
        var step = Step.vertical
        let bp = buyers.prices, bq = buyers.quantities, sp = sellers.prices, sq = sellers.quantities
        while i < bp.count, j < sp.count, bp[i] >= sp[j] {
            let nextDemand = demand + bq[i], nextSupply = supply + sq[j]
            if nextDemand > nextSupply {  // seller j taken whole; buyer i partly
                supply = nextSupply
                (lastBuy, lastSell, step) = (bp[i], bp[i], .buyerMarginal)
                j += 1
            } else if nextDemand < nextSupply {  // buyer i served whole; seller j partly
                demand = nextDemand
                (lastBuy, lastSell, step) = (sp[j], sp[j], .sellerMarginal)
                i += 1
            } else {
                demand = nextDemand
                supply = nextSupply
                (lastBuy, lastSell, step) = (bp[i], sp[j], .vertical)
                i += 1
                j += 1
            }
        }
        let quantity = step == .buyerMarginal ? supply : demand
        switch step {
        case .buyerMarginal: return (lastBuy, quantity, .buyer)
        case .sellerMarginal: return (lastSell, quantity, .seller)
        case .vertical:
            let nextBuy = i < bp.count ? bp[i] : nil
            let nextSell = j < sp.count ? sp[j] : nil
            if nextBuy == lastBuy { return (lastBuy, quantity, .buyer) }
            if nextSell == lastSell { return (lastSell, quantity, .seller) }
            var price = (lastBuy + lastSell) / 2
            if let nextBuy, nextBuy > price {
                price = nextBuy + Self.rejectionOffset
            } else if let nextSell, nextSell < price {
                price = nextSell - Self.rejectionOffset
            }
            // Within [last sell, last buy] and between the next rejected bids, which then stay rejected.
            price = min(max(price, max(lastSell, nextBuy ?? lastSell)), min(lastBuy, nextSell ?? lastBuy))
            return (price, quantity, lastBuy == lastSell ? .exact : .price)
        }
    }
}

/// One side of the book as its curve: buyers by price descending, sellers ascending, equal prices by quantity.
private struct Curve {
    let side: Side
    let prices: [Double]
    let quantities: [Double]

    init(_ bids: [Bid], side: Side) {
        self.side = side
        var steps: [CurveStep] = []
        steps.reserveCapacity(bids.count)
        for bid in bids where bid.side == side { steps.append((bid.price, bid.quantity)) }
        steps = side == .buy ? curveOrder(steps) { $0.price != $1.price ? $0.price > $1.price : $0.quantity < $1.quantity }
            : curveOrder(steps) { $0.price != $1.price ? $0.price < $1.price : $0.quantity < $1.quantity }
        prices = steps.map(\.price)
        quantities = steps.map(\.quantity)
    }

    func quantity(where isIncluded: (Double) -> Bool) -> Double {
        var total = 0.0
        for k in prices.indices where isIncluded(prices[k]) { total += quantities[k] }
        return total
    }

    /// Bids strictly better than `price` (higher buys, lower sells) are filled whole; those exactly at it share the
    /// rest of `quantity` pro rata.
    struct Share {
        var quantity: Double
        var fraction: Double
        static let none = Share(quantity: 0, fraction: 0)
    }

    func share(of quantity: Double, at price: Double) -> Share {
        let inTheMoney = self.quantity(where: { side == .buy ? $0 > price : $0 < price })
        let atPrice = self.quantity(where: { $0 == price })
        guard atPrice > 0 else { return .none }
        let shared = min(max(quantity - inTheMoney, 0), atPrice)
        return Share(quantity: shared, fraction: shared / atPrice)
    }
}

/// A price and the quantity bid at it.
typealias CurveStep = (price: Double, quantity: Double)

/// `steps` in the order `precedes` gives, a total order by price then quantity.
///
/// Prices are bounded, so one counting pass spreads the steps over about a bucket each by price (the bucket grows
/// with the price, and falls for buyers), and each bucket is sorted on its own: linear on spread prices, and no
/// worse than one sort where every price is the same. The order is total, so any order of the same bids gives the
/// same curve. Sorting the curves was most of a clearing's time.
func curveOrder(_ steps: [CurveStep], by precedes: (CurveStep, CurveStep) -> Bool) -> [CurveStep] {
    guard steps.count > 64, let low = steps.lazy.map(\.price).min(), let high = steps.lazy.map(\.price).max(),
          case let buckets = steps.count, case let scale = Double(buckets - 1) / (high - low), scale.isFinite
    else { return steps.sorted(by: precedes) }
    let descending = precedes((high, 0), (low, 0))
    func bucket(_ price: Double) -> Int {
        // Monotone in the price, however it rounds; a price no book passing validate() holds (NaN) goes last.
        let position = (price - low) * scale
        let rank = position < Double(buckets - 1) ? Int(position) : buckets - 1
        return descending ? buckets - 1 - rank : rank
    }
    var starts = [Int](repeating: 0, count: buckets + 1)
    for step in steps { starts[bucket(step.price) + 1] += 1 }
    for k in 0..<buckets { starts[k + 1] += starts[k] }
    return [CurveStep](unsafeUninitializedCapacity: steps.count) { sorted, count in
        var next = starts  // the closure's own: a captured var paid a dynamic exclusivity check per step
        for step in steps {
            let k = bucket(step.price)
            (sorted.baseAddress! + next[k]).initialize(to: step)
            next[k] += 1
        }
        count = steps.count
        for k in 0..<buckets where starts[k + 1] - starts[k] > 1 {
            let range = starts[k]..<starts[k + 1]
            if range.count > 16 {
                sorted[range].sort(by: precedes)
                continue
            }
            for i in range.dropFirst() {  // insertion sort: most buckets hold a step or two
                let step = sorted[i]
                var j = i
                while j > range.lowerBound, precedes(step, sorted[j - 1]) {
                    sorted[j] = sorted[j - 1]
                    j -= 1
                }
                sorted[j] = step
            }
        }
    }
}
