import Bus
import Emulators
@testable import Files
import Foundation
import Logging
import Messages
import Physics
@testable import Reports
@testable import RigFiles
@testable import Rigs
@testable import Run
import TestSupport
import Testing
@testable import Verdict

/// The default rig, shortened, with `extra` YAML appended (later keys of the same name are refused, so tests add
/// only keys the rig lacks, or replace it through `replacing`).
func rig(hours: Double = 3, replacing: [(String, String)] = [], appending extra: String = "") throws -> Rig {
    var text = try String(contentsOfFile: "\(repository)/Rigs/neighborhood.yaml", encoding: .utf8)
    // Free ports, so that runs in parallel never clash, unless the test places the devices itself (a controller
    // running elsewhere finds them at fixed ports).
    let placed = replacing.contains { $0.0.hasPrefix("first-port:") }
    for (old, new) in replacing + (placed ? [] : [("first-port: 1502", "first-port: 0")]) { text = text.replacingOccurrences(of: old, with: new) }
    text += extra
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("rig-\(UUID().uuidString).yaml").path
    _ = FileManager.default.createFile(atPath: path, contents: Data(text.utf8))
    defer { try? FileManager.default.removeItem(atPath: path) }
    var loaded = try RigLoader.load(file: path, profiles: "\(repository)/Profiles")
    loaded.run.duration = hours * 3600
    return loaded
}

/// Runs `rig` on a thread of its own: a run blocks for seconds, and Swift Testing's pool has a thread a core.
func run(_ rig: Rig) async throws -> RunReport {
    try await offPool {
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        return RunReport(try RunSession.run(rig, options: RunOptions(profiles: "\(repository)/Profiles", readyTimeout: .seconds(8)), logger: logger))
    }
}

func verdict(_ report: RunReport, _ kind: AssertionSpec.Kind) -> AssertionResult? { report.results.first { $0.kind == kind } }

/// Expects the rig `text` to be refused before anything runs, with `message` and a line.
func expectRefused(rig text: String, _ message: String, sourceLocation: SourceLocation = #_sourceLocation) {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("rig-\(UUID().uuidString).yaml").path
    _ = FileManager.default.createFile(atPath: path, contents: Data(text.utf8))
    defer { try? FileManager.default.removeItem(atPath: path) }
    do {
        _ = try RigLoader.load(file: path, profiles: "\(repository)/Profiles", firstPort: 0)
        Issue.record("loaded a bad rig", sourceLocation: sourceLocation)
    } catch {
        #expect(error.description.contains(message), "\(error)", sourceLocation: sourceLocation)
        #expect(error.line > 0, sourceLocation: sourceLocation)
    }
}

@Suite("gridrig run: the harness", .serialized, .timeLimit(.minutes(3)))
struct HarnessRunTests {
    @Test("Three hours of the default rig's busiest stretch pass every assertion, and the same seed replays bit for bit, control steps included")
    func passesAndReplays() async throws {
        // From 10:00: vehicles charging, heat pumps cycling, the battery storing; every household asks for steps.
        let midday = [("start: \"00:00\"", "start: \"10:00\"")]
        let first = try await run(rig(hours: 3, replacing: midday)), second = try await run(rig(hours: 3, replacing: midday))
        #expect(first.passed, "\(first.table)")
        #expect(first.record.intervals.count == 36)
        // The console summary is readable at 80 columns.
        #expect(first.table.split(separator: "\n").allSatisfy { $0.count <= 80 }, "\(first.table)")
        #expect(first.record.intervals.map(\.clearing) == second.record.intervals.map(\.clearing))
        #expect(first.record.intervals.map(\.steps) == second.record.intervals.map(\.steps))
        #expect(first.record.intervals.reduce(0) { $0 + $1.steps } > 36 * 30, "a step at least every 10 s, and grants between")
        #expect(first.record.physics.times == second.record.physics.times)
        for key in first.record.physics.values.keys.sorted() {
            let a = first.record.physics.values[key] ?? [], b = second.record.physics.values[key] ?? []
            let differing = zip(a, b).enumerated().filter { $0.element.0.bitPattern != $0.element.1.bitPattern }
            #expect(differing.isEmpty, "\(key): first difference at sample \(differing.first?.offset ?? -1): \(differing.first.map { "\($0.element.0) vs \($0.element.1)" } ?? "")")
        }
    }

