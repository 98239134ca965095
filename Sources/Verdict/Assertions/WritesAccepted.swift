import Emulators
import Modbus
public import Rigs

/// Outside its device's scheduled faults (and the replay of recorded answers), every write a controller sends is
/// accepted. A refused one means the controller is misconfigured: a wrong register, a wrong unit id, a value out
/// of range. Catches an agent written against another product's map, or one that scales a setpoint wrongly.
struct WritesAccepted: Assertion {
    func judge(_ run: RunView) -> Judgement {
        var refused: [String: (count: Int, first: LoggedWrite)] = [:]
        var total = 0
        for write in run.writes {
            total += 1
            guard let exception = write.record.exception, !run.deviceFaultSpans(write.device).contains(where: { $0.contains(write.simulatedTime) })
            else { continue }
            let key = "\(write.device)/\(write.record.address.unit)/\(write.record.request.address)/\(exception.rawValue)"
            refused[key, default: (0, write)].count += 1
        }
        let count = refused.values.reduce(0) { $0 + $1.count }
        let detail = refused.values.sorted { $0.first.record.unixTime < $1.first.record.unixTime }.prefix(3).map { entry in
            let record = entry.first.record
            return "\(entry.first.device): \(entry.count) write\(entry.count == 1 ? "" : "s") to unit \(record.address.unit) register "
                + "\(record.request.address) refused with \(record.exception!) (first at \(Figures.clockTime(entry.first.simulatedTime)))"
        }
        return Judgement(passed: count == 0, measured: "\(count) of \(total) writes refused", threshold: "0", detail: detail.joined(separator: "; "))
    }
}

extension RunView {
    /// The spans in which `device` itself is under a scheduled fault or replays the field: what it refuses there is
    /// the scenario's doing.
    func deviceFaultSpans(_ device: String) -> [ClosedRange<Double>] {
        faultWindows.filter { $0.concerns == .device(device) || $0.concerns == .replay(device) || $0.concerns == .grid(house: nil) }.map { $0.start...$0.end }
    }
}

extension AssertionSpec.Kind {
    public static let writesAccepted = Self("writes-accepted", judgesDeviceLogs: true)
}

extension KnownAssertion {
    static let writesAccepted = KnownAssertion(.writesAccepted) { _ in WritesAccepted() }
}
