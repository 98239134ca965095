import Bus
import Emulators
import Foundation
import Messages
import Physics
@testable import Reports
@testable import RigFiles
@testable import Rigs
@testable import Run
import TestSupport
import Testing
@testable import Verdict

/// The default rig's market line, with short deadlines so that a lost message costs little.
private let quickDeadlines = [("prior-deviation: 0.1}", "prior-deviation: 0.1, deadlines: {bids: 300, clearing: 2000, dispatch: 500}}")]

/// Each interval's number by its start, and the senders of the bids a fault dropped, by interval.
private func droppedBids(_ record: RunRecord) -> [Int: Set<String>] {
    var dropped: [Int: Set<String>] = [:]
    for event in record.busFaultEvents where event.action == .drop && event.topic.hasPrefix("bids/") {
        let header = try? Message.decode(topic: event.topic, payload: event.payload.first ?? []).header
        if let header, let interval = header.interval { dropped[interval, default: []].insert(header.sender) }
    }
    return dropped
}

@Suite("Bus, participant and grid faults in a run", .serialized, .timeLimit(.minutes(3)))
struct FaultRunTests {
    @Test("A lossy bus: the market clears without the bids that were lost, duplicates are not counted twice, and the seed replays the same losses")
    func lossyBus() async throws {
        let faults = """
            faults:
              - {bus: "bids/h", kind: drop, probability: 0.3, start: "00:00"}
              - {bus: "dispatch/", kind: duplicate, probability: 0.5, start: "00:00"}
              - {bus: "awards/", kind: latency, ms: 20, jitter: 20, start: "00:00"}
            """
        let first = try await run(rig(hours: 2, replacing: quickDeadlines, appending: faults))
        let dropped = droppedBids(first.record)
        #expect(!dropped.isEmpty)
        for interval in first.record.intervals {
            let lost = dropped[interval.interval] ?? []
            #expect(interval.bidders.isDisjoint(with: lost), "interval \(interval.interval) counted bids that never arrived")
            #expect(interval.bidders.union(lost) == Set(first.record.households.map(\.name)), "interval \(interval.interval)")
        }
        // The market saw only the bids that arrived, and its clearing still matches GridRig's core on those.
        for kind in [AssertionSpec.Kind.clearingMatchesReference, .supplyEqualsDemand, .awardsAddUp] {
            #expect(verdict(first, kind)?.passed == true, "\(kind): \(first.table)")
        }
        // The faults last the whole run, so balance has no interval outside them to judge, and says so.
        #expect(verdict(first, .balance)?.judged == false && verdict(first, .balance)?.passed == false)
        #expect(verdict(first, .everyIntervalCleared)?.passed == false)
        let duplicates = first.record.busFaultEvents.filter { $0.action == .duplicate }
        #expect(!duplicates.isEmpty && duplicates.allSatisfy { $0.topic.hasPrefix("dispatch/") })
        let reports = first.record.capture.filter { $0.topic.hasPrefix("dispatch/") }
        #expect(reports.count == Set(reports.map(\.payload)).count + duplicates.count, "each duplicate arrives twice")
        #expect(first.record.busFaultEvents.contains { if case .delay = $0.action { $0.topic.hasPrefix("awards/") } else { false } })
        // The report's fault windows say what the bus did.
        let window = try #require(first.faults.first { $0.label.hasPrefix("bus bids/h drop") })
        #expect(window.busEffects["dropped"] == dropped.values.reduce(0) { $0 + $1.count })
        #expect(window.failed == [.everyIntervalCleared])

        let second = try await run(rig(hours: 2, replacing: quickDeadlines, appending: faults))
        #expect(droppedBids(second.record) == dropped, "the same seed lost other bids")
    }

    @Test("A stalled household is silent for its window; a crashed one is started again after its restart delay; the report lists both")
    func stallAndCrash() async throws {
        let report = try await run(rig(hours: 2, replacing: quickDeadlines, appending: """
            faults:
              - {participant: h2, kind: stall, start: "00:30", duration: 1800}
              - {participant: h3, kind: crash, start: "00:30", restart: 900}
            """))
        for interval in report.record.intervals {
            let minute = interval.start / 60
            #expect(interval.bidders.contains("h2") == !(30..<60).contains(minute), "h2 at minute \(minute)")
            #expect(interval.bidders.contains("h3") == !(30..<45).contains(minute), "h3 at minute \(minute)")
            #expect(interval.bidders.contains("h4") && interval.clearing != nil, "minute \(minute)")
        }
        #expect(report.faults.map(\.label) == ["bus all topics from h2 drop", "h3 crash, restart after 900 s"])
        #expect(report.faults.allSatisfy { $0.failed.contains(.everyIntervalCleared) })
        #expect(report.table.contains("h3 crash, restart after 900 s"))
        // Every chart marks both windows; the JSON lists them with what failed within.
        let html = HTMLReport(report).html
        let charts = html.components(separatedBy: "<svg").count - 1
        #expect(charts >= 8 && html.components(separatedBy: "class=\"fault\"").count - 1 == 2 * charts, "two marks on each of the \(charts) charts")
        #expect(html.contains("<title>h3 crash, restart after 900 s</title>"))
        let json = try JSONSerialization.jsonObject(with: Data(report.json.utf8)) as? [String: Any]
        let faults = try #require(json?["faults"] as? [[String: Any]])
        #expect(faults.map { $0["start"] as? Double } == [1800, 1800])
        #expect(faults.allSatisfy { ($0["failing"] as? [String])?.contains("every-interval-cleared") == true })
    }

