import Emulators

/// No inverter trips on over- or under-voltage, and every trip is counted and named. Catches grid support that
/// does not hold a feeder's voltage (curves off, too slow, or set beyond the trip settings): each trip drops a
/// house's solar for the reconnection delay. The count is per inverter, so its meaning does not change with size.
struct InverterTrips: Assertion {
    let maximum: Double

    func judge(_ run: RunView) -> Judgement {
        let inverters = run.rig.devices.filter { $0.profile.gridSupport.contains(.voltageTrip) }.map(\.name)
        guard !inverters.isEmpty else { return .nothingToJudge("no inverter has voltage-trip in its profile", threshold: "≤ \(Int(maximum))") }
        let counts = inverters.map { ($0, Int(run.physics.series($0, .trips).last(where: { $0.isFinite }) ?? 0)) }.filter { $0.1 > 0 }
        let total = counts.reduce(0) { $0 + $1.1 }
        return Judgement(passed: Double(total) <= maximum, measured: "\(total) trips on \(counts.count) of \(inverters.count) inverters",
                         threshold: "≤ \(Int(maximum))",
                         detail: counts.sorted { ($1.1, $0.0) < ($0.1, $1.0) }.prefix(10).map { "\($0.0): \($0.1)" }.joined(separator: ", "))
    }
}
