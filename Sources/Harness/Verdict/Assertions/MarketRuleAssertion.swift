import Market
import Messages

/// supply-equals-demand, individual-rationality and awards-add-up: the market's published clearing and awards,
/// checked against the bids it was sent with the market core's own invariants (`Clearing.violations(of:)`).
/// Catches a market that awards more than it cleared, charges a buyer above its bid, or fills bids wrongly.
struct MarketRuleAssertion: Assertion {
    let rule: MarketViolation.Rule

    func judge(_ run: RunView) -> Judgement {
        var failing: [String] = []
        var judged = 0
        for view in run.intervals {
            guard let published = view.clearing else { continue }
            judged += 1
            let book = view.orderBook(priceCap: run.rig.run.priceCap)
            var awarded: [BidKey: Double] = [:], malformed: [String] = []
            for award in view.awards.values.flatMap(\.awards.awards) {
                guard let side = Side(rawValue: award.side) else { malformed.append("award \"\(award.id)\" has side \"\(award.side)\""); continue }
                awarded[BidKey(id: award.id, side: side), default: 0] += award.quantity
            }
            guard let type = ClearingType(rawValue: published.clearingType) else {
                failing.append("interval \(view.number): clearing type \"\(published.clearingType)\" is none of docs/MARKET.md's")
                continue
            }
            let clearing = Clearing(price: published.price, quantity: published.quantity, type: type,
                                    marginalQuantity: published.marginalQuantity, marginalFraction: published.marginalFraction,
                                    unservedDemand: published.unservedDemand,
                                    awards: book.bids.map { Award(bid: $0, quantity: awarded[BidKey(id: $0.id, side: $0.side)] ?? 0) })
            let violations = clearing.violations(of: book).filter { $0.rule == rule }.map(\.detail) + (rule == .awardsAddUp ? malformed : [])
            if let first = violations.first {
                failing.append("interval \(view.number): \(first)" + (violations.count > 1 ? " (and \(violations.count - 1) more)" : ""))
            }
        }
        guard judged > 0 else { return .nothingToJudge("no interval was cleared", threshold: "0") }
        return Judgement(passed: failing.isEmpty, measured: "\(failing.count) of \(judged) intervals", threshold: "0",
                         detail: failing.prefix(3).joined(separator: "; "))
    }
}

extension RunView.IntervalView {
    /// The bids the market was sent before gate closure, as the market core reads them (bids with a side that is
    /// neither buy nor sell were refused on the bus and are not in it).
    func orderBook(priceCap: Double) -> OrderBook {
        OrderBook(priceCap: priceCap, bids: bids.keys.sorted().flatMap { house in
            bids[house]!.bids.compactMap { wire in Side(rawValue: wire.side).map { Bid(id: wire.id, side: $0, price: wire.price, quantity: wire.quantity) } }
        })
    }
}
