import Emulators
import Market
public import Rigs
import Run

/// The PCC never exports above the grid's export limit. Catches curtailment that does not happen.
struct ExportLimit: Assertion {
    static let tolerance = Threshold("tolerance", default: 0.5)
    let tolerance: Double

    func judge(_ run: RunView) -> Judgement {
        guard let grid = run.rig.run.grid, let meter = run.pccMeter else {
            return Judgement(passed: true, measured: "islanded, or no PCC meter", threshold: "-", detail: "")
        }
        let limit = grid.exportLimit + tolerance
        let worst = -(run.physics.series(meter.name, .power).min() ?? 0)
        return Judgement(passed: worst <= limit, measured: "peak export \(Figures.format(max(worst, 0))) kW", threshold: "≤ \(Figures.format(limit, 1)) kW",
                         detail: "export reached \(Figures.format(worst)) kW, limit \(Figures.format(grid.exportLimit, 1)) kW")
    }
}

extension AssertionSpec.Kind {
    public static let exportLimit = Self("export-limit", thresholds: [ExportLimit.tolerance])
}

extension KnownAssertion {
    static let exportLimit = KnownAssertion(.exportLimit) { ExportLimit(tolerance: $0[ExportLimit.tolerance]) }
}
