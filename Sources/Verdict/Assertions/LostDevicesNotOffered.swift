import Agents
import Emulators
import Physics
import Messages
public import Rigs

/// A household offers nothing from a device it has lost contact with (docs/FAULTS.md): no bid under a device's id
/// (`<house>/<ev|battery|solar|thermostat>`) in a bids message sent while the device had answered none of its
/// reads since the interval opened, though it was asked. Judged from the emulators' read logs, as telemetry is.
/// Catches an agent that keeps selling a device's flexibility from its last good reading: an award the device can
/// never follow.
struct LostDevicesNotOffered: Assertion {
    func judge(_ run: RunView) -> Judgement {
        let opened = Dictionary(run.intervals.compactMap { view in view.openedAt.map { (view.number, $0) } }, uniquingKeysWith: { first, _ in first })
        let devices = Dictionary(grouping: run.followableDevices.compactMap { spec in spec.house.map { ($0, spec) } }, by: \.0).mapValues { $0.map(\.1) }
        var offers = 0, lost: [String] = []
        for (message, received) in run.messages {
            guard let bids = message.body as? Bids, bids.house.name == message.header.sender, let number = message.header.interval,
                  let from = opened[number] else { continue }
            for spec in devices[bids.house] ?? [] {
                guard let id = run.bidderID(of: spec), case let offered = bids.bids.filter({ $0.id == id }), !offered.isEmpty,
                      let reads = run.reads[spec.name] else { continue }
                offers += 1
                if TelemetryTruthful.count(reads.served, from: from, to: received) == 0, TelemetryTruthful.count(reads.failed, from: from, to: received) > 0 {
                    let quantity = offered.reduce(0) { $0 + $1.quantity }
                    lost.append("interval \(number): \(id) offered \(Figures.format(quantity, 2)) kW while \(spec.name) answered none of its reads")
                }
            }
        }
        guard offers > 0 else { return Judgement(passed: true, measured: "no device bids", threshold: "0", detail: "") }
        return Judgement(passed: lost.isEmpty, measured: "\(lost.count) of \(offers) out of reach", threshold: "0",
                         detail: lost.prefix(3).joined(separator: "; "))
    }
}

extension AssertionSpec.Kind {
    public static let lostDevicesNotOffered = Self("lost-devices-not-offered", judgesDeviceLogs: true)
}

extension KnownAssertion {
    static let lostDevicesNotOffered = KnownAssertion(.lostDevicesNotOffered) { _ in LostDevicesNotOffered() }
}
