public import Rigs

/// The share of the solar energy used inside the neighborhood reaches the rig's minimum (asserted only when a
/// rig lists it).
struct SelfConsumption: Assertion {
    static let minimum = Threshold("minimum", default: 0)
    let minimum: Double

    func judge(_ run: RunView) -> Judgement {
        let threshold = "≥ \(Figures.format(minimum, 1)) %"
        guard let share = Outcomes(physics: run.physics, rig: run.rig).selfConsumption else {
            return .nothingToJudge("no solar energy, or no PCC meter", threshold: threshold)
        }
        return Judgement(passed: share * 100 >= minimum, measured: "\(Figures.format(share * 100, 1)) %", threshold: threshold,
                         detail: "self-consumption \(Figures.format(share * 100, 1)) %")
    }
}

extension AssertionSpec.Kind {
    public static let selfConsumption = Self("self-consumption", thresholds: [SelfConsumption.minimum])
}

extension KnownAssertion {
    static let selfConsumption = KnownAssertion(.selfConsumption) {
        SelfConsumption(minimum: $0[SelfConsumption.minimum])
    }
}
