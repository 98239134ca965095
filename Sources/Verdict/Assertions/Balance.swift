import Emulators
import Messages
import Physics
public import Rigs
import Run

/// The PCC follows the grid's cleared schedule. Grid-connected: the sum over intervals of |metered PCC energy −
/// the energy the utility was awarded|, as a share of all the energy the market cleared (each interval's cleared
/// quantity × its length), so that the threshold means the same at 4 houses and at 1,000. Islanded (the whole
/// run, or during an outage): nothing may cross the PCC; a step where something does is a frequency excursion the
/// inverters answer in the next step, two in a row is imbalance the grid-forming battery could not hold: a
/// blackout. Catches devices that do not do what the market awarded, in sum. Grid-connected, intervals touched by
/// a scheduled fault are not judged: the fault window's own verdict in the report shows what the fault did.
struct Balance: Assertion {
    static let maxDeviation = Threshold("max-deviation", default: 10), islandTolerance = Threshold("tolerance", default: 1)
    /// %, grid-connected.
    let maxDeviation: Double
    /// kW that may cross the PCC of an island.
    let islandTolerance: Double

    func judge(_ run: RunView) -> Judgement {
        guard let meter = run.pccMeter else { return .nothingToJudge("the rig has no PCC meter", threshold: "-") }
        let outages = run.rig.run.faults.outages
        let power = run.physics.series(meter.name, .power), times = run.physics.times
        var blackouts: [(time: Double, power: Double)] = [], excursions = 0
        for index in power.indices.dropFirst() where run.isIslanded(at: times[index] - 1e-6) && abs(power[index]) > islandTolerance {
            excursions += 1
            if run.isIslanded(at: times[index - 1] - 1e-6), abs(power[index - 1]) > islandTolerance { blackouts.append((times[index], power[index])) }
        }
        let island = "\(blackouts.count) blackouts, \(excursions) excursions"
        let blackout = blackouts.first.map { first in
            let former = (outages.first { $0.contains(first.time - 1e-6) }?.gridForming ?? run.rig.run.gridForming)?.description ?? "no battery"
            return "\(Figures.format(first.power)) kW unbalanced at \(Figures.clockTime(first.time)): \(former) could not hold the island"
        }
        let islandLimit = "≤ \(Figures.format(islandTolerance, 1)) kW"
        guard run.rig.run.grid != nil else {
            return Judgement(passed: blackouts.isEmpty, measured: island, threshold: islandLimit, detail: blackout ?? "")
        }
        let length = run.intervalLength
        var deviation = 0.0, cleared = 0.0, judged = 0, worst: (deviation: Double, text: String)?
        let faults = run.allFaultSpans
        for view in run.intervals where !faults.contains(where: { $0.lowerBound < view.start + length && view.start < $0.upperBound }) {
            guard let clearing = view.clearing, let awards = view.awards[.grid]?.awards,
                  let metered = run.meterEnergy(meter.name, from: view.start, to: view.start + length) else { continue }
            let scheduled = awards.awards.netSold * length / 3600
            let difference = abs(metered - scheduled)
            judged += 1
            deviation += difference
            cleared += clearing.quantity * length / 3600
            if difference > worst?.deviation ?? 0 {
                worst = (difference, "\(Figures.clockTime(view.start)): metered \(Figures.format(metered)) kWh, scheduled \(Figures.format(scheduled)) kWh")
            }
        }
        let threshold = "≤ \(Figures.format(maxDeviation, 0)) %" + (outages.isEmpty ? "" : "; \(islandLimit)")
        guard judged > 0 else {
            if let blackout { return Judgement(passed: false, measured: "outages: \(island)", threshold: threshold, detail: blackout) }
            return .nothingToJudge("no interval had the grid's awards to hold the PCC to", threshold: threshold)
        }
        let share = cleared > 0 ? deviation / cleared * 100 : (deviation > 1e-6 ? .infinity : 0)
        let measured = "\(Figures.format(share, 1)) % of \(Figures.format(cleared, 0)) kWh" + (outages.isEmpty ? "" : "; outages: \(island)")
        return Judgement(passed: share <= maxDeviation && blackouts.isEmpty, measured: measured, threshold: threshold,
                         detail: blackout ?? "the PCC strayed \(Figures.format(deviation, 1)) kWh from the grid's schedule; worst \(worst?.text ?? "")")
    }
}

extension RunView {
    /// kWh a meter's counters measured from `start` to `end`, import less export; nil if the series does not
    /// cover the span.
    func meterEnergy(_ meter: String, from start: Double, to end: Double) -> Double? {
        let imported = physics.series(meter, .imported), exported = physics.series(meter, .exported)
        guard let from = sample(atOrBefore: start), let to = sample(atOrBefore: end), to > from, to < imported.count, to < exported.count,
              physics.times[to] >= end - 1e-6 else { return nil }
        return (imported[to] - imported[from]) - (exported[to] - exported[from])
    }
}

extension AssertionSpec.Kind {
    public static let balance = Self("balance", thresholds: [Balance.maxDeviation, Balance.islandTolerance])
}

extension KnownAssertion {
    static let balance = KnownAssertion(.balance) {
        Balance(maxDeviation: $0[Balance.maxDeviation], islandTolerance: $0[Balance.islandTolerance])
    }
}
