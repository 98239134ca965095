import Emulators
public import Rigs
import Run

/// No inverter trips on voltage or frequency more than the rig allows, and every trip is counted and named.
/// Catches grid support that does not hold a feeder's voltage (curves off, too slow, or set beyond the trip
/// settings): each trip drops a house's solar for the enter-service delay and ramp. The threshold bounds each inverter's
/// trips, so that it means the same at 4 houses and at 1,000.
struct InverterTrips: Assertion {
    static let maximum = Threshold("max", default: 0)
    let maximum: Double

    func judge(_ run: RunView) -> Judgement {
        let threshold = "≤ \(Int(maximum)) per inverter"
        let inverters = run.rig.devices.filter { $0.profile.hasTrips }.map(\.name)
        guard !inverters.isEmpty else { return .nothingToJudge("no inverter has voltage-trip or frequency-trip in its profile", threshold: threshold) }
        // The series counts trips since the device started: those within the view are its rise across it.
        let counts = inverters.map { name in
            let trips = run.physics.series(name, .trips).filter(\.isFinite)
            return (name, Int((trips.last ?? 0) - (trips.first ?? 0)))
        }.filter { $0.1 > 0 }
        let total = counts.reduce(0) { $0 + $1.1 }, worst = counts.map(\.1).max() ?? 0
        return Judgement(passed: Double(worst) <= maximum, measured: "\(total) trips on \(counts.count) of \(inverters.count) inverters",
                         threshold: threshold,
                         detail: counts.sorted { ($1.1, $0.0) < ($0.1, $1.0) }.prefix(10).map { "\($0.0): \($0.1)" }.joined(separator: ", "))
    }
}

extension AssertionSpec.Kind {
    public static let inverterTrips = Self("inverter-trips", thresholds: [InverterTrips.maximum])
}

extension KnownAssertion {
    static let inverterTrips = KnownAssertion(.inverterTrips) { InverterTrips(maximum: $0[InverterTrips.maximum]) }
}