    @Test("A controller process that crashes gets SIGKILL and is started again: the Python household bids again after its restart")
    func commandCrash() async throws {
        let report = try await run(rig(hours: 1, replacing: quickDeadlines, appending: """
            controller:
              households:
                h2: {command: [python3, "\(repository)/examples/python/household.py"]}
            faults:
              - {participant: h2, kind: crash, start: "00:20", restart: 600}
            """))
        for interval in report.record.intervals {
            let minute = interval.start / 60
            #expect(interval.bidders.contains("h2") == !(20..<30).contains(minute), "h2 at minute \(minute)")
        }
        #expect(verdict(report, .everyIntervalCleared)?.measured == "2 of 12 incomplete")
    }

    @Test("A participant running elsewhere cannot be crashed: the run is refused as bad input before anything starts")
    func endpointCrash() async throws {
        var loaded = try rig(hours: 1, appending: """
            faults:
              - {participant: h2, kind: crash, start: "00:20"}
            """)
        loaded.run.households["h2"] = .endpoint
        do {
            _ = try await run(loaded)
            Issue.record("the run started")
        } catch let error as RunError {
            #expect(error.isBadInput && error.message == "h2 runs elsewhere (endpoint): GridRig cannot crash it")
        }
    }

    @Test("A market that crashes for good: the intervals after it go uncleared, the run still ends with a verdict")
    func marketCrash() async throws {
        let report = try await run(rig(hours: 1, replacing: quickDeadlines, appending: """
            faults:
              - {participant: market, kind: crash, start: "00:30"}
            """))
        #expect(report.record.intervals.filter { $0.clearing == nil }.map(\.start) == stride(from: 1800.0, to: 3600, by: 300).map { $0 })
        #expect(verdict(report, .everyIntervalCleared)?.passed == false)
        #expect(report.faults.first?.failed.contains(.everyIntervalCleared) == true)
    }

