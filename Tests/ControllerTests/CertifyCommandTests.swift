@testable import Conformance
import Foundation
import Physics
@testable import RigFiles
@testable import Rigs
import TestSupport
import Testing

/// `gridrig certify` as a team runs it (docs/CONFORMANCE.md): a certificate for a command or an endpoint, its
/// contents, its exit status, and bad input.
@Suite("gridrig certify", .serialized, .timeLimit(.minutes(5)))
struct CertifyCommandTests {
    func temporaryFolder() -> String { FileManager.default.temporaryDirectory.appendingPathComponent("certify-\(UUID().uuidString)").path }

    func certificate(_ folder: String) throws -> [String: Any] {
        let data = try Data(contentsOf: URL(fileURLWithPath: "\(folder)/certificate.json"))
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    func requirement(_ certificate: [String: Any], _ id: String) -> [String: Any]? {
        (certificate["requirements"] as? [[String: Any]])?.first { $0["id"] as? String == id }
    }

    @Test("The Python household passes and gets a certificate naming GridRig's and the suite's versions, the cases' SHA-256, the seeds, its hello.software and the date")
    func pythonHouseholdCertified() async throws {
        let out = temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: out) }
        let result = try await gridrig(["certify", "--role", "household", "--cases", "reboot", "--seeds", "2", "--out", out, "--first-port", "0",
                                  "--", "python3", "examples/python/household.py"])
        #expect(result.status == 0, "\(result.output)\(result.errors)")
        #expect(result.output.contains("CERTIFIED: household h2, 1 cases x 2 seeds"), "\(result.output)")
        let json = try certificate(out)
        #expect(json["certified"] as? Bool == true)
        #expect(json["gridrig_version"] as? String == "0.11.0" && json["suite_version"] as? Int == 2)
        #expect(json["software"] as? [String] == ["gridrig python example"])
        #expect(json["seeds"] as? [Int] == [1, 2])
        #expect((json["date"] as? String).map { $0.hasPrefix("20") } == true)
        let cases = try #require(json["cases"] as? [[String: Any]])
        let hash = try sha256sum("\(repository)/Conformance/household/reboot.yaml")
        #expect(cases.count == 1 && cases[0]["sha256"] as? String == hash)
        let protocolRequirement = try #require(requirement(json, "HH-PROTOCOL"))
        #expect(protocolRequirement["pass_rate"] as? Double == 1)
        let evidence = try #require(protocolRequirement["evidence"] as? String)
        #expect(FileManager.default.fileExists(atPath: "\(out)/\(evidence)"), "\(evidence)")
        for name in ["certificate.html", "junit.xml", "summary.txt"] { #expect(FileManager.default.fileExists(atPath: "\(out)/\(name)"), "\(name)") }
        let html = try String(contentsOfFile: "\(out)/certificate.html", encoding: .utf8)
        #expect(html.contains("CERTIFIED") && html.contains("href=\"\(evidence)\""))
    }

    @Test("A broken household fails certify with exit 1, naming its requirement and linking the run report that is the evidence")
    func brokenHouseholdFails() async throws {
        let out = temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: out) }
        let result = try await gridrig(["certify", "--role", "household", "--cases", "cooling-clear", "--out", out, "--first-port", "0",
                                  "--command", "python3", "Conformance/broken/broken.py", "goodbye-unanswered"])
        #expect(result.status == 1, "\(result.output)\(result.errors)")
        #expect(result.output.contains("HH-PROTOCOL") && result.output.contains("NOT CERTIFIED"), "\(result.output)")
        let json = try certificate(out)
        let failed = try #require(requirement(json, "HH-PROTOCOL"))
        #expect(failed["passed"] as? Bool == false)
        let failure = try #require((failed["failures"] as? [[String: Any]])?.first)
        #expect((failure["detail"] as? String)?.contains("h2: never answered the conductor's goodbye") == true, "\(failure)")
        let report = try #require(failure["report"] as? String)
        #expect(FileManager.default.fileExists(atPath: "\(out)/\(report)"))
        let junit = try String(contentsOfFile: "\(out)/junit.xml", encoding: .utf8)
        #expect(junit.contains("name=\"HH-PROTOCOL\">") && junit.contains("<failure message=\"cooling-clear seed 1"))
    }

    @Test("An endpoint started on its own by the test, from the environment certify writes for each run, is certified")
    func endpointCertified() async throws {
        let out = temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: out) }
        let bus = freeBusPorts()
        let firstPort = freeConsecutivePorts(8)  // the case's 7 devices, at fixed ports the endpoint is told
        let controller = try Child(["bash", "-c", """
            while [ ! -f "$0/endpoint.env" ]; do sleep 0.1; done
            . "$0/endpoint.env"
            exec python3 "$1/examples/python/household.py"
            """, out, repository], environment: [:])
        let result = try await gridrig(["certify", "--role", "household", "--cases", "cooling-clear", "--endpoint", "--out", out,
                                  "--publish-port", "\(bus.publish)", "--subscribe-port", "\(bus.subscribe)", "--first-port", "\(firstPort)"])
        #expect(result.status == 0, "\(result.output)\(result.errors)\(controller.standardError)")
        #expect(controller.exit() == 0)
        let json = try certificate(out)
        #expect(json["controller"] as? String == "endpoint" && json["software"] as? [String] == ["gridrig python example"])
        #expect(result.errors.contains("waiting for the controller (\(out)/endpoint.env)"))
    }

    @Test("Bad input: an unknown role or case, no controller, or both ways of giving one, exits non-zero naming what is wrong",
          arguments: [(["--role", "solar", "--", "true"], "The value 'solar' is invalid for '--role <role>'", Int32(2)),
                      (["--role", "household"], "give the controller", 2),
                      (["--role", "household", "--endpoint", "--", "true"], "give the controller", 2),
                      (["--role", "market", "--cases", "nope", "--", "true"], "no case named nope; the cases are", 2),
                      (["--role", "market", "--bogus", "--", "true"], "Unknown option '--bogus'", 2),
                      // The older --command takes the rest of the line: a gridrig option after it would reach the program.
                      (["--role", "market", "--command", "python3", "my.py", "--out", "DIR"], "--out comes after --command", 2),
                      (["--role", "market", "--command", "true", "--", "true"], "give the controller's program once", 2)])
    func badInput(arguments: [String], message: String, status: Int32) async throws {
        let result = try await gridrig(["certify"] + arguments)
        #expect(result.status == status && result.errors.contains(message), "\(result)")
    }

    private func sha256sum(_ path: String) throws -> String {
        let process = Process(), output = Pipe()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["sha256sum", path]
        process.standardOutput = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return String(text.prefix(64))
    }
}

