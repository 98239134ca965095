import Foundation
@testable import Reports
@testable import Rigs
import Testing
@testable import Verdict

/// Each assertion exists to catch a kind of bug: the reference household with that bug (a mutant, docs/RIGS.md)
/// runs a stretch of the default day in which the bug shows, and the assertion that names it fails.
@Suite("Controllers with one bug fail the assertion that names it", .serialized, .timeLimit(.minutes(3)))
struct MutantTests {
    struct Case: Sendable, CustomTestStringConvertible {
        let mutant: String, house: String, start: String, hours: Double, initialSoC: Int
        let fails: AssertionSpec.Kind, naming: String

        init(mutant: String, house: String, start: String, hours: Double, initialSoC: Int = 30, fails: AssertionSpec.Kind, naming: String) {
            (self.mutant, self.house, self.start, self.hours, self.initialSoC, self.fails, self.naming) = (mutant, house, start, hours, initialSoC, fails, naming)
        }
        var testDescription: String { mutant }
    }

    @Test("The mutant fails its assertion, naming the device", arguments: [
        Case(mutant: "battery-sign", house: "h1", start: "10:00", hours: 2, fails: .devicesFollowAwards, naming: "h1/battery"),
        Case(mutant: "ev-over-current", house: "h2", start: "11:00", hours: 2, fails: .devicesFollowAwards, naming: "h2/ev"),
        Case(mutant: "ev-without-award", house: "h2", start: "08:00", hours: 1, fails: .devicesFollowAwards, naming: "h2/ev delivered"),
        Case(mutant: "battery-ignores-soc", house: "h1", start: "00:00", hours: 1, initialSoC: 6, fails: .socWithinLimits,
             naming: "h1/battery was forced to discharge"),
        Case(mutant: "interval-start-only", house: "h2", start: "00:00", hours: 1, fails: .watchdogFallbacks, naming: "h2/ev on its fallback"),
        Case(mutant: "thermostat-ignores-award", house: "h3", start: "12:00", hours: 2, fails: .devicesFollowAwards, naming: "h3/thermostat"),
        Case(mutant: "battery-power-misreported", house: "h1", start: "10:00", hours: 1, fails: .dispatchReportsTruthful, naming: "h1/battery power: reported"),
    ])
    func mutantFails(_ mutant: Case) async throws {
        let report = try await run(rig(hours: mutant.hours, replacing: [("start: \"00:00\"", "start: \"\(mutant.start)\""),
                                                                   ("initial-soc: 30", "initial-soc: \(mutant.initialSoC)")], appending: """
            controller:
              households: {\(mutant.house): {mutant: \(mutant.mutant)}}
            """))
        let result = try #require(verdict(report, mutant.fails))
        #expect(!result.passed, "\(report.table)")
        #expect(result.detail.contains(mutant.naming), "\(result.detail)")
    }

    @Test("The reference household passes the same stretches")
    func referencePasses() async throws {
        for (start, hours, soc) in [("08:00", 6.0, 30), ("00:00", 1.0, 6)] {
            let report = try await run(rig(hours: hours, replacing: [("start: \"00:00\"", "start: \"\(start)\""), ("initial-soc: 30", "initial-soc: \(soc)")]))
            #expect(report.passed, "\(start): \(report.table)")
        }
    }

    @Test("A mutant the reference household does not have is refused with the ones it has")
    func unknownMutant() {
        expectRefused(rig: "houses: [{name: h1, devices: [{profile: sunspec-battery}]}]\ncontroller: {households: {h1: {mutant: sloppy}}}\n",
                      "controller.households.h1.mutant: expected a mutant of the reference household (battery-sign, ev-over-current")
    }
}
