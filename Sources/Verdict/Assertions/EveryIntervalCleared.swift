import Physics
public import Rigs
import Run

/// Every interval had each household's bids, a clearing, each dispatch report, and an answer at every control
/// step a participant asked for. Catches silent households, a market that misses its deadline, and a
/// participant that asks for time and then does not answer.
struct EveryIntervalCleared: Assertion {
    static let maxIncomplete = Threshold("max-incomplete", default: 0)
    let maxIncomplete: Double

    func judge(_ run: RunView) -> Judgement {
        let everyone = Set(run.households.map(\.name))
        var incomplete: [String] = []
        for view in run.intervals {
            let record = view.record
            var parts: [String] = []
            if record.clearing == nil { parts.append("no clearing") }
            let silent = everyone.subtracting(record.bidders)
            if !silent.isEmpty { parts.append("no bids from \(silent.sorted().joined(separator: ", "))") }
            let undispatched = everyone.subtracting(record.dispatched)
            if record.clearing != nil, !undispatched.isEmpty { parts.append("no dispatch report from \(undispatched.sorted().joined(separator: ", "))") }
            if let step = record.silentSteps.first {
                parts.append("no answer at the \(Figures.clockTime(step.time)) control step from \(step.participants.joined(separator: ", "))")
            }
            if !parts.isEmpty { incomplete.append("interval \(record.interval): \(parts.joined(separator: ", "))") }
        }
        guard !run.intervals.isEmpty else { return .nothingToJudge("no interval was run", threshold: "≤ \(Figures.format(maxIncomplete, 0))") }
        return Judgement(passed: Double(incomplete.count) <= maxIncomplete, measured: "\(incomplete.count) of \(run.intervals.count) incomplete",
                         threshold: "≤ \(Figures.format(maxIncomplete, 0))", detail: incomplete.prefix(3).joined(separator: "; "))
    }
}

extension AssertionSpec.Kind {
    public static let everyIntervalCleared = Self("every-interval-cleared", thresholds: [EveryIntervalCleared.maxIncomplete])
}

extension KnownAssertion {
    static let everyIntervalCleared = KnownAssertion(.everyIntervalCleared) {
        EveryIntervalCleared(maxIncomplete: $0[EveryIntervalCleared.maxIncomplete])
    }
}
