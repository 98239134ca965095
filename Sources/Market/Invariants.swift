/// A broken promise of a clearing, found by `Clearing.violations(of:)`.
public struct MarketViolation: Sendable, Hashable, CustomStringConvertible {
    public enum Rule: String, Sendable, Hashable {
        /// Awarded buys, awarded sells and the cleared quantity agree.
        case supplyEqualsDemand = "supply equals demand"
        /// No buyer pays above its bid; no seller is paid below its offer.
        case individualRationality = "individual rationality"
        /// Each bid has one award within 0...its quantity; bids strictly in the money are filled whole.
        case awardsAddUp = "awards add up"
        /// The price lies within [-cap, cap].
        case priceWithinCap = "price within cap"
    }

    public var rule: Rule
    public var detail: String

    public var description: String { "\(rule.rawValue): \(detail)" }
}

extension Clearing {
    /// Tolerance of the quantity sums, kW, relative to the book's total bid quantity (at least 1 kW): the sums are
    /// of doubles in curve order, so they may differ from `quantity` in the last bits.
    public static let relativeTolerance = 1e-9

    /// Every rule of docs/MARKET.md this result breaks for `book`; empty when it is a correct clearing.
    ///
    /// The harness runs the same checks on a controller's published clearing, so a third-party market is held to
    /// the rules GridRig's own market keeps.
    public func violations(of book: OrderBook) -> [MarketViolation] {
        var found: [MarketViolation] = []
        func flag(_ rule: MarketViolation.Rule, _ detail: String) { found.append(MarketViolation(rule: rule, detail: detail)) }

        if !(price.isFinite && abs(price) <= book.priceCap) { flag(.priceWithinCap, "price \(price) outside ±\(book.priceCap)") }

        var remaining: [BidKey: Bid] = [:]
        for bid in book.bids { remaining[BidKey(id: bid.id, side: bid.side)] = bid }
        var bought = 0.0, sold = 0.0, total = 0.0
        for award in awards {
            let bid = award.bid
            let key = BidKey(id: bid.id, side: bid.side)
            guard remaining.removeValue(forKey: key) == bid else {
                flag(.awardsAddUp, "award for \(bid.side.rawValue) \"\(bid.id)\" matches no bid of the book, or repeats one")
                continue
            }
            total += bid.quantity
            if !(award.quantity >= 0 && award.quantity <= bid.quantity) {
                flag(.awardsAddUp, "\(bid.side.rawValue) \"\(bid.id)\" awarded \(award.quantity) kW of a \(bid.quantity) kW bid")
            }
            let inTheMoney = bid.side == .buy ? bid.price > price : bid.price < price
            if inTheMoney, award.quantity != bid.quantity {
                flag(.awardsAddUp, "\(bid.side.rawValue) \"\(bid.id)\" at \(bid.price) is in the money at \(price) but got \(award.quantity) of \(bid.quantity) kW")
            }
            let outOfTheMoney = bid.side == .buy ? bid.price < price : bid.price > price
            if outOfTheMoney, award.quantity > 0 {
                flag(.individualRationality, "\(bid.side.rawValue) \"\(bid.id)\" at \(bid.price) awarded \(award.quantity) kW at price \(price)")
            }
            if bid.side == .buy { bought += award.quantity } else { sold += award.quantity }
        }
        for bid in remaining.values.sorted(by: { ($0.id, $0.side.rawValue) < ($1.id, $1.side.rawValue) }) {
            flag(.awardsAddUp, "\(bid.side.rawValue) \"\(bid.id)\" has no award")
        }
        let tolerance = Self.relativeTolerance * max(1, total)
        if abs(bought - quantity) > tolerance || abs(sold - quantity) > tolerance {
            flag(.supplyEqualsDemand, "awarded buys \(bought) kW, awarded sells \(sold) kW, cleared \(quantity) kW")
        }
        return found
    }
}
