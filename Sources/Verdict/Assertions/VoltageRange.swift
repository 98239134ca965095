import Emulators
import Physics
public import Rigs
import Run

/// Every house's voltage stays within a band of nominal: ANSI C84.1 range A (95–105 % at the service) by default.
/// Catches a feeder driven out of range: inverters without (or with mis-set) volt-var and volt-watt on a sunny
/// weak feeder, or a controller exporting everything at once. Judged on the voltages the feeder model gave,
/// sample by sample, so the same band means the same at 4 houses and at 1,000.
package struct VoltageRange: Assertion {
    package static let low = Threshold("low", default: 95), high = Threshold("high", default: 105)
    let low: Double, high: Double

    package func judge(_ run: RunView) -> Judgement {
        let threshold = "\(Figures.format(low, 1))–\(Figures.format(high, 1)) % of \(Figures.format(run.rig.run.cosim?.nominalVoltage ?? 230, 0)) V"
        guard let nominal = run.rig.run.cosim?.nominalVoltage else {
            return .nothingToJudge("no feeder model gives voltages: the rig has no cosim key", threshold: threshold)
        }
        let houses = Set(run.rig.devices.compactMap(\.house))
        var samples = 0, outside = 0, lowest = Double.infinity, highest = -Double.infinity
        var worst: (excess: Double, detail: String)?
        for house in houses.sorted() {
            let volts = run.physics.series(house.name, .voltage)
            for (index, volt) in volts.enumerated() where volt.isFinite {
                let percent = 100 * volt / nominal
                samples += 1
                (lowest, highest) = (min(lowest, percent), max(highest, percent))
                let excess = max(low - percent, percent - high)
                guard excess > 0 else { continue }
                outside += 1
                if excess > (worst?.excess ?? 0) {
                    worst = (excess, "\(house) at \(Figures.format(volt, 1)) V (\(Figures.format(percent, 1)) %) at \(Figures.clockTime(run.physics.times[index]))")
                }
            }
        }
        guard samples > 0 else { return .nothingToJudge("no voltage arrived from the feeder model", threshold: threshold) }
        return Judgement(passed: outside == 0,
                         measured: "\(Figures.format(lowest, 1))–\(Figures.format(highest, 1)) %, \(outside) of \(samples) samples outside",
                         threshold: threshold, detail: worst.map { "worst: \($0.detail); \(outside) samples outside in all" } ?? "")
    }
}

extension AssertionSpec.Kind {
    public static let voltageRange = Self("voltage-range", thresholds: [VoltageRange.low, VoltageRange.high])
}

extension KnownAssertion {
    static let voltageRange = KnownAssertion(.voltageRange) {
        VoltageRange(low: $0[VoltageRange.low], high: $0[VoltageRange.high])
    }
}
