import Agents
import Market
import Messages
public import Rigs

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
            var awarded: [BidKey: Double] = [:]
            for award in view.awards.values.flatMap(\.awards.awards) { awarded[BidKey(id: award.id, side: Side(award.side)), default: 0] += award.quantity }
            let clearing = Clearing(price: published.price, quantity: published.quantity, type: ClearingType(published.clearingType),
                                    marginalQuantity: published.marginalQuantity, marginalFraction: published.marginalFraction,
                                    unservedDemand: published.unservedDemand,
                                    awards: book.bids.map { Award(bid: $0, quantity: awarded[BidKey(id: $0.id, side: $0.side)] ?? 0) })
            let violations = clearing.violations(of: book).filter { $0.rule == rule }.map(\.detail)
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
    /// The bids the market was sent before gate closure, as the market core reads them.
    func orderBook(priceCap: Double) -> OrderBook {
        OrderBook(priceCap: priceCap, bids: bids.keys.sorted().flatMap { house in
            bids[house]!.bids.map { Bid(id: $0.id, side: Side($0.side), price: $0.price, quantity: $0.quantity) }
        })
    }
}

extension AssertionSpec.Kind {
    public static let supplyEqualsDemand = Self("supply-equals-demand")
    public static let individualRationality = Self("individual-rationality")
    public static let awardsAddUp = Self("awards-add-up")
}

extension KnownAssertion {
    static let supplyEqualsDemand = KnownAssertion(.supplyEqualsDemand) { _ in MarketRuleAssertion(rule: .supplyEqualsDemand) }
    static let individualRationality = KnownAssertion(.individualRationality) { _ in MarketRuleAssertion(rule: .individualRationality) }
    static let awardsAddUp = KnownAssertion(.awardsAddUp) { _ in MarketRuleAssertion(rule: .awardsAddUp) }
}
