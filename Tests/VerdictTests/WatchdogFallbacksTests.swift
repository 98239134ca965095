import Emulators
@testable import Rigs
@testable import Run
import Testing
@testable import Verdict

@Suite("watchdog-fallbacks: no device on its comms-loss fallback while its household is in control")
struct WatchdogFallbacksTests {
    /// h2's Alfen charger (60-s watchdog), first written at 00:00:30, on its fallback while `fallback` holds.
    func run(_ fallback: @escaping (Double) -> Bool, faults: [DeviceFault] = []) throws -> AssertionResult? {
        var run = try RunFixture(intervals: 3, assertions: [AssertionSpec(.watchdogFallbacks)])
        run.write("h2/ev", at: 30)
        run.series[SeriesKey("h2/ev", .fallback)] = { fallback($0) ? 1 : 0 }
        run.rig.faults = faults
        return try run.result(.watchdogFallbacks)
    }

    @Test("A charger that falls back while its household is in control fails, naming it and when")
    func fallsBack() throws {
        let result = try #require(try run { $0 > 400 && $0 <= 520 })
        #expect(!result.passed)
        #expect(result.detail == "h2/ev on its fallback from 00:06, 2 min in all", "\(result.detail)")
    }

    @Test("Before the household's first write the product's own start-up fallback is not judged")
    func beforeControl() throws {
        #expect(try run { $0 <= 30 }?.passed == true)
    }

    @Test("Within a scheduled comms fault, and for the watchdog's timeout after it, a fallback is expected")
    func duringFault() throws {
        let fault = DeviceFault(device: "h2/ev", kind: .noResponse, start: 300, end: 480)
        #expect(try run({ $0 > 400 && $0 <= 530 }, faults: [fault])?.passed == true)
        #expect(try run({ $0 > 400 && $0 <= 600 }, faults: [fault])?.passed == false, "past the fault and its 60-s grace")
    }
}