/// The wall-clock edition of the suite (docs/CONFORMANCE.md, "Firmware on its own clock"): firmware that keeps its
/// own time, certified as it runs.
@Suite("gridrig certify in wall-clock time", .timeLimit(.minutes(10)))
struct WallClockCertifyTests {
    @Test("Firmware on its own clock (the Python household, GRIDRIG_STEPS=wall: no control steps, the Alfen's 60-s watchdog fed on its wall clock) passes the 5-minute realtime edition of cooling-clear, and the report gives GridRig's own clock lag")
    func ownClockCertified() async throws {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("certify-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: out) }
        let result = try await gridrig(["certify", "--role", "household", "--clock", "realtime", "--window", "5", "--cases", "cooling-clear", "--out", out,
                                        "--first-port", "0", "--", "env", "GRIDRIG_STEPS=wall", "python3", "examples/python/household.py"])
        #expect(result.status == 0, "\(result.output)\(result.errors)")
        let certificate = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(out)/certificate.json"))) as? [String: Any]
        #expect(certificate?["edition"] as? String == "5-minute editions, realtime")
        let summary = try String(contentsOfFile: "\(out)/runs/cooling-clear-seed1/summary.txt", encoding: .utf8)
        #expect(summary.contains("cooling-clear: 1 intervals, 10:00") && summary.contains("clock: physics steps ended p99"), "\(summary)")
        let capture = try String(contentsOfFile: "\(out)/runs/cooling-clear-seed1/capture.jsonl", encoding: .utf8)
        #expect(capture.contains("\"topic\":\"time/h1\"") && !capture.contains("\"topic\":\"time/h2\""),
                "the reference households ask for control steps, the firmware under test none")
        // The Alfen was written at least every 45 s of its 60-s watchdog: 6 or more writes to its current in 5 minutes.
        let writes = try String(contentsOfFile: "\(out)/runs/cooling-clear-seed1/writes.csv", encoding: .utf8)
        #expect(writes.split(separator: "\n").filter { $0.contains("h2/ev") && $0.contains(",1210,") }.count >= 6, "\(writes)")
    }

    @Test("A case's wall-clock edition starts an interval before its first event's, and lasts the window or through the event's interval; a case without one at its start")
    func editionWindows() throws {
        func narrowed(_ name: String, window: Double) throws -> (String, Double) {
            var rig = try RigLoader.load(file: "\(repository)/Conformance/household/\(name).yaml", profiles: "\(repository)/Profiles")
            Certification.narrow(&rig, to: window)
            return (Figures.clockTime(rig.start ?? 0), rig.run.duration)
        }
        #expect(try narrowed("comms-loss", window: 600) == ("09:25", 600))
        #expect(try narrowed("comms-loss", window: 300) == ("09:25", 600))
        #expect(try narrowed("cooling-clear", window: 900) == ("10:00", 900))
        #expect(try narrowed("market-crash", window: 600) == ("10:25", 600))
    }

    @Test("An edition that lies wholly within faults excusing the whole house (lossy-bus's two hours of bus faults) is found, and one with a judged interval is not")
    func whollyExcusedEditions() throws {
        func excusing(_ name: String, window: Double?) throws -> String? {
            var rig = try RigLoader.load(file: "\(repository)/Conformance/household/\(name).yaml", profiles: "\(repository)/Profiles")
            if let window { Certification.narrow(&rig, to: window) }
            return Certification.excusingWholly(rig, house: "h2")
        }
        #expect(try excusing("lossy-bus", window: 600)?.contains("bus bids/h drop 20 %") == true)
        #expect(try excusing("lossy-bus", window: nil) == nil)
        #expect(try excusing("market-crash", window: 600) == nil)
        #expect(try excusing("comms-loss", window: 600) == nil)
    }

    @Test("A certificate names its edition: whole cases, or N-minute editions, and the clock")
    func editionNames() {
        #expect(Certification.Edition().description == "whole cases, lockstep")
        #expect(Certification.Edition(window: 3600).description == "60-minute editions, lockstep")
        #expect(Certification.Edition(clock: .paced(speed: 1)).description == "10-minute editions, realtime")
        #expect(Certification.Edition(clock: .paced(speed: 60), window: 300).description == "5-minute editions, accelerated ×60")
    }
}