    @Test("Over the default rig's day the market raises self-consumption, and lowers import and every bill, against no controller")
    func beatsBaseline() throws {
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let loaded = try rig(hours: 24)
        var record = try RunSession.run(loaded, options: RunOptions(profiles: "\(repository)/Profiles"), logger: logger)
        record.baseline = try RunSession.baseline(loaded, options: RunOptions(profiles: "\(repository)/Profiles"), logger: logger)
        let report = RunReport(record)
        let run = report.outcomes, baseline = try #require(report.baseline)
        #expect(report.passed, "\(report.table)")
        #expect((run.selfConsumption ?? 0) > (baseline.selfConsumption ?? 1) + 0.05, "\(report.table)")
        // Peak import is not the market's goal (the tariff is flat): a vehicle charging at full power in the evening
        // sets it, as it would without a controller.
        #expect(run.gridImport < baseline.gridImport - 10, "\(report.table)")
        for house in record.households { #expect((run.householdCost[house] ?? 0) < (baseline.householdCost[house] ?? 0), "\(house)") }
        #expect(report.table.contains("no controller"))
    }

    @Test("The Python market and two Python households, started from the rig's commands, pass the default rig with control steps")
    func commandRole() async throws {
        let household = "{command: [python3, \"\(repository)/examples/python/household.py\"]}"
        let report = try await run(rig(hours: 3, replacing: [("start: \"00:00\"", "start: \"10:00\"")], appending: """
            controller:
              market: {command: [python3, "\(repository)/examples/python/market.py"]}
              households: {h2: \(household), h4: \(household)}
            """))
        #expect(report.passed, "\(report.table)")
        #expect(report.record.messages.contains { $0.message.header.sender == "market" && $0.message.body is ClearingResult })
        // The Python households asked for control steps and answered every grant.
        let requests = report.record.messages.filter { $0.message.header.sender == "h2" && $0.message.body is TimeRequest }
        let silent = report.record.intervals.filter { !$0.silentSteps.isEmpty }
        #expect(!requests.isEmpty && silent.isEmpty)
    }

    @Test("A protocol 1.0 household (the Python one with GRIDRIG_STEPS=0) still runs, and is judged on what its devices did")
    func versionOneHousehold() async throws {
        let report = try await run(rig(hours: 1, appending: """
            controller:
              households: {h2: {command: [env, GRIDRIG_STEPS=0, python3, "\(repository)/examples/python/household.py"]}}
            """))
        #expect(verdict(report, .everyIntervalCleared)?.passed == true, "\(report.table)")
        let requests = report.record.messages.filter { $0.message.header.sender == "h2" && $0.message.body is TimeRequest }
        #expect(requests.isEmpty)
        let fallbacks = try #require(verdict(report, .watchdogFallbacks))
        #expect(!fallbacks.passed && fallbacks.detail.contains("h2/ev on its fallback"), "\(fallbacks.detail)")
    }

    @Test("An endpoint role: the run waits for a market running elsewhere, which joins at the rig's fixed bus ports")
    func endpointRole() async throws {
        let ports = freeBusPorts()
        let firstDevice = Int(freeConsecutivePorts(12))  // below the ephemeral range: no concurrent client can hold one
        let loaded = try rig(hours: 1, replacing: [("first-port: 1502", "first-port: \(firstDevice)")], appending: """
            bus: {publish-port: \(ports.publish), subscribe-port: \(ports.subscribe)}
            controller:
              market: endpoint
            """)
        #expect(loaded.run.hasEndpoints)
        let market = try Child(["python3", "\(repository)/examples/python/market.py"], environment: [
            "GRIDRIG_BUS_PUBLISH": "tcp://127.0.0.1:\(ports.publish)", "GRIDRIG_BUS_SUBSCRIBE": "tcp://127.0.0.1:\(ports.subscribe)",
            "GRIDRIG_HOUSEHOLDS": "h1,h2,h3,h4,grid",
        ])
        let report = try await run(loaded)
        #expect(report.passed, "\(report.table)")
        #expect(market.exit() == 0, "\(market.standardError)")
    }

    @Test("A bus fault that delays only the clearing leaves every interval complete: dispatch reports that beat it still count")
    func delayedClearing() async throws {
        let report = try await run(rig(hours: 1, appending: """
            faults:
              - {bus: "clearing", kind: latency, ms: 50, start: "00:00"}
            """))
        #expect(report.record.busFaultEvents.contains { $0.topic == "clearing" })
        let cleared = try #require(verdict(report, .everyIntervalCleared))
        #expect(cleared.passed && cleared.measured == "0 of 12 incomplete", "\(cleared.measured): \(cleared.detail)")
        // The awards may overtake the clearing the fault held back: not the market's fault. A fault only on the
        // clearing, all run long, changes nothing the devices do: they are still judged, and pass.
        #expect(report.passed, "\(report.table)")
        for kind in [AssertionSpec.Kind.protocolConformance, .devicesFollowAwards, .balance] {
            let result = try #require(verdict(report, kind))
            #expect(result.passed && result.judged, "\(kind): \(result.measured) \(result.detail)")
        }
    }

    @Test("A controller that crashes fails the run, names itself and its last words, and leaves no process behind")
    func crashingController() async throws {
        let marker = "gridrig-crash-\(UUID().uuidString.prefix(8))"
        let crashing = try rig(hours: 1, appending: """
            controller:
              market: {command: [python3, -c, "import sys, time; print('\(marker) giving up', file=sys.stderr); sys.exit(3)"]}
            """)
        do {
            _ = try await run(crashing)
            Issue.record("the run passed with a crashed market")
        } catch let error as RunError {
            #expect(error.message.contains("market exited with status 3") && error.message.contains("\(marker) giving up"), "\(error)")
            #expect(!error.isBadInput)
        }
        let hanging = try rig(hours: 1, appending: """
            controller:
              households:
                h2: {command: [python3, -c, "import sys, time; print('\(marker) waiting for nothing', file=sys.stderr, flush=True); time.sleep(600)"]}
            """)
        do {
            _ = try await run(hanging)
            Issue.record("the run passed with a silent household")
        } catch let error as RunError {
            // The wait the rig allowed (8 s here), and the last words the silent process wrote.
            #expect(error.message.hasPrefix("never became ready within 8 s: h2 (standard error: \(marker) waiting for nothing)"), "\(error)")
        }
        let leftover = Process()
        leftover.executableURL = URL(fileURLWithPath: "/usr/bin/pgrep")
        leftover.arguments = ["-f", marker]
        leftover.standardOutput = FileHandle.nullDevice
        try leftover.run()
        leftover.waitUntilExit()
        #expect(leftover.terminationStatus == 1, "a controller process outlived the run")
    }

    @Test("A controller command that does not exist is bad input, named before anything runs")
    func missingCommand() async throws {
        let missing = try rig(hours: 1, appending: """
            controller:
              market: {command: [no-such-controller, --fast]}
            """)
        do {
            _ = try await run(missing)
            Issue.record("ran without its market")
        } catch let error as RunError {
            #expect(error.isBadInput && error.message == "market: controller command 'no-such-controller' not found on the PATH")
        }
    }

    @Test("An accelerated clock paces the physics: an hour at 3600x takes about a wall second and passes")
    func acceleratedClock() async throws {
        let paced = try rig(hours: 1, replacing: [("clock: lockstep", "clock: {accelerated: 3600}")])
        #expect(paced.run.clock == .paced(speed: 3600))
        let started = ContinuousClock.now
        let report = try await run(paced)
        #expect(report.passed, "\(report.table)")
        #expect(ContinuousClock.now - started >= .seconds(1), "the clock did not pace the physics")
    }

    @Test("The island holds through a cloudy afternoon: no blackout, and the battery balances it both ways")
    func islandHolds() throws {
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let island = try RigLoader.load(file: "\(repository)/Rigs/island.yaml", profiles: "\(repository)/Profiles", firstPort: 0)
        #expect(island.run.grid == nil && island.run.gridForming == DeviceID(house: "h1", name: "battery"))
        let record = try RunSession.run(island, options: RunOptions(profiles: "\(repository)/Profiles"), logger: logger)
        let report = RunReport(record)
        #expect(report.passed, "\(report.table)")
        // The battery balanced the island: it charged from the midday sun and carried the evening.
        let battery = record.physics.series("h1/battery", .power)
        #expect(battery.contains { $0 < -3 } && battery.contains { $0 > 2 }, "\(battery.min() ?? 0) to \(battery.max() ?? 0) kW")
    }

    @Test("An island with more load than its battery can carry through a cloud fails balance, naming when")
    func islandBlackout() async throws {
        let text = try String(contentsOfFile: "\(repository)/Rigs/island.yaml", encoding: .utf8)
            .replacingOccurrences(of: "max-current: 8, phases: 1}", with: "max-current: 16, phases: 3}")
            .replacingOccurrences(of: "profile: phoenix-ev-eth", with: "profile: alfen-ng9xx")
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("island-\(UUID().uuidString).yaml").path
        _ = FileManager.default.createFile(atPath: path, contents: Data(text.utf8))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let report = try await run(try RigLoader.load(file: path, profiles: "\(repository)/Profiles", firstPort: 0))
        let balance = verdict(report, .balance)
        #expect(balance?.passed == false)
        #expect(balance?.detail.contains("h1/battery could not hold the island") == true, "\(balance?.detail ?? "")")
    }

    @Test("Each fault rig states what the controller must do, and the reference controller's verdict shows it does",
          arguments: ["battery-exception-4", "frozen-inverter", "charger-comms-loss", "lossy-bus", "grid-outage", "field-trace", "grid-events"])
    func faultRig(name: String) async throws {
        let loaded = try RigLoader.load(file: "\(repository)/Rigs/faults/\(name).yaml", profiles: "\(repository)/Profiles", firstPort: 0)
        #expect(!loaded.faults.isEmpty || !loaded.run.faults.isEmpty || loaded.devices.contains { $0.replay != nil })
        let report = try await run(loaded)
        #expect(!report.faults.isEmpty)
        #expect(report.passed, "\(report.table)")
    }

    @Test("Thresholds no controller can meet fail their assertions, naming what broke them")
    func impossibleThresholds() async throws {
        let report = try await run(rig(hours: 1, appending: """
            assertions:
              clearing-latency: {p99-ms: 0}
              dispatch-latency: {p99-ms: 0}
              comfort-band: {tolerance: 0}
              balance: {max-deviation: 0}
              self-consumption: {minimum: 100}
            """))
        #expect(!report.passed)
        for kind in [AssertionSpec.Kind.clearingLatency, .dispatchLatency, .balance, .selfConsumption] {
            #expect(verdict(report, kind)?.passed == false, "\(kind)")
        }
        #expect(report.results.count == 5)
        #expect(report.table.contains("FAIL: "))
        #expect(report.junit.contains("<failure message="))
    }

    @Test("A vehicle that cannot be charged in time fails ev-energy-by-departure, naming it")
    func vehicleShortOfEnergy() async throws {
        let report = try await run(rig(hours: 11, replacing: [(#"{arrival: "07:30", departure: "16:00", capacity: 40000, initial-soc: 60"#,
                                                        #"{arrival: "10:00", departure: "10:30", capacity: 40000, initial-soc: 10"#)]))
        let result = verdict(report, .evEnergyByDeparture)
        #expect(result?.passed == false)
        #expect(result?.detail.contains("h3/ev left at") == true, "\(result?.detail ?? "")")
    }

    @Test("A market that publishes a wrong clearing breaks the market assertions, checked against the bids it was sent")
    func wrongClearing() throws {
        var loaded = try rig(hours: 1)
        loaded.run.assertions = [.init(.supplyEqualsDemand), .init(.individualRationality), .init(.clearingMatchesReference)]
        var writer = MessageWriter(sender: "h1"), market = MessageWriter(sender: "market"), conductor = MessageWriter(sender: "conductor")
        func captured(_ message: Message, at time: Double) -> CapturedMessage {
            CapturedMessage(topic: message.topic.description, payload: [message.encoded()], received: time)
        }
        let capture = [
            captured(writer.message(Bids(house: "h1", bids: [WireBid(id: "h1/ev", side: .buy, price: 0.2, quantity: 5),
                                                                  WireBid(id: "h1/pv", side: .sell, price: 0.1, quantity: 5)]), interval: 1), at: 1),
            captured(conductor.message(Gate(), interval: 1), at: 2),
            // The buyer bid 0.2 but pays 0.25, and 5 kW bought against 3 sold.
            captured(market.message(ClearingResult(price: 0.25, quantity: 5, clearingType: .buyer, marginalQuantity: 0, marginalFraction: 0,
                                                             unservedDemand: 0, bidCount: 2), interval: 1), at: 3),
            captured(market.message(Awards(house: "h1", price: 0.25, awards: [.init(id: "h1/ev", side: .buy, quantity: 5),
                                                                                       .init(id: "h1/pv", side: .sell, quantity: 3)]), interval: 1), at: 4),
        ]
        let record = RunRecord(rig: loaded, intervals: [IntervalRecord(interval: 1, start: 0)], capture: try CaptureLog(capture), writes: [],
                               physics: PhysicsSeries(), households: ["h1"], wallSeconds: 1)
        let report = RunReport(record)
        #expect(report.results.allSatisfy { !$0.passed }, "\(report.table)")
        #expect(verdict(report, .individualRationality)?.detail.contains("h1/ev") == true)
        #expect(verdict(report, .clearingMatchesReference)?.detail.contains("GridRig's market core clears the same bids at 5.0 kW, 0.15") == true,
                "\(verdict(report, .clearingMatchesReference)?.detail ?? "")")
    }

    @Test("A battery forced to discharge when empty and a room outside its band are caught from the physics series")
    func physicsLimits() throws {
        var loaded = try rig(hours: 1)
        loaded.run.assertions = [.init(.socWithinLimits), .init(.comfortBand)]
        let physics = PhysicsSeries(times: [0, 10, 20], values: [SeriesKey("h1/battery", .soc): [50, 5, 5], SeriesKey("h1/battery", .forced): [0, 2, 2],
                                                                 SeriesKey("h2/thermostat", .room): [24, 27.5, 24]])
        let report = RunReport(RunRecord(rig: loaded, intervals: [], capture: try CaptureLog(), writes: [], physics: physics, households: [], wallSeconds: 0))
        #expect(verdict(report, .socWithinLimits)?.passed == false)
        #expect(verdict(report, .socWithinLimits)?.detail.contains("h1/battery was forced to discharge 2.00 kW at 5.0 %") == true)
        #expect(verdict(report, .comfortBand)?.passed == false)
        #expect(verdict(report, .comfortBand)?.detail.contains("h2/thermostat at 27.5 °C") == true)
    }

    @Test("A silent household fails every-interval-cleared, an export past the limit fails export-limit, an award above its bid fails awards-add-up")
    func remainingKinds() throws {
        var loaded = try rig(hours: 1)
        loaded.run.assertions = [.init(.everyIntervalCleared), .init(.exportLimit), .init(.awardsAddUp)]
        var interval = IntervalRecord(interval: 1, start: 0)
        interval.bidders = ["h1"]
        interval.clearing = ClearingResult(price: 0.2, quantity: 1, clearingType: .buyer, marginalQuantity: 0, marginalFraction: 0, unservedDemand: 0, bidCount: 2)
        var house = MessageWriter(sender: "h1"), market = MessageWriter(sender: "market"), conductor = MessageWriter(sender: "conductor")
        func captured(_ message: Message, at time: Double) -> CapturedMessage { CapturedMessage(topic: message.topic.description, payload: [message.encoded()], received: time) }
        let capture = [
            captured(house.message(Bids(house: "h1", bids: [WireBid(id: "h1/ev", side: .buy, price: 0.3, quantity: 1),
                                                                 WireBid(id: "h1/pv", side: .sell, price: 0.1, quantity: 1)]), interval: 1), at: 1),
            captured(conductor.message(Gate(), interval: 1), at: 2),
            captured(market.message(interval.clearing!, interval: 1), at: 3),
            captured(market.message(Awards(house: "h1", price: 0.2, awards: [.init(id: "h1/ev", side: .buy, quantity: 3),
                                                                                      .init(id: "h1/pv", side: .sell, quantity: 1)]), interval: 1), at: 4),
        ]
        let physics = PhysicsSeries(times: [0, 10], values: [SeriesKey("pcc/meter", .power): [0, -75]])
        let report = RunReport(RunRecord(rig: loaded, intervals: [interval], capture: try CaptureLog(capture), writes: [], physics: physics,
                                         households: ["h1", "h2"], wallSeconds: 0))
        #expect(verdict(report, .everyIntervalCleared)?.detail.contains("no bids from h2") == true, "\(report.table)")
        #expect(verdict(report, .exportLimit)?.detail == "export reached 75.00 kW, limit 60.0 kW", "\(report.table)")
        #expect(verdict(report, .awardsAddUp)?.detail.contains("awarded 3.0 kW of a 1.0 kW bid") == true, "\(report.table)")
    }

    @Test("series.csv writes each sample as the shortest text that reads back as it: zeros of either sign, whole numbers, fractions")
    func seriesText() throws {
        let power = SeriesKey("h1/battery", .power), soc = SeriesKey("h1/battery", .soc)
        let physics = PhysicsSeries(times: [0, 10, 20, 30, 40], values: [power: [0, -0.0, 1, -3, 0.1], soc: [36.07247803965332, 1e-05, 1e16, -2.5e-300, 0]])
        let record = RunRecord(rig: try rig(hours: 1), intervals: [], capture: try CaptureLog([]), writes: [], physics: physics,
                               households: ["h1"], wallSeconds: 0)
        var lines: [String] = []
        RunReport.seriesLines(of: record) { lines.append($0) }
        #expect(lines.count == 6)
        for (column, key) in [power, soc].sorted().enumerated() {
            for (row, value) in (physics.values[key] ?? []).enumerated() {
                let cell = String(lines[row + 1].split(separator: ",")[column + 1])
                #expect(cell == "\(value)" && Double(cell)?.bitPattern == value.bitPattern, "\(key) row \(row): \(cell)")
            }
        }
    }

    @Test("RunReport.write leaves every file whole (the logs written beside the verdict), and a folder it cannot make is an error after the verdict is given")
    func reportFiles() throws {
        let power = SeriesKey("h1/battery", .power)
        let record = RunRecord(rig: try rig(hours: 1), intervals: [], capture: try CaptureLog([]), writes: [],
                               physics: PhysicsSeries(times: [0, 10, 20], values: [power: [0, 1.5, -2]]), households: ["h1"], wallSeconds: 0)
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("report-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        var judged = 0
        let report = try RunReport.write(record, to: folder) { _ in judged += 1 }
        #expect(judged == 1)
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder).sorted()
                == ["capture.jsonl", "devices.txt", "junit.xml", "report.html", "results.json", "series.csv", "summary.txt", "writes.csv"])
        var series = "", writes = "", capture = ""
        RunReport.seriesLines(of: record) { series += $0 + "\n" }
        RunReport.writesLines(of: record) { writes += $0 + "\n" }
        report.captureLines { capture += $0 + "\n" }
        #expect(try String(contentsOfFile: "\(folder)/series.csv", encoding: .utf8) == series)
        #expect(try String(contentsOfFile: "\(folder)/writes.csv", encoding: .utf8) == writes)
        #expect(try String(contentsOfFile: "\(folder)/capture.jsonl", encoding: .utf8) == capture)
        #expect(try String(contentsOfFile: "\(folder)/results.json", encoding: .utf8) == report.json)
        // Under a plain file no folder can be made: the error names it, and the verdict was given before.
        let blocked = "\(folder)/series.csv/run"
        let error = #expect(throws: RunError.self) { try RunReport.write(record, to: blocked) { _ in judged += 1 } }
        #expect(error?.message.contains(blocked) == true, "\(error?.message ?? "")")
        #expect(judged == 2)
    }

    @Test("A controller claiming a setpoint landed when no accepted write reached the device fails dispatch-reports-truthful")
    func untruthfulDispatch() throws {
        var loaded = try rig(hours: 1)
        loaded.run.assertions = [.init(.dispatchReportsTruthful)]
        var market = MessageWriter(sender: "market"), house = MessageWriter(sender: "h2")
        let messages = [
            (market.message(Awards(house: "h2", price: 0.2, awards: []), interval: 1), 1.0),
            (house.message(DispatchReport(house: "h2", awardsReceivedAt: 1.1, setpoints: [
                .init(id: DeviceID(house: "h2", name: "ev"), name: .currentLimit, value: 10, landedAt: 1.2),
                .init(id: DeviceID(house: "h2", name: "thermostat"), name: .coolSetpoint, value: nil, landedAt: nil, error: "exception 4")]), interval: 1), 2.0),
        ]
        let capture = messages.map { CapturedMessage(topic: $0.0.topic.description, payload: [$0.0.encoded()], received: $0.1) }
        let report = RunReport(RunRecord(rig: loaded, intervals: [], capture: try CaptureLog(capture), writes: [], physics: PhysicsSeries(),
                                         households: ["h2"], wallSeconds: 0))
        #expect(verdict(report, .dispatchReportsTruthful)?.passed == false)
        #expect(verdict(report, .dispatchReportsTruthful)?.detail == "interval 1: h2/ev current-limit reported landed, but no accepted write reached it")
    }

    @Test("A vehicle that arrives just below its taper (h19-28's in a 1,000-house neighborhood) follows its awards: the agent keeps what it learned the vehicle takes")
    func taperingVehicle() async throws {
        let text = """
            start: "16:30"
            duration: 7.5
            first-port: 0
            houses:
              - name: h1
                base-load: 496
                devices:
                  - {name: thermostat, profile: intesis-thermostat, room-temperature: 23.9, comfort: {season: cooling, setpoint: 24, below: 2, above: 2}}
                  - name: ev
                    profile: phoenix-ev-eth
                    vehicle: {arrival: "17:01:47", departure: "23:25:38", capacity: 55000, initial-soc: 79.427, target-soc: 85, max-current: 16, phases: 1}
            pcc:
              meter: {name: pcc/meter, profile: sunspec-meter}
            assertions: {devices-follow-awards: true, ev-energy-by-departure: true}
            """
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("taper-\(UUID().uuidString).yaml").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let report = try await run(try RigLoader.load(file: path, profiles: "\(repository)/Profiles"))
        // Forgetting what the vehicle takes whenever it took a whole offer made the agent bid 16 A again: 10.3 %.
        #expect(report.passed, "\(report.table)")
    }

    @Test("A house holds one device of each kind a household drives: bids and awards name them by kind (h1/solar)")
    func oneOfEachKind() {
        expectRefused(rig: "houses: [{name: h1, devices: [{name: pv, profile: sunspec-inverter}, {name: roof, profile: sunspec-inverter}]}]\n",
                      "houses[0].devices[1]: h1 already has a device of kind inverter (h1/pv)")
    }

    @Test("Bad run settings in a rig name the file, line, key and expectation", arguments: [
        ("faults: [{device: h9/battery, kind: timeout, start: \"12:00\"}]\n", "faults[0].device: expected a device of the rig (h1/pv, h1/battery"),
        ("faults: [{device: h1/battery, kind: meltdown, start: \"12:00\"}]\n", "faults[0].kind: expected exception, timeout, latency, drop, partial-frame, slow-frame, refused, single-client, reboot, word-swap, scale-factor, frozen, min-gap, offset, drift, noise, out-of-service, shade, depart or arrival-soc, found \"meltdown\""),
        ("faults: [{device: h1/battery, kind: timeout, start: \"12:00\", probability: 1.5}]\n", "faults[0].probability: expected a probability in (0, 1], found \"1.5\""),
        ("faults: [{device: h1/battery, kind: exception, code: 9, start: \"12:00\"}]\n", "faults[0].code: expected a Modbus exception code (1-8, 10 or 11), found \"9\""),
        ("faults:\n  - {device: h1/battery, kind: timeout, start: \"12:00\", duration: 600}\n  - {device: h1/battery, kind: exception, code: 4, start: \"12:05\"}\n",
         "faults[1]: contradicts the fault at line"),
        ("grid: {mode: islanded}\n", "grid: an islanded grid needs 'grid-forming': the battery that balances it"),
        ("grid: {mode: islanded, grid-forming: h1/pv}\n", "grid.grid-forming: expected a battery of the rig (h1/battery), found \"h1/pv\""),
        ("controller: {market: endpoint}\n", "controller: an endpoint role joins from elsewhere: give the bus fixed ports"),
        ("clock: sometimes\n", "clock: expected lockstep, realtime, or {accelerated: N}, found \"sometimes\""),
        ("assertions: {speed-of-light: true}\n", "assertions.speed-of-light: unknown key"),
        ("assertions: {comfort-band: {tolerance: warm}}\n", "assertions.comfort-band.tolerance: expected a number, found \"warm\""),
        ("assertions: {supply-equals-demand: {p99-ms: 3}}\n", "assertions.supply-equals-demand: expected true or false (supply-equals-demand has no threshold)"),
        ("assertions: {devices-follow-awards: {heat-pump: 20}}\n", "assertions.devices-follow-awards.heat-pump: unknown key"),
        ("assertions: {balance: {max-deviation: -5}}\n", "assertions.balance.max-deviation: expected a threshold of 0 or more"),
        ("control-period: 30\n", "control-period: expected a control period in [1, 10] simulated seconds, found \"30\""),
        ("weather: {curve: clear, low: 30}\n", "weather.low: expected a low of at most the high (26.0 °C), found \"30\""),
        ("weather: {curve: clear, low: 20, high: 10}\n", "weather.high: expected a high of at least the low (20.0 °C), found \"10\""),
        ("controller: {households: {h2: {mutant: lazy}}}\n", "controller.households.h2.mutant: expected a mutant of the reference household (battery-sign"),
    ])
    func badSettings(yaml: String, message: String) throws {
        let text = try String(contentsOfFile: "\(repository)/Rigs/neighborhood.yaml", encoding: .utf8)
            .replacingOccurrences(of: "clock: lockstep\n", with: "")
            .replacingOccurrences(of: "weather: {curve: clear, low: 22, high: 34}\n", with: "")
            .replacingOccurrences(of: "grid: {mode: connected, import-tariff: 0.30, export-tariff: 0.05, import-limit: 60, export-limit: 60}\n", with: "") + yaml
        expectRefused(rig: text, message)
    }

    @Test("The command line: a bad rig exits 2, a failed assertion 1, a passing run 0 with its files written")
    func exitCodes() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("run-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        #expect(try await gridrig(["run", "\(repository)/Rigs/neighborhood.yaml", "--hours", "0.5", "--out", folder, "--first-port", "0",
                                   "--profiles", "\(repository)/Profiles"]).status == 0)
        for file in ["summary.txt", "results.json", "junit.xml", "report.html", "capture.jsonl", "writes.csv", "series.csv", "devices.txt"] {
            #expect(FileManager.default.fileExists(atPath: "\(folder)/\(file)"), "\(file)")
        }
        #expect(try await gridrig(["run", "/nonexistent.yaml"]).status == 2)
        let strict = FileManager.default.temporaryDirectory.appendingPathComponent("rig-\(UUID().uuidString).yaml").path
        let text = try String(contentsOfFile: "\(repository)/Rigs/neighborhood.yaml", encoding: .utf8) + "assertions: {clearing-latency: {p99-ms: 0}}\n"
        _ = FileManager.default.createFile(atPath: strict, contents: Data(text.utf8))
        defer { try? FileManager.default.removeItem(atPath: strict) }
        #expect(try await gridrig(["run", strict, "--hours", "0.25", "--out", folder, "--first-port", "0", "--profiles", "\(repository)/Profiles"]).status == 1)
        // A port clash: something already listens where the rig's first device would be served.
        let context = try BusContext(), holder = try Broker(context: context)
        defer { holder.stop() }
        let taken = holder.endpoints.publish.split(separator: ":").last.map(String.init) ?? ""
        let clash = try await gridrig(["run", "\(repository)/Rigs/neighborhood.yaml", "--hours", "0.25", "--first-port", taken, "--out", folder,
                                       "--profiles", "\(repository)/Profiles"])
        #expect(clash.status == 3)
        #expect(clash.errors.contains("the emulators could not start: h1/pv") && clash.errors.contains("Address already in use"), "\(clash.errors)")
        // --faults: a schedule from its own file replaces the rig's; a bad one is named with its file and line.
        let schedule = FileManager.default.temporaryDirectory.appendingPathComponent("faults-\(UUID().uuidString).yaml").path
        defer { try? FileManager.default.removeItem(atPath: schedule) }
        try "faults:\n  - {bus: telemetry/, kind: drop, start: \"00:05\", duration: 300}\n".write(toFile: schedule, atomically: true, encoding: .utf8)
        #expect(try await gridrig(["run", "\(repository)/Rigs/neighborhood.yaml", "--hours", "0.25", "--faults", schedule, "--out", folder,
                                   "--first-port", "0", "--profiles", "\(repository)/Profiles"]).status == 0)
        #expect(try String(contentsOfFile: "\(folder)/summary.txt", encoding: .utf8).contains("bus telemetry/ drop (4 dropped)"))
        try "faults:\n  - {participant: h9, kind: stall, start: \"00:05\", duration: 300}\n".write(toFile: schedule, atomically: true, encoding: .utf8)
        let badSchedule = try await gridrig(["run", "\(repository)/Rigs/neighborhood.yaml", "--faults", schedule])
        #expect(badSchedule.status == 2)
        #expect(badSchedule.errors.contains("\(schedule):2:") && badSchedule.errors.contains("faults[0].participant"), "\(badSchedule.errors)")
    }
}

