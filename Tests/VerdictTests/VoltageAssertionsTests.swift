import Emulators
import Physics
@testable import Rigs
@testable import Run
import Testing
@testable import Verdict

@Suite("voltage-range and inverter-trips: the feeder's voltage and the inverters' trips")
struct VoltageAssertionsTests {
    /// The default rig with a feeder model: every house at `volts` except h3, which rises to `h3` volts after 00:05.
    func voltages(_ volts: Double, h3: Double, thresholds: [String: Double] = [:]) throws -> AssertionResult? {
        var run = try RunFixture(intervals: 2, assertions: [AssertionSpec(.voltageRange, thresholds: thresholds)])
        run.rig.run.cosim = CosimSettings()
        for house in ["h1", "h2", "h4"] { run.series[SeriesKey(house, .voltage)] = { _ in volts } }
        run.series[SeriesKey("h3", .voltage)] = { time in time > 300 ? h3 : volts }
        return try run.result(.voltageRange)
    }

    @Test("A house above range A fails, naming the house, its voltage and when; within it passes")
    func range() throws {
        let high = try #require(try voltages(232, h3: 243))
        #expect(!high.passed)
        #expect(high.detail.hasPrefix("worst: h3 at 243.0 V (105.7 %) at 00:05"), "\(high.detail)")
        #expect(try voltages(232, h3: 240)?.passed == true)
        #expect(try voltages(232, h3: 243, thresholds: ["high": 106])?.passed == true)
        #expect(try voltages(215, h3: 230)?.passed == false)  // 93.5 %: below range A
    }

    @Test("Without a feeder model there is nothing to judge, and the verdict does not pass")
    func noFeeder() throws {
        var run = try RunFixture(intervals: 2, assertions: [AssertionSpec(.voltageRange)])
        run.series[SeriesKey("h1", .voltage)] = { _ in 230 }
        let result = try #require(try run.result(.voltageRange))
        #expect(!result.passed && !result.judged)
    }

    /// h1's inverter trips `h1` times and a second inverter `other` times over the run (cumulative counts).
    func trips(h1: Double, other: Double, max: Double) throws -> AssertionResult? {
        var run = try RunFixture(intervals: 2, assertions: [AssertionSpec(.inverterTrips, thresholds: ["max": max])])
        var second = run.rig.devices.first { $0.name == "h1/pv" }!
        second.id = DeviceID(house: "h2", name: "pv")
        second.house = "h2"
        run.rig.devices.append(second)
        run.series[SeriesKey("h1/pv", .trips)] = { time in time > 300 ? h1 : 0 }
        run.series[SeriesKey("h2/pv", .trips)] = { time in time > 300 ? other : 0 }
        return try run.result(.inverterTrips)
    }

    @Test("A trip fails the default and is counted by inverter; the threshold bounds each inverter, not the sum")
    func tripsPerInverter() throws {
        let tripped = try #require(try trips(h1: 2, other: 1, max: 0))
        #expect(!tripped.passed)
        #expect(tripped.measured == "3 trips on 2 of 2 inverters")
        #expect(tripped.detail == "h1/pv: 2, h2/pv: 1")
        #expect(try trips(h1: 1, other: 1, max: 1)?.passed == true)  // 2 in all, but none past 1
        #expect(try trips(h1: 2, other: 0, max: 1)?.passed == false)
        #expect(try trips(h1: 0, other: 0, max: 0)?.passed == true)
    }
}
