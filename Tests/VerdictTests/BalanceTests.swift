import Messages
@testable import Rigs
@testable import Run
import Testing
@testable import Verdict

@Suite("balance: the PCC against the grid's cleared schedule, relative to the energy cleared")
struct BalanceTests {
    /// Every interval the market clears `cleared` kW, of which the utility sells `scheduled` kW; the PCC meter
    /// imports `metered` kW. Scaling all three by the neighborhood's size must not change the verdict.
    func run(cleared: Double, scheduled: Double, metered: Double, maxDeviation: Double = 10) throws -> AssertionResult? {
        var run = try RunFixture(intervals: 6, assertions: [AssertionSpec(.balance, thresholds: ["max-deviation": maxDeviation])])
        for interval in 1...6 {
            run.clear(interval, quantity: cleared, awards: [.grid: [.init(id: "grid/import", side: .sell, quantity: scheduled)]])
        }
        run.series[SeriesKey("pcc/meter", .imported)] = { $0 / 3600 * metered }
        run.series[SeriesKey("pcc/meter", .exported)] = { _ in 0 }
        return try run.result(.balance)
    }

    @Test("The same relative deviation gives the same verdict at 4 houses and at 1,000", arguments: [1.0, 10, 250])
    func scaleFree(houses: Double) throws {
        // 0.8 kW off a 10 kW clearing per four houses: 8 %.
        let within = try #require(try run(cleared: 10 * houses / 4, scheduled: 5 * houses / 4, metered: 5.8 * houses / 4))
        #expect(within.passed && within.measured.hasPrefix("8.0 %"), "\(within.measured)")
        let beyond = try #require(try run(cleared: 10 * houses / 4, scheduled: 5 * houses / 4, metered: 6.2 * houses / 4))
        #expect(!beyond.passed && beyond.measured.hasPrefix("12.0 %"), "\(beyond.measured)")
    }

    @Test("A failure names how far the PCC strayed and the worst interval")
    func names() throws {
        let result = try #require(try run(cleared: 10, scheduled: 5, metered: 8))
        #expect(result.detail.hasPrefix("the PCC strayed 1.5 kWh from the grid's schedule; worst 00:"), "\(result.detail)")
        #expect(result.detail.hasSuffix(": metered 0.67 kWh, scheduled 0.42 kWh"), "\(result.detail)")
    }

    @Test("With no grid awards to hold the PCC to, balance says there is nothing to judge, and does not pass")
    func nothingToJudge() throws {
        var run = try RunFixture(intervals: 3, assertions: [AssertionSpec(.balance)])
        run.series[SeriesKey("pcc/meter", .imported)] = { $0 / 3600 }
        run.series[SeriesKey("pcc/meter", .exported)] = { _ in 0 }
        let result = try #require(try run.result(.balance))
        #expect(!result.passed && !result.judged && result.measured == "nothing to judge")
    }
}
