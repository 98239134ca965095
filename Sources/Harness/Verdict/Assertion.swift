import Emulators
import Foundation
import Market

/// One assertion's verdict: what was measured against what the rig allows.
public struct AssertionResult: Sendable {
    public var kind: AssertionSpec.Kind
    public var passed: Bool
    /// The measured value, as a person reads it ("p99 3.2 ms", "0 of 288 intervals").
    public var measured: String
    public var threshold: String
    /// Why it failed, naming the interval, device or bid; empty when it passed.
    public var detail: String
    /// False when there was nothing to judge (no clearing, no award): such a result fails the run, but a fault
    /// window with nothing of that kind in it does not list it as failing within.
    public var judged = true
}

/// One check of the verdict: it judges the run view against its thresholds. Each exists to catch a named kind of
/// bug, and a test with a controller that has that bug shows it does (docs/RIGS.md).
protocol Assertion {
    func judge(_ run: RunView) -> Judgement
}

/// What an assertion found, before the report names its kind.
struct Judgement {
    var passed: Bool
    var measured: String
    var threshold: String
    /// Why it failed; ignored when it passed.
    var detail: String
    var judged = true

    /// A check with nothing to judge says so, and does not pass: a verdict must never pass on no evidence.
    static func nothingToJudge(_ what: String, threshold: String) -> Judgement {
        Judgement(passed: false, measured: "nothing to judge", threshold: threshold, detail: what, judged: false)
    }
}

extension AssertionSpec.Kind {
    /// Every assertion, in the order the verdict judges and the reports list them. A new assertion is a file in
    /// Assertions/ declaring its kind, and its line here.
    public static let allCases: [Self] = [
        .supplyEqualsDemand, .individualRationality, .awardsAddUp, .clearingMatchesReference, .everyIntervalCleared, .clearingLatency,
        .dispatchLatency, .dispatchReportsTruthful, .telemetryTruthful, .lostDevicesNotOffered, .writesAccepted, .protocolConformance,
        .devicesFollowAwards, .watchdogFallbacks, .socWithinLimits, .evEnergyByDeparture, .comfortBand, .exportLimit, .balance,
        .selfConsumption, .voltageRange, .inverterTrips,
    ]
}

extension AssertionSpec {
    func judge(_ run: RunView) -> AssertionResult {
        let judgement = assertion.judge(run)
        return AssertionResult(kind: kind, passed: judgement.passed, measured: judgement.measured, threshold: judgement.threshold,
                               detail: judgement.passed ? "" : judgement.detail, judged: judgement.judged)
    }
}

/// The verdict of a run: each of the rig's assertions on one view of it.
enum Verdict {
    static func judge(_ run: RunView) -> [AssertionResult] { run.rig.run.assertions.map { $0.judge(run) } }

    static func percentile(_ values: [Double], _ p: Double) -> Double { percentile(sorted: values.sorted(), p) ?? 0 }

    /// The `p` percentile of values already in order; nil for none.
    static func percentile(sorted: [Double], _ p: Double) -> Double? {
        sorted.isEmpty ? nil : sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))]
    }

    static func format(_ value: Double, _ digits: Int = 2) -> String { String(format: "%.\(digits)f", value) }

    /// "p50 0.3 p99 1.2 max 1.5 ms".
    static func latencies(_ values: [Double]) -> String {
        "p50 \(format(percentile(values, 0.5), 1)) p99 \(format(percentile(values, 0.99), 1)) max \(format(values.max() ?? 0, 1)) ms"
    }
}

/// "HH:MM" of a simulated time, with the day when past the first.
func clockTime(_ seconds: Double) -> String {
    guard seconds.isFinite else { return "end" }
    let total = Int(seconds.rounded())
    let day = total / 86_400, rest = total % 86_400
    let text = (rest / 3600 < 10 ? "0" : "") + "\(rest / 3600):" + (rest / 60 % 60 < 10 ? "0" : "") + "\(rest / 60 % 60)"
    return day > 0 ? "day \(day + 1) \(text)" : text
}
