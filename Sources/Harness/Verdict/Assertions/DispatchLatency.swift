import Emulators
import Modbus

/// A household's awards on the bus to its first setpoint in a device's write log, wall clock, p99. Catches an
/// agent that acts on its awards late.
struct DispatchLatency: Assertion {
    let p99: Double

    func judge(_ run: RunView) -> Judgement {
        var latencies: [Double] = []
        let writes = run.writes.filter { $0.record.exception == nil }.sorted { $0.record.unixTime < $1.record.unixTime }
        for (index, view) in run.intervals.enumerated() {
            let end = index + 1 < run.intervals.count ? run.intervals[index + 1].gateAt ?? .infinity : .infinity
            for (house, sent) in view.awards {
                let first = writes.first { $0.device.hasPrefix("\(house)/") && $0.record.unixTime >= sent.at && $0.record.unixTime < end }
                if let first { latencies.append((first.record.unixTime - sent.at) * 1000) }
            }
        }
        let limit = "p99 ≤ \(Verdict.format(p99, 0)) ms"
        guard !latencies.isEmpty else { return .nothingToJudge("no setpoint followed any awards", threshold: limit) }
        let measured = Verdict.percentile(latencies, 0.99)
        return Judgement(passed: measured <= p99, measured: Verdict.latencies(latencies), threshold: limit,
                         detail: "first setpoint p99 \(Verdict.format(measured)) ms after the awards")
    }
}
