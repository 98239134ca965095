import Messages
import Physics
@testable import Reports
@testable import Rigs
@testable import Run
import Testing
@testable import Verdict

@Suite("Settlement: each household's imbalance at the imbalance price")
struct SettlementTests {
    @Test("A household pays the imbalance price for every kWh its devices deliver away from their awards, either way")
    func imbalance() throws {
        func cost(evPower: Double) throws -> Double {
            var run = try RunFixture(intervals: 4, assertions: [])
            run.rig.baseLoads["h2"] = BaseLoad(mean: 0)
            run.rig.run.imbalancePrice = 0.5
            for interval in 1...4 { run.clear(interval, quantity: 6, awards: ["h2": [.init(id: "h2/ev", side: .buy, quantity: 6)]]) }
            run.series[SeriesKey("h2/ev", .power)] = { _ in evPower }
            run.series[SeriesKey("h2/thermostat", .power)] = { _ in 0 }
            return try #require(RunReport(try run.record).outcomes.imbalanceCost["h2"])
        }
        #expect(abs(try cost(evPower: 6)) < 1e-9)
        // 1 kW off for 20 minutes, at 0.5 $/kWh, above or below the award alike.
        #expect(abs(try cost(evPower: 7) - 1.0 / 3 * 0.5) < 1e-9)
        #expect(abs(try cost(evPower: 5) - 1.0 / 3 * 0.5) < 1e-9)
    }
}
