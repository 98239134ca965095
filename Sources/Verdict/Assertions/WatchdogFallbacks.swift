import Emulators
import Modbus
public import Rigs
import Run

/// No device runs on its comms-loss fallback while its household is in control (from the household's first
/// accepted write to it, once the product has taken it: its latency), outside a scheduled fault and the watchdog's own timeout after one. Catches firmware
/// that writes too rarely to keep a product's watchdog armed, so that the product's safe default, not the market,
/// decides what it does (an Alfen charger at 6 A).
struct WatchdogFallbacks: Assertion {
    func judge(_ run: RunView) -> Judgement {
        let times = run.physics.times
        var total = 0.0, devices: [(name: String, seconds: Double, first: Double)] = []
        for spec in run.rig.devices where spec.house != nil {
            guard let watchdog = spec.profile.watchdog else { continue }
            let fallback = run.physics.series(spec.name, .fallback)
            guard fallback.count == times.count,
                  let control = run.writes.first(where: { $0.device == spec.name && $0.record.exception == nil })?.simulatedTime else { continue }
            let grace = watchdog.timeout ?? 0
            let spans = run.faultSpans(house: spec.house, device: spec.name).map { $0.lowerBound...($0.upperBound + grace) }
            var seconds = 0.0, first: Double?
            let inControl = control + spec.profile.latency
            for index in times.indices.dropFirst() where fallback[index] > 0 && times[index - 1] >= inControl {
                guard !spans.contains(where: { $0.contains(times[index - 1]) || $0.contains(times[index]) }) else { continue }
                seconds += times[index] - times[index - 1]
                if first == nil { first = times[index - 1] }
            }
            if let first {
                total += seconds
                devices.append((spec.name, seconds, first))
            }
        }
        devices.sort { $0.seconds > $1.seconds }
        let detail = devices.prefix(3).map { "\($0.name) on its fallback from \(Figures.clockTime($0.first)), \(Figures.format($0.seconds / 60, 0)) min in all" }
        return Judgement(passed: devices.isEmpty, measured: "\(devices.count) devices, \(Figures.format(total / 60, 1)) min", threshold: "0",
                         detail: detail.joined(separator: "; "))
    }
}

extension AssertionSpec.Kind {
    public static let watchdogFallbacks = Self("watchdog-fallbacks", judgesDeviceLogs: true)
}

extension KnownAssertion {
    static let watchdogFallbacks = KnownAssertion(.watchdogFallbacks) { _ in WatchdogFallbacks() }
}
