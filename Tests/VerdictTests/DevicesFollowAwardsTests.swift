import Emulators
import Messages
import Physics
@testable import Rigs
@testable import Run
import Testing
@testable import Verdict

@Suite("devices-follow-awards: each device's energy against its awards")
struct DevicesFollowAwardsTests {
    /// h2's EV awarded 7 kW in every interval (and nothing else in the neighborhood), drawing `power` kW.
    func evRun(power: Double, awarded: Double = 7, thresholds: [String: Double] = [:]) throws -> AssertionResult? {
        var run = try RunFixture(intervals: 4, assertions: [AssertionSpec(.devicesFollowAwards, thresholds: thresholds)])
        for interval in 1...4 {
            run.clear(interval, quantity: awarded, awards: ["h2": awarded > 0 ? [.init(id: "h2/ev", side: .buy, quantity: awarded)] : []])
        }
        run.series[SeriesKey("h2/ev", .power)] = { _ in power }
        return try run.result(.devicesFollowAwards)
    }

    @Test("A bus fault excuses the devices only where it can reach a household's way to its award: one on the clearing or on dispatch reports does not",
          arguments: [("clearing", true), ("dispatch/", true), ("telemetry/h2", true), ("awards/h2", false), ("awards/", false), ("bids/h2", false),
                      ("", false), ("awards/h3", true)])
    func busFaultsExcuseWhatTheyReach(topic: String, judged: Bool) throws {
        var run = try RunFixture(intervals: 4, assertions: [AssertionSpec(.devicesFollowAwards)])
        run.rig.run.faults.bus = [BusFault(topic: topic, sender: nil, kind: .delay(milliseconds: 50, jitter: 0), start: 0, end: .infinity,
                                           count: nil, probability: 1)]
        for interval in 1...4 { run.clear(interval, quantity: 7, awards: ["h2": [.init(id: "h2/ev", side: .buy, quantity: 7)]]) }
        run.series[SeriesKey("h2/ev", .power)] = { _ in 7 + 2 * 0.69 }
        let result = try #require(try run.result(.devicesFollowAwards))
        #expect(result.judged == judged && result.passed == false, "bus \(topic): \(result.measured)")
    }

    @Test("A device fault excuses the device's intervals, but a scale-factor change does not: SunSpec has controllers read the factor",
          arguments: [(DeviceFault.Kind.noResponse, false), (.scaleFactor(point: "W_SF", exponent: 1), true)])
    func encodingChangesExcuseNothing(kind: DeviceFault.Kind, judged: Bool) throws {
        var run = try RunFixture(intervals: 4, assertions: [AssertionSpec(.devicesFollowAwards)])
        run.rig.faults = [DeviceFault(device: "h2/ev", kind: kind, start: 0)]
        for interval in 1...4 { run.clear(interval, quantity: 7, awards: ["h2": [.init(id: "h2/ev", side: .buy, quantity: 7)]]) }
        run.series[SeriesKey("h2/ev", .power)] = { _ in 7 + 2 * 0.69 }
        let result = try #require(try run.result(.devicesFollowAwards))
        #expect(result.judged == judged && result.passed == false, "\(kind): \(result.measured)")
    }

    @Test("An EV that draws its awards passes")
    func follows() throws {
        let result = try #require(try evRun(power: 7))
        #expect(result.passed, "\(result.measured)")
        #expect(result.measured == "h2/ev 0.0 %")
    }

    @Test("An EV 2 A above its award (three phases) fails, naming the device, its share and its worst interval")
    func overCurrent() throws {
        let result = try #require(try evRun(power: 7 + 2 * 0.69))
        #expect(!result.passed)
        #expect(result.detail.hasPrefix("h2/ev 19.7 % of 2.3 kWh awarded (worst 00:"), "\(result.detail)")
        #expect(result.detail.hasSuffix(": awarded 0.58, delivered 0.70 kWh)"), "\(result.detail)")
    }

    @Test("A charge with no award fails, whatever the threshold")
    func noAward() throws {
        let result = try #require(try evRun(power: 7, awarded: 0, thresholds: ["ev": 1000]))
        #expect(!result.passed)
        #expect(result.detail.hasPrefix("h2/ev delivered 2.33 kWh with no award"), "\(result.detail)")
    }

    @Test("The threshold is per kind: 20 % passes a thermostat (35 %) and fails an EV (10 %)", arguments: [("thermostat", true), ("ev", false)])
    func perKind(kind: String, passes: Bool) throws {
        var run = try RunFixture(intervals: 4, assertions: [AssertionSpec(.devicesFollowAwards)])
        let device = kind == "ev" ? "h2/ev" : "h2/thermostat"
        for interval in 1...4 { run.clear(interval, quantity: 2, awards: ["h2": [.init(id: "h2/\(kind)", side: .buy, quantity: 2)]]) }
        run.series[SeriesKey(device, .power)] = { _ in 2.4 }
        #expect(try run.result(.devicesFollowAwards)?.passed == passes)
    }

    @Test("A battery that discharges when it was awarded a charge fails: the sign is judged")
    func batterySign() throws {
        var run = try RunFixture(intervals: 4, assertions: [AssertionSpec(.devicesFollowAwards)])
        for interval in 1...4 { run.clear(interval, quantity: 3, awards: ["h1": [.init(id: "h1/battery", side: .buy, quantity: 3)]]) }
        run.series[SeriesKey("h1/battery", .power)] = { _ in 3 }  // + discharge
        let result = try #require(try run.result(.devicesFollowAwards))
        #expect(!result.passed && result.detail.hasPrefix("h1/battery 200.0 %"), "\(result.detail)")
    }

    @Test("Intervals under a scheduled fault of the device are not judged")
    func faultsAndStart() throws {
        var run = try RunFixture(intervals: 4, assertions: [AssertionSpec(.devicesFollowAwards)])
        for interval in 1...4 { run.clear(interval, quantity: 7, awards: ["h2": [.init(id: "h2/ev", side: .buy, quantity: 7)]]) }
        // Off its award only within a comms-loss fault from 00:10 to 00:20.
        run.series[SeriesKey("h2/ev", .power)] = { time in time > 600 && time <= 1200 ? 0 : 7 }
        run.rig.faults = [DeviceFault(device: "h2/ev", kind: .noResponse, start: 600, end: 1200)]
        #expect(try run.result(.devicesFollowAwards)?.passed == true)
        run.rig.faults = []
        #expect(try run.result(.devicesFollowAwards)?.passed == false)
    }

    @Test("A device awarded nothing that drew nothing followed its award; with no awards message at all there is nothing to judge, which is no pass")
    func nothing() throws {
        var quiet = try RunFixture(intervals: 3, assertions: [AssertionSpec(.devicesFollowAwards)])
        for interval in 1...3 { quiet.clear(interval, quantity: 0, awards: ["h2": []]) }
        quiet.series[SeriesKey("h2/ev", .power)] = { _ in 0 }
        #expect(try quiet.result(.devicesFollowAwards)?.passed == true)
        let run = try RunFixture(intervals: 2, assertions: [AssertionSpec(.devicesFollowAwards)])
        let result = try #require(try run.result(.devicesFollowAwards))
        #expect(!result.passed && !result.judged && result.measured == "nothing to judge")
    }
}
