import Emulators
import Foundation
import Market
import Physics
public import Rigs
import Run

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
package protocol Assertion {
    func judge(_ run: RunView) -> Judgement
}

/// What an assertion found, before the report names its kind.
package struct Judgement {
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

/// An assertion the verdict knows: its kind, as rigs name it, and how it is made from a rig's spec. Each assertion's
/// file declares its own next to its kind.
struct KnownAssertion: Sendable {
    let kind: AssertionSpec.Kind
    let make: @Sendable (AssertionSpec) -> any Assertion

    init(_ kind: AssertionSpec.Kind, make: @escaping @Sendable (AssertionSpec) -> any Assertion) {
        self.kind = kind
        self.make = make
    }

    /// Every assertion, in the order the verdict judges and the reports list them. A new assertion is a file in
    /// Assertions/ declaring its kind, and its line here.
    static let all: [Self] = [
        .supplyEqualsDemand, .individualRationality, .awardsAddUp, .clearingMatchesReference, .everyIntervalCleared, .clearingLatency,
        .dispatchLatency, .dispatchReportsTruthful, .telemetryTruthful, .lostDevicesNotOffered, .writesAccepted, .protocolConformance,
        .devicesFollowAwards, .watchdogFallbacks, .socWithinLimits, .evEnergyByDeparture, .comfortBand, .exportLimit, .balance,
        .selfConsumption, .voltageRange, .inverterTrips,
    ]
    static let byKind = Dictionary(uniqueKeysWithValues: all.map { ($0.kind, $0) })
}

extension AssertionSpec.Kind {
    /// Every assertion's kind, in the verdict's order.
    public static let allCases = KnownAssertion.all.map(\.kind)

    /// The kind of that name; nil for a name no assertion has.
    public init?(name: String) {
        guard let kind = KnownAssertion.all.first(where: { $0.kind.name == name })?.kind else { return nil }
        self = kind
    }
}

extension AssertionSpec {
    /// What a rig without an `assertions` key is held to: everything but the self-consumption floor, and the grid's
    /// voltage only when a feeder model gives it (`cosim`).
    public static let defaults = Kind.allCases.filter { ![.selfConsumption, .voltageRange, .inverterTrips].contains($0) }.map { AssertionSpec($0) }
    public static let cosimDefaults = defaults + [AssertionSpec(.voltageRange), AssertionSpec(.inverterTrips)]

    /// The assertion this spec asks for, with its thresholds; nil for a kind the verdict does not know.
    package var assertion: (any Assertion)? { KnownAssertion.byKind[kind]?.make(self) }

    func judge(_ run: RunView) -> AssertionResult {
        let judgement = assertion?.judge(run) ?? .nothingToJudge("the verdict knows no assertion \(kind)", threshold: "-")
        return AssertionResult(kind: kind, passed: judgement.passed, measured: judgement.measured, threshold: judgement.threshold,
                               detail: judgement.passed ? "" : judgement.detail, judged: judgement.judged)
    }
}

extension RunView {
    /// The verdict of a run: each of the rig's assertions on this view of it, judged side by side, each core taking
    /// the next as it finishes one (the view is read-only; at 1,000 houses the assertions take tens of seconds one
    /// after another, a few of them most of that).
    package func verdict() -> [AssertionResult] {
        let specs = rig.run.assertions
        return eachOnAnyCore(specs.count) { specs[$0].judge(self) }
    }
}
