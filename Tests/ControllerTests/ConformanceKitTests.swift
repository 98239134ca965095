import Foundation
import Harness
import Logging
import Testing

/// The conformance kit proves itself (docs/CONFORMANCE.md): `gridrig certify` fails each broken controller of
/// Conformance/broken/broken.py (a Python example with one bug) on the requirement named for it, and certifies the
/// unbroken examples and GridRig's reference controller (as processes) with no false alarm.
///
/// `make test` runs a subset: one broken controller per requirement on one case, and the controllers on two cases
/// at one seed. `make conformance` (GRIDRIG_KIT=full) runs every broken controller, and every case over 5 seeds.
@Suite("The conformance kit catches its broken controllers and certifies the examples", .serialized, .timeLimit(.minutes(30)))
struct ConformanceKitTests {
    static let full = ProcessInfo.processInfo.environment["GRIDRIG_KIT"] == "full"

    struct Broken: Sendable, CustomTestStringConvertible {
        let bug: String, role: ConformanceRole, requirement: String
        /// The case that shows the bug: the first of its role unless it needs a fault to show.
        var suiteCase: String {
            ["stale-telemetry", "bids-from-lost-device"].contains(bug) ? "charger-comms-loss" : role == .household ? "cooling-clear" : "normal-day"
        }
        var testDescription: String { "\(bug) (\(requirement))" }
    }

    /// The kit's broken controllers, as `broken.py --list` names them.
    static let everyBroken: [Broken] = {
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
            guard words.count == 3, let role = ConformanceRole(rawValue: words[1]) else { return nil }
            return Broken(bug: words[0], role: role, requirement: words[2])
        }
    }()

    /// Every broken controller in the full kit; the first of each requirement otherwise.
    static let broken: [Broken] = full ? everyBroken
        : everyBroken.reduce(into: []) { kept, next in if !kept.contains(where: { $0.requirement == next.requirement }) { kept.append(next) } }

    static func certify(_ role: ConformanceRole, _ command: [String], cases: [String] = [], seeds: Int = 1) throws -> Certification {
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let suite = try ConformanceSuite.load(folder: "\(repository)/Conformance", role: role, only: cases)
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("certify-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: out) }
        return try Certification.run(suite, controller: .command(command), house: "h2", seeds: seeds, profiles: "\(repository)/Profiles", firstPort: 0, out: out,
                                     readyTimeout: .seconds(15), logger: logger) { _ in }
    }

    @Test("At least 20 broken controllers, together covering every mandatory requirement of both roles")
    func kitIsComplete() throws {
        #expect(Self.everyBroken.count >= 20)
        for role in ConformanceRole.allCases {
            let suite = try ConformanceSuite.load(folder: "\(repository)/Conformance", role: role)
            let covered = Set(Self.everyBroken.filter { $0.role == role }.map(\.requirement))
            #expect(covered == Set(suite.requirements.filter(\.mandatory).map(\.id)), "\(role)")
        }
    }

    @Test("certify fails each broken controller on the requirement named for it", arguments: broken)
    func brokenFails(_ broken: Broken) throws {
        let certification = try Self.certify(broken.role, ["python3", "\(repository)/Conformance/broken/broken.py", broken.bug], cases: [broken.suiteCase])
        let verdict = try #require(certification.verdicts.first { $0.requirement.id == broken.requirement })
        #expect(!verdict.passed && !certification.passed, "\(broken.bug): \(CertificateReport(certification).table)")
    }

    @Test("certify certifies the Python examples and the reference controller with no false alarm",
          arguments: [(ConformanceRole.household, "python3 examples/python/household.py"), (.household, "gridrig agent household"),
                      (.market, "python3 examples/python/market.py"), (.market, "gridrig agent market")])
    func controllersPass(role: ConformanceRole, program: String) throws {
        let command = program.split(separator: " ").map { word in
            word == "gridrig" ? "\(repository)/.build/debug/gridrig" : word.hasPrefix("examples/") ? "\(repository)/\(word)" : String(word)
        }
        let cases = Self.full ? [] : role == .household ? ["cooling-clear", "reboot"] : ["normal-day", "silent-households"]
        let certification = try Self.certify(role, command, cases: cases, seeds: Self.full ? 5 : 1)
        #expect(certification.passed, "\(program): \(CertificateReport(certification).table)")
        // Advisory requirements may fail under the cases' injected faults (HH-TIMING under answers 0.5 s late).
        let falseAlarms = certification.verdicts.filter(\.requirement.mandatory).flatMap(\.failures)
        #expect(falseAlarms.isEmpty, "\(falseAlarms.map { "\($0.caseName) seed \($0.seed): \($0.detail)" })")
    }
}
