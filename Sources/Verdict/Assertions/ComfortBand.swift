import Emulators
import Market
public import Rigs
import Run

/// Every room stays within its comfort band. Catches a thermostat controller that trades comfort away.
struct ComfortBand: Assertion {
    static let tolerance = Threshold("tolerance", default: 1)
    let tolerance: Double

    func judge(_ run: RunView) -> Judgement {
        var worst = 0.0, detail = ""
        for spec in run.rig.devices where spec.profile.kind == .thermostat {
            let comfort = run.rig.run.comfort[spec.name] ?? ThermostatStrategy(season: .heating, setpoint: 21)
            let low = comfort.setpoint - comfort.comfortBelow, high = comfort.setpoint + comfort.comfortAbove
            for (time, room) in zip(run.physics.times, run.physics.series(spec.name, .room)) {
                let beyond = max(low - room, room - high, 0)
                if beyond > worst {
                    worst = beyond
                    detail = "\(spec.name) at \(Figures.format(room, 1)) °C at \(Figures.clockTime(time)), band \(Figures.format(low, 1))–\(Figures.format(high, 1)) °C"
                }
            }
        }
        return Judgement(passed: worst <= tolerance, measured: "\(Figures.format(worst)) K beyond band", threshold: "≤ \(Figures.format(tolerance, 1)) K",
                         detail: detail)
    }
}

extension AssertionSpec.Kind {
    public static let comfortBand = Self("comfort-band", thresholds: [ComfortBand.tolerance])
}

extension KnownAssertion {
    static let comfortBand = KnownAssertion(.comfortBand) { ComfortBand(tolerance: $0[ComfortBand.tolerance]) }
}
