@testable import Rigs
@testable import Run
import Testing
@testable import Verdict

@Suite("soc-within-limits: no battery forced past its state-of-charge window")
struct SoCWithinLimitsTests {
    func run(soc: Double, forced: Double) throws -> AssertionResult? {
        var run = try RunFixture(intervals: 2, assertions: [AssertionSpec(.socWithinLimits)])
        run.series[SeriesKey("h1/battery", .soc)] = { _ in soc }
        run.series[SeriesKey("h1/battery", .forced)] = { time in time > 300 ? forced : 0 }
        return try run.result(.socWithinLimits)
    }

    @Test("A discharge forced at the minimum state of charge fails, naming the battery, the command and when")
    func dischargeWhenEmpty() throws {
        let result = try #require(try run(soc: 5.2, forced: 3))
        #expect(!result.passed)
        #expect(result.detail == "h1/battery was forced to discharge 3.00 kW at 5.2 % from 00:05, window 5–100 %: 5 min refused in all", "\(result.detail)")
    }

    @Test("A charge forced at the maximum fails too")
    func chargeWhenFull() throws {
        #expect(try run(soc: 99.8, forced: -2)?.passed == false)
    }

    @Test("Commands within the window, and a battery at a limit that nobody forces, pass", arguments: [(50.0, 3.0), (50, -3), (5, 0), (100, 0)])
    func within(soc: Double, forced: Double) throws {
        #expect(try run(soc: soc, forced: forced)?.passed == true)
    }
}
