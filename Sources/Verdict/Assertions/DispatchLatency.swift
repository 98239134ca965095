import Emulators
import Physics
public import Rigs

/// A household's awards on the bus to its first setpoint in a device's write log, wall clock, p99. Catches an
/// agent that acts on its awards late.
struct DispatchLatency: Assertion {
    static let p99 = Threshold("p99-ms", default: 1000)
    let p99: Double

    func judge(_ run: RunView) -> Judgement {
        var latencies: [Double] = []
        var devices: [HouseID: [String]] = [:]
        for device in run.rig.devices { if let house = device.house { devices[house, default: []].append(device.name) } }
        for (index, view) in run.intervals.enumerated() {
            let end = index + 1 < run.intervals.count ? run.intervals[index + 1].gateAt ?? .infinity : .infinity
            for (house, sent) in view.awards {
                let first = devices[house, default: []].compactMap { run.firstWrite(to: $0, atOrAfter: sent.at) }.min()
                if let first, first < end { latencies.append((first - sent.at) * 1000) }
            }
        }
        let limit = "p99 ≤ \(Figures.format(p99, 0)) ms"
        guard !latencies.isEmpty else { return .nothingToJudge("no setpoint followed any awards", threshold: limit) }
        let measured = Figures.percentile(latencies, 0.99)
        return Judgement(passed: measured <= p99, measured: Figures.latencies(latencies), threshold: limit,
                         detail: "first setpoint p99 \(Figures.format(measured)) ms after the awards")
    }
}

extension AssertionSpec.Kind {
    public static let dispatchLatency = Self("dispatch-latency", thresholds: [DispatchLatency.p99], judgesDeviceLogs: true)
}

extension KnownAssertion {
    static let dispatchLatency = KnownAssertion(.dispatchLatency) {
        DispatchLatency(p99: $0[DispatchLatency.p99])
    }
}
