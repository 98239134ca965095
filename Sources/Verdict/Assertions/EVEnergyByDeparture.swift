import Emulators
import Physics
public import Rigs
import Run

/// Every vehicle that arrives and leaves during the run leaves at its target state of charge. Catches an agent
/// that bids too late or too little for a vehicle.
struct EVEnergyByDeparture: Assertion {
    static let tolerance = Threshold("tolerance", default: 2)
    let tolerance: Double

    func judge(_ run: RunView) -> Judgement {
        var worst = 0.0, detail = "", checked = 0
        let times = run.physics.times
        for spec in run.rig.devices where spec.profile.kind == .evCharger {
            // A vehicle that came before the run began is not judged: its visit started unseen.
            guard let vehicle = spec.parameters.vehicle, vehicle.arrival >= times.first ?? 0 else { continue }
            let socs = run.physics.series(spec.name, .vehicleSoC)
            // The last sample while the vehicle is still plugged in.
            guard let index = times.lastIndex(where: { $0 <= vehicle.departure && $0 > vehicle.arrival }), times.last ?? 0 >= vehicle.departure,
                  index < socs.count else { continue }
            checked += 1
            let shortfall = vehicle.targetSoC * 100 - socs[index]
            if shortfall > worst {
                worst = shortfall
                detail = "\(spec.name) left at \(Figures.format(socs[index], 1)) %, target \(Figures.format(vehicle.targetSoC * 100, 0)) %"
            }
        }
        return Judgement(passed: worst <= tolerance, measured: "\(checked) left, worst \(Figures.format(max(worst, 0), 1)) % short",
                         threshold: "≤ \(Figures.format(tolerance, 1)) % short", detail: detail)
    }
}

extension AssertionSpec.Kind {
    public static let evEnergyByDeparture = Self("ev-energy-by-departure", thresholds: [EVEnergyByDeparture.tolerance])
}

extension KnownAssertion {
    static let evEnergyByDeparture = KnownAssertion(.evEnergyByDeparture) {
        EVEnergyByDeparture(tolerance: $0[EVEnergyByDeparture.tolerance])
    }
}
