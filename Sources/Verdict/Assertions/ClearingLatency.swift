public import Rigs

/// Gate closure to the clearing on the bus, wall clock, p99. Catches a market too slow for its deadline.
struct ClearingLatency: Assertion {
    static let p99 = Threshold("p99-ms", default: 500)
    let p99: Double

    func judge(_ run: RunView) -> Judgement {
        let latencies = run.intervals.compactMap { view -> Double? in
            guard let gate = view.gateAt, let cleared = view.clearedAt else { return nil }
            return (cleared - gate) * 1000
        }
        let limit = "p99 ≤ \(Figures.format(p99, 0)) ms"
        guard !latencies.isEmpty else { return .nothingToJudge("no clearing followed a gate closure", threshold: limit) }
        let measured = Figures.percentile(latencies, 0.99)
        return Judgement(passed: measured <= p99, measured: Figures.latencies(latencies), threshold: limit,
                         detail: "clearing p99 \(Figures.format(measured)) ms after gate closure")
    }
}

extension AssertionSpec.Kind {
    public static let clearingLatency = Self("clearing-latency", thresholds: [ClearingLatency.p99])
}

extension KnownAssertion {
    static let clearingLatency = KnownAssertion(.clearingLatency) { ClearingLatency(p99: $0[ClearingLatency.p99]) }
}