    @Test("A grid outage: nothing crosses the PCC while the battery forms the island, the market clears against the battery, and balance holds")
    func gridOutage() async throws {
        // An evening outage, 17:00 to 18:00, with the battery nearly full.
        let report = try await run(rig(hours: 3, replacing: [("start: \"00:00\"", "start: \"16:00\""), ("initial-soc: 30", "initial-soc: 90")], appending: """
            faults:
              - {kind: grid-outage, grid-forming: h1/battery, start: "17:00", duration: 3600}
            """))
        let passed = report.passed, table = report.table
        #expect(passed, "\(table)")
        let physics = report.record.physics
        let imported = physics.series("pcc/meter", .imported), exported = physics.series("pcc/meter", .exported)
        let battery = physics.series("h1/battery", .power), pv = physics.series("h1/pv", .power)
        let during = physics.times.indices.filter { physics.times[$0] >= 17 * 3600 && physics.times[$0] <= 18 * 3600 }
        #expect(imported[during.last!] - imported[during.first!] + exported[during.last!] - exported[during.first!] < 0.01,
                "energy crossed the PCC during the outage")
        // The battery balances the site step by step: its output is the site's load less the PV, to within the meter's view.
        #expect(during.dropFirst().contains { battery[$0] > 0.5 } && during.dropFirst().allSatisfy { abs(physics.series("pcc/meter", .power)[$0]) < 0.5 },
                "\(during.map { battery[$0] }) \(during.map { pv[$0] })")
        // The conductor's bids for `grid` during the outage are the battery's, not the utility's tariff.
        let gridBids = report.record.messages.compactMap { entry -> (Double, Bids)? in
            guard let bids = entry.message.body as? Bids, bids.house == .grid, let interval = entry.message.header.interval,
                  let start = report.record.intervals.first(where: { $0.interval == interval })?.start else { return nil }
            return (start, bids)
        }
        let inOutage = { (start: Double) in start >= 17 * 3600 && start < 18 * 3600 }
        #expect(gridBids.count == report.record.intervals.count)
        #expect(gridBids.filter { inOutage($0.0) }.allSatisfy { !$0.1.bids.contains { $0.side == .sell && $0.price == 0.30 } })
        #expect(gridBids.filter { !inOutage($0.0) }.allSatisfy { $0.1.bids.contains { $0.side == .sell && $0.price == 0.30 } })
    }

    @Test("Grid events without a feeder: h1 trips once at 112 % and enters service after the delay, h5 absorbs and curtails at 108 %, 50.5 Hz brings every inverter down")
    func gridEvents() async throws {
        var rig = try RigLoader.load(file: "\(repository)/Rigs/faults/grid-events.yaml", profiles: "\(repository)/Profiles", firstPort: 0)
        #expect(rig.run.faults.gridEvents == [GridEvent(house: "h1", level: .voltage(1.12), start: 39603, end: 39663),
                                              GridEvent(house: "h5", level: .voltage(1.08), start: 43200, end: 45000),
                                              GridEvent(house: nil, level: .frequency(50.5), start: 46800, end: 47400)])
        rig.run.duration = 3 * 3600
        let report = try await run(rig)
        #expect(report.passed, "\(report.table)")
        let physics = report.record.physics
        func at(_ time: Double, _ device: String, _ reading: SeriesReading) -> Double {
            physics.series(device, reading)[physics.times.firstIndex { $0 >= time - 1e-6 }!]
        }
        #expect(at(39600, "h1/pv", .tripped) == 0 && at(39610, "h1/pv", .tripped) == 1 && at(39610, "h1/pv", .power) == 0)
        #expect(at(39960, "h1/pv", .tripped) == 1 && at(39970, "h1/pv", .tripped) == 0)  // 300 s after 11:01:03
        #expect(abs(at(40110, "h1/pv", .power) - 5 * 147 / 300) < 0.01)  // 147 s up the 300-s ramp of 5 kW, begun at 11:06:03
        #expect(physics.series("h1/pv", .trips).last == 1 && physics.series("h5/pv", .trips).last == 0)
        #expect(abs(at(44000, "h5/pv", .reactive) - -2.2) < 0.01 && abs(at(44000, "h5/pv", .power) - 3.0) < 0.01)
        #expect(abs(at(44000, "h1/pv", .reactive)) < 0.001)
        let before = at(46790, "h5/pv", .power), during = at(47300, "h5/pv", .power)
        #expect(abs(during - (before / 5 - (50.5 / 50 - 1 - 0.036 / 50) / 0.05) * 5) < 0.05, "\(before) → \(during)")
        // series.csv's voltage of each house and the PCC follows the script, nominal between events.
        #expect(abs(at(39610, "h1", .voltage) - 257.6) < 1e-9 && at(39610, "h5", .voltage) == 230 && at(39700, "h1", .voltage) == 230)
        #expect(abs(at(44000, "h5", .voltage) - 248.4) < 1e-9 && at(44000, "pcc", .voltage) == 230)
        #expect(report.faults.map(\.label) == ["grid voltage at 112.0 % at h1", "grid voltage at 108.0 % at h5", "grid frequency at 50.50 Hz"])
    }

    @Test("A night outage the battery cannot carry fails balance within its window, naming the battery")
    func outageBlackout() async throws {
        // The battery is all but empty when the grid goes.
        let report = try await run(rig(hours: 3, replacing: [("initial-soc: 30", "initial-soc: 6")], appending: """
            faults:
              - {kind: grid-outage, grid-forming: h1/battery, start: "01:00", duration: 3600}
            """))
        let balance = try #require(verdict(report, .balance))
        #expect(!balance.passed && balance.detail.contains("h1/battery could not hold the island"), "\(balance.detail)")
        #expect(report.faults.first?.failed == [.balance])
    }

    @Test("Bad bus, participant and outage faults are refused before anything starts", arguments: [
        ("faults: [{bus: bids/, kind: shred, start: \"12:00\"}]\n", "faults[0].kind: expected a bus fault: drop, duplicate, latency or reorder"),
        ("faults: [{bus: bids/, kind: drop, from: h9, start: \"12:00\"}]\n", "faults[0].from: expected a participant of the rig (h1, h2, h3, h4, market)"),
        ("faults: [{bus: bids/, kind: drop, code: 4, start: \"12:00\"}]\n", "faults[0].code: 'code' does not apply to a drop fault"),
        ("faults: [{participant: h2, kind: stall, start: \"12:00\"}]\n", "faults[0]: a stall needs 'duration'"),
        ("faults: [{participant: h2, kind: crash, start: \"12:00\", duration: 60}]\n", "faults[0].duration: a crash has no duration"),
        ("faults: [{participant: market, kind: crash, start: \"12:00\", restart: -1}]\n", "faults[0].restart: expected seconds of 0 or more"),
        ("faults: [{kind: grid-outage, start: \"12:00\"}]\n", "faults[0]: a grid outage needs 'grid-forming'"),
        ("faults: [{kind: grid-outage, grid-forming: h1/pv, start: \"12:00\"}]\n", "faults[0].grid-forming: expected a battery of the rig (h1/battery)"),
        ("faults:\n  - {kind: grid-outage, grid-forming: h1/battery, start: \"12:00\", duration: 3600}\n  - {kind: grid-outage, grid-forming: h1/battery, start: \"12:30\"}\n",
         "faults[1]: overlaps another grid outage"),
        ("faults: [{kind: earthquake, start: \"12:00\"}]\n", "faults[0]: a fault names a 'device', a 'bus' topic or a 'participant', or is kind grid-outage, grid-voltage or grid-frequency"),
        ("faults: [{kind: grid-voltage, start: \"12:00\"}]\n", "faults[0]: a grid-voltage event needs 'value': the voltage in % of nominal"),
        ("faults: [{kind: grid-voltage, value: 250, start: \"12:00\"}]\n", "faults[0].value: expected a voltage in % of nominal, 0...200"),
        ("faults: [{kind: grid-frequency, value: 0, start: \"12:00\"}]\n", "faults[0].value: expected a frequency in Hz, more than 0 and at most 100"),
        ("faults: [{kind: grid-voltage, house: h9, value: 110, start: \"12:00\"}]\n", "faults[0].house: expected a house of the rig (h1, h2, h3, h4)"),
        ("faults: [{kind: grid-frequency, value: 51, code: 4, start: \"12:00\"}]\n", "faults[0].code: 'code' does not apply to a grid-frequency fault"),
        ("faults: [{kind: grid-voltage, value: 110, start: \"12:00:61\"}]\n", "faults[0].start: expected a time of day as HH:MM"),
        ("faults:\n  - {kind: grid-voltage, value: 110, start: \"12:00\", duration: 60}\n  - {kind: grid-voltage, house: h2, value: 90, start: \"12:00:30\"}\n",
         "faults[1]: overlaps the grid-voltage from 12:00: one level at a time"),
        ("faults: [{device: h1/battery, kind: depart, start: \"12:00\"}]\n", "faults[0].kind: depart applies to an EV charger with a 'vehicle'"),
        ("faults: [{device: h2/ev, kind: arrival-soc, value: 120, start: \"00:00\"}]\n", "faults[0].value: expected a state of charge in 0...100 %"),
        ("faults: [{device: h1/pv, kind: reboot, start: \"12:00\"}]\n", "faults[0]: a reboot needs 'duration'"),
        ("faults: [{device: h2/ev, kind: timeout, unit: 7, start: \"12:00\"}]\n", "faults[0].unit: expected a unit id h2/ev answers on (1, 200), found \"7\""),
        ("faults: [{device: h1/pv, kind: frozen, addresses: [40084, 40084], start: \"12:00\"}]\n", "faults[0].addresses: 'addresses' applies to faults that answer requests"),
        ("faults: [{device: h1/pv, kind: timeout, addresses: [40090, 40084], start: \"12:00\"}]\n", "faults[0].addresses: expected [first, last] with first ≤ last"),
        ("faults: [{device: h1/pv, bus: bids/, kind: drop, start: \"12:00\"}]\n", "faults[0].bus: 'bus' does not apply to a drop fault"),
        ("faults: [{device: h1/pv, kind: scale-factor, point: W, value: 1, start: \"12:00\"}]\n", "faults[0].point: expected a scale-factor point of sunspec-inverter (ARtg_SF, A_SF,"),
        ("faults: [{device: h1/pv, kind: slow-frame, ms: 100, jitter: 5, start: \"12:00\"}]\n", "faults[0].jitter: 'jitter' does not apply to a slow-frame fault"),
    ])
    func badFaults(yaml: String, message: String) throws {
        expectRefused(rig: try String(contentsOfFile: "\(repository)/Rigs/neighborhood.yaml", encoding: .utf8) + yaml, message)
    }

    @Test("An islanded rig has no grid to lose")
    func outageOnIsland() throws {
        expectRefused(rig: try String(contentsOfFile: "\(repository)/Rigs/island.yaml", encoding: .utf8)
                        + "faults: [{kind: grid-outage, grid-forming: h1/battery, start: \"12:00\"}]\n", "faults[0].kind: an islanded rig has no grid to lose")
    }
}
