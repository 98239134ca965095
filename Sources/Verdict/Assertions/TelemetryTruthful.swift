import Emulators
import Messages
import Physics
public import Rigs

/// A household's telemetry says a device is unavailable (`available: 0`, and no reading) when the device answered
/// none of its reads since the interval opened, though it was asked (its reads failed, timed out, were cut off, or
/// its connection was refused). Catches an agent that reports its last good reading as current while the device
/// is silent, which would hide comms loss from whoever reads the record.
struct TelemetryTruthful: Assertion {
    func judge(_ run: RunView) -> Judgement {
        let opened = Dictionary(run.intervals.compactMap { view in view.openedAt.map { (view.number, $0) } }, uniquingKeysWith: { first, _ in first })
        var claims = 0, falseReports: [String] = []
        for (message, received) in run.messages {
            guard let telemetry = message.body as? Telemetry, let number = message.header.interval, let from = opened[number],
                  telemetry.house.name == message.header.sender else { continue }
            for device in telemetry.devices where device.id.house == telemetry.house {
                guard let reads = run.reads[device.id.description] else { continue }
                claims += 1
                let unavailable = device.values["available"] == 0 && device.values.count == 1
                if !unavailable, Self.count(reads.served, from: from, to: received) == 0, Self.count(reads.failed, from: from, to: received) > 0 {
                    let values = device.values.keys.sorted().map { "\($0) \(device.values[$0]!)" }.joined(separator: ", ")
                    falseReports.append("interval \(number): \(device.id) reported {\(values)}, but it answered none of its reads")
                }
            }
        }
        guard claims > 0 else { return Judgement(passed: true, measured: "no device in telemetry", threshold: "0", detail: "") }
        return Judgement(passed: falseReports.isEmpty, measured: "\(falseReports.count) of \(claims) reports false", threshold: "0",
                         detail: falseReports.prefix(3).joined(separator: "; "))
    }

    /// How many of the ascending `times` lie in [from, to].
    static func count(_ times: [Double], from: Double, to: Double) -> Int {
        max(0, times.partitionPoint { $0 > to } - times.partitionPoint { $0 >= from })
    }
}

extension AssertionSpec.Kind {
    public static let telemetryTruthful = Self("telemetry-truthful", judgesDeviceLogs: true)
}

extension KnownAssertion {
    static let telemetryTruthful = KnownAssertion(.telemetryTruthful) { _ in TelemetryTruthful() }
}