@Suite("Weather files")
struct WeatherFileTests {
    private func load(_ csv: String) throws(FileError) -> Rig {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("weather-\(UUID().uuidString)").path
        try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: "\(folder)/day.csv", contents: Data(csv.utf8))
        let rig = "houses:\n  - name: h1\n    devices:\n      - {profile: sunspec-inverter}\nweather: {file: day.csv}\n"
        _ = FileManager.default.createFile(atPath: "\(folder)/rig.yaml", contents: Data(rig.utf8))
        return try RigLoader.load(file: "\(folder)/rig.yaml", profiles: "\(repository)/Profiles", firstPort: 0)
    }

    @Test("A rig reads measured weather from a CSV file next to it")
    func readsFile() throws {
        let rig = try load("time,irradiance,temperature\n06:00,0,12\n12:00,900,28.5\n# a comment\n18:00,0,20\n")
        #expect(rig.weather.weather(at: 12 * 3600) == Weather(irradiance: 900, outdoorTemperature: 28.5))
    }

    @Test("A bad weather file names its line, column and what was expected", arguments: [
        ("when,sun,heat\n", "day.csv:1:1: expected the header time,irradiance,temperature"),
        ("time,irradiance,temperature\n06:00,0\n", "day.csv:2:1: expected 3 values"),
        ("time,irradiance,temperature\n06:00,-5,12\n", "day.csv:2:7: irradiance: expected W/m² of 0 or more, found \"-5\""),
        ("time,irradiance,temperature\n12:00,0,12\n06:00,0,10\n", "day.csv:3:1: time: expected a time after 12:00 (the line before), found 06:00"),
        ("time,irradiance,temperature\n25:00,0,12\n", "day.csv:2:1: time: expected HH:MM, found \"25:00\""),
    ])
    func badFile(csv: String, message: String) {
        do {
            _ = try load(csv)
            Issue.record("loaded a bad weather file")
        } catch {
            #expect(error.description.contains(message), "\(error)")
        }
    }
}
