import Foundation
@testable import Harness
import Testing

/// The conformance kit proves itself (docs/CONFORMANCE.md): each broken controller of Conformance/broken/broken.py
/// (a Python example with one bug) fails the assertions of the requirement named for it, on a case of the suite;
/// the unbroken examples and GridRig's reference controller pass every case.
@Suite("The conformance kit catches its broken controllers and passes the examples", .serialized, .timeLimit(.minutes(3)))
struct ConformanceKitTests {
    /// The assertions that judge each requirement (docs/CONFORMANCE.md).
    static let requirements: [String: [AssertionSpec.Kind]] = [
        "HH-DISPATCH-TRUTH": [.dispatchReportsTruthful], "HH-TELEMETRY-TRUTH": [.telemetryTruthful], "HH-WRITES": [.writesAccepted],
        "HH-PROTOCOL": [.protocolConformance], "HH-FOLLOW": [.devicesFollowAwards], "HH-WATCHDOG": [.watchdogFallbacks],
        "HH-COMFORT": [.comfortBand], "MK-PROTOCOL": [.protocolConformance], "MK-REFERENCE": [.clearingMatchesReference],
        "MK-RULE": [.supplyEqualsDemand, .individualRationality, .awardsAddUp], "MK-EVERY-INTERVAL": [.everyIntervalCleared],
        "MK-LATENCY": [.clearingLatency],
    ]

    struct Broken: Sendable, CustomTestStringConvertible {
        let bug: String, role: String, requirement: String
        /// The case it runs on: the first of its role's suite unless the bug needs a fault to show.
        var suiteCase: String {
            bug == "stale-telemetry" ? "household/charger-comms-loss" : role == "household" ? "household/cooling-clear" : "market/normal-day"
        }
        var testDescription: String { "\(bug) (\(requirement))" }
    }

    /// The kit's broken controllers, as `broken.py --list` names them.
    static let broken: [Broken] = {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "\(repository)/Conformance/broken/broken.py", "--list"]
        let output = Pipe()
        process.standardOutput = output
        guard (try? process.run()) != nil else { return [] }
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return text.split(separator: "\n").compactMap { line in
            let words = line.split(separator: " ").map(String.init)
            return words.count == 3 ? Broken(bug: words[0], role: words[1], requirement: words[2]) : nil
        }
    }()

    /// A suite case with `controller` appended (the role under test), shortened to `hours` when given.
    func run(_ suiteCase: String, controller: String, hours: Double? = nil) throws -> RunReport {
        let text = try String(contentsOfFile: "\(repository)/Conformance/\(suiteCase).yaml", encoding: .utf8) + controller
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("case-\(UUID().uuidString).yaml").path
        _ = FileManager.default.createFile(atPath: path, contents: Data(text.utf8))
        defer { try? FileManager.default.removeItem(atPath: path) }
        var rig = try RigLoader.load(file: path, profiles: "\(repository)/Profiles")
        if let hours { rig.run.duration = hours * 3600 }
        return try ControllerTests.run(rig)
    }

    func command(_ role: String, _ program: [String]) -> String {
        let words = program.map { "\"\($0)\"" }.joined(separator: ", ")
        return role == "market" ? "controller:\n  market: {command: [\(words)]}\n" : "controller:\n  households:\n    h2: {command: [\(words)]}\n"
    }

    @Test("At least 20 broken controllers, every one for a requirement the kit knows, together covering every requirement")
    func kitIsComplete() {
        #expect(Self.broken.count >= 20)
        #expect(Self.broken.allSatisfy { Self.requirements[$0.requirement] != nil }, "\(Self.broken.map(\.requirement))")
        #expect(Set(Self.broken.map(\.requirement)) == Set(Self.requirements.keys))
    }

    @Test("Each broken controller fails its requirement's assertions", arguments: broken)
    func brokenFails(_ broken: Broken) throws {
        let report = try run(broken.suiteCase, controller: command(broken.role, ["python3", "\(repository)/Conformance/broken/broken.py", broken.bug]))
        let judged = Self.requirements[broken.requirement]!.compactMap { verdict(report, $0) }
        #expect(!judged.isEmpty && judged.contains { !$0.passed }, "\(broken.bug) passed \(broken.requirement): \(report.table)")
    }

    @Test("The Python examples and the reference controller pass every case of their role", arguments: [
        "household/cooling-clear", "household/charger-comms-loss", "household/modbus-faults", "household/reboot", "household/market-crash",
        "household/lossy-bus", "market/normal-day", "market/night-no-cross", "market/lossy-bus", "market/silent-households",
    ])
    func examplesPass(_ suiteCase: String) throws {
        let role = suiteCase.hasPrefix("market") ? "market" : "household"
        for controller in [command(role, ["python3", "\(repository)/examples/python/\(role).py"]), ""] {
            let report = try run(suiteCase, controller: controller)
            #expect(report.passed, "\(suiteCase) \(controller.isEmpty ? "reference" : role + ".py"): \(report.table)")
        }
    }
}
