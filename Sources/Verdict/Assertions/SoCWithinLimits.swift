import Emulators
import Physics
public import Rigs
import Run

/// No battery is commanded past its state-of-charge window: a discharge forced at the minimum, or a charge
/// forced at the maximum, that the battery must refuse. The battery protects its own window, so the state of
/// charge itself cannot leave it; what this catches is a controller that bids and dispatches a battery without
/// regard to its state of charge. Only forced power counts (SunSpec 124 StorCtl_Mod): self-consumption on the
/// battery's own settings is not a command.
struct SoCWithinLimits: Assertion {
    /// %, how close to a limit counts as at it (the SoC register's resolution).
    static let margin = 0.5

    func judge(_ run: RunView) -> Judgement {
        var refused = 0.0, worst: (seconds: Double, detail: String)?
        let times = run.physics.times
        for spec in run.rig.devices where spec.profile.kind == .battery && !spec.isGridForming {
            let low = spec.profile.rating(.minimumSoC), high = spec.profile.rating(.maximumSoC)
            let soc = run.physics.series(spec.name, .soc), forced = run.physics.series(spec.name, .forced)
            guard soc.count == times.count, forced.count == times.count else { continue }
            var seconds = 0.0, first: Int?  // the sample after which the first refused command ran
            for index in times.indices.dropFirst() {
                let before = soc[index - 1], command = forced[index]
                let atLimit = (command > 0.01 && before <= low + Self.margin) || (command < -0.01 && before >= high - Self.margin)
                guard atLimit, !run.isIslanded(at: times[index - 1]) else { continue }
                seconds += times[index] - times[index - 1]
                if first == nil { first = index - 1 }
            }
            refused += seconds
            if let first, seconds > (worst?.seconds ?? 0) {
                let command = forced[first + 1]
                worst = (seconds, "\(spec.name) was forced to \(command > 0 ? "discharge" : "charge") \(Figures.format(abs(command))) kW at "
                         + "\(Figures.format(soc[first], 1)) % from \(Figures.clockTime(times[first])), window \(Figures.format(low, 0))–\(Figures.format(high, 0)) %: "
                         + "\(Figures.format(seconds / 60, 0)) min refused in all")
            }
        }
        return Judgement(passed: refused == 0, measured: "\(Figures.format(refused / 60, 1)) min of commands refused", threshold: "0",
                         detail: worst?.detail ?? "")
    }
}

extension AssertionSpec.Kind {
    public static let socWithinLimits = Self("soc-within-limits")
}

extension KnownAssertion {
    static let socWithinLimits = KnownAssertion(.socWithinLimits) { _ in SoCWithinLimits() }
}
