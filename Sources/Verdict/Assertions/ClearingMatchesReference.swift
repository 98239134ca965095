import Market
import Messages
public import Rigs

/// The published price and quantity equal GridRig's market core on the same bids. Catches a market whose
/// clearing rule differs from docs/MARKET.md while its awards still add up.
struct ClearingMatchesReference: Assertion {
    func judge(_ run: RunView) -> Judgement {
        var failing: [String] = [], judged = 0
        for view in run.intervals {
            guard let published = view.clearing else { continue }
            judged += 1
            let reference = view.orderBook(priceCap: run.rig.run.priceCap).clear()
            let tolerance = 1e-9 * max(1, reference.quantity)
            if abs(reference.price - published.price) > 1e-9 || abs(reference.quantity - published.quantity) > tolerance {
                failing.append("interval \(view.number): published \(published.quantity) kW at \(published.price), GridRig's market core clears the same bids at \(reference.quantity) kW, \(reference.price)")
            }
        }
        guard judged > 0 else { return .nothingToJudge("no interval was cleared", threshold: "0") }
        return Judgement(passed: failing.isEmpty, measured: "\(failing.count) of \(judged) intervals", threshold: "0",
                         detail: failing.prefix(3).joined(separator: "; "))
    }
}

extension AssertionSpec.Kind {
    public static let clearingMatchesReference = Self("clearing-matches-reference")
}

extension KnownAssertion {
    static let clearingMatchesReference = KnownAssertion(.clearingMatchesReference) { _ in ClearingMatchesReference() }
}
