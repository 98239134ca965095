import Bus
import Files
import Foundation
import Messages
import Physics
import Reports
import Rigs
import Run
import TestSupport
import Testing
import Verdict

/// A folder of certificates as `gridrig keys FOLDER --participants NAMES` makes them.
private func keysFolder(_ names: [String]) throws -> String {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("keys-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    for name in [BusKeyFiles.broker] + names { try BusKeyFiles.write(try BusKeyPair.generate(), name: name, into: folder) }
    return folder
}

/// The rogue peer of examples/python, flooding the bus at `ports` until stopped. It is given a second to start:
/// from then on it reconnects to the broker as soon as the run binds it, and floods it for the whole run.
private func rogue(_ ports: (publish: UInt16, subscribe: UInt16), serverKey: String? = nil) throws -> Child {
    let child = try Child(["python3", "\(repository)/examples/python/rogue.py", "tcp://127.0.0.1:\(ports.publish)", "600",
                           "--subscribe", "tcp://127.0.0.1:\(ports.subscribe)"] + (serverKey.map { ["--server-key", $0] } ?? []), environment: [:])
    Thread.sleep(forTimeInterval: 1)
    return child
}

/// No captured message is garbage or a forgery of the rogue's: every one decodes, comes from a participant and
/// belongs to an interval the conductor opened.
private func expectCleanCapture(_ report: RunReport, sourceLocation: SourceLocation = #_sourceLocation) {
    let opened = Set(report.record.intervals.map(\.interval))
    let participants = Set(report.record.households.map(\.name) + ["conductor", "market", "grid"])
    for captured in report.record.capture {
        guard let message = try? Message.decode(topic: captured.topic, payload: captured.payload.first ?? []) else {
            Issue.record("captured garbage on \(captured.topic)", sourceLocation: sourceLocation)
            return
        }
        #expect(participants.contains(message.header.sender), sourceLocation: sourceLocation)
        #expect(message.header.interval.map(opened.contains) ?? true, "\(captured.topic) for interval \(message.header.interval ?? 0)",
                sourceLocation: sourceLocation)
        if let awards = message.body as? Awards {
            #expect(awards.awards.allSatisfy { $0.quantity < 50 }, "a forged award reached the capture", sourceLocation: sourceLocation)
        }
    }
}

@Suite("The bus under attack: a real rogue process floods it with garbage and forgeries", .serialized, .timeLimit(.minutes(4)))
struct BusSecurityRunTests {
    @Test("Bound beyond loopback with the defaults, the bus authenticates: the rogue cannot join, the run passes, and its capture holds nothing of the rogue")
    func authenticated() async throws {
        let ports = freeBusPorts(), keys = try keysFolder([])
        let loaded = try rig(hours: 24, appending: """
            bus: {host: 0.0.0.0, publish-port: \(ports.publish), subscribe-port: \(ports.subscribe), keys: \(keys)}
            """)
        #expect(loaded.run.bus.authenticates, "0.0.0.0 is beyond loopback")
        // The rogue knows the broker's public key (it is public) but has no key the rig lists.
        let attacker = try rogue(ports, serverKey: "\(keys)/broker.key")
        defer { attacker.kill() }
        let report = try await run(loaded)
        #expect(report.passed, "\(report.table)")
        #expect(report.record.admissions.authenticated)
        #expect(report.record.admissions.refusedConnections.contains { $0.attempts > 0 }, "the rogue's connections were refused")
        #expect(report.record.admissions.refusals.isEmpty, "nothing of the rogue reached the gate: \(report.record.admissions.refusals)")
        expectCleanCapture(report)
        #expect(report.table.contains("connection refused: unknown CURVE key"), "\(report.table)")
    }

    @Test("On loopback without authentication, the rogue's impersonations and garbage are refused and reported by sender, h2 ignores the forged awards, and only real intervals are judged")
    func unauthenticated() async throws {
        let ports = freeBusPorts()
        let loaded = try rig(hours: 24, appending: """
            bus: {publish-port: \(ports.publish), subscribe-port: \(ports.subscribe)}
            """)
        #expect(!loaded.run.bus.authenticates)
        let attacker = try rogue(ports)
        defer { attacker.kill() }
        let report = try await run(loaded)
        let refused = Dictionary(report.record.admissions.refusals.map { ("\($0.reason.rawValue) \($0.sender ?? "-")", $0.messages) }, uniquingKeysWith: +)
        for kind in ["impersonation market", "impersonation conductor", "impersonation h1", "unknown-sender rogue", "unattributable -", "oversize -"] {
            #expect((refused[kind] ?? 0) > 0, "\(kind) not refused: \(refused)")
        }
        #expect(Set(report.record.admissions.refusals.map(\.connection)).count == 1, "every refusal is the rogue's one connection")
        expectCleanCapture(report)
        let cleared = try #require(verdict(report, .everyIntervalCleared))
        #expect(cleared.measured.hasSuffix("of \(report.record.intervals.count) incomplete") && report.record.intervals.count == 288, "\(cleared.measured)")
        #expect(verdict(report, .devicesFollowAwards)?.passed == true, "\(report.table)")
        #expect(report.table.contains("refused: impersonation") && report.table.contains("\"market\" on peer"))
        var bytes = 0, summaries: [String] = []
        report.captureLines { line in
            bytes += line.utf8.count + 1
            if line.hasPrefix("{\"summary\"") { summaries.append(line) }
        }
        #expect(summaries.contains { $0.hasPrefix("{\"summary\":\"refused\"") })
        #expect(bytes < 100_000_000)
    }

    @Test("A household endpoint with its certificate from `gridrig keys` joins and passes; with a key the rig does not list it is refused, and GridRig says so")
    func endpointKeys() async throws {
        let ports = freeBusPorts(), keys = try keysFolder(["h2"])
        let firstDevice = Int(freeConsecutivePorts(12))  // below the ephemeral range: no concurrent client can hold one
        let loaded = try rig(hours: 1, replacing: [("first-port: 1502", "first-port: \(firstDevice)"), ("start: \"00:00\"", "start: \"10:00\"")],
                             appending: """
            bus: {auth: true, publish-port: \(ports.publish), subscribe-port: \(ports.subscribe), keys: \(keys)}
            controller:
              households: {h2: endpoint}
            """)
        let environment = try RunSession.endpointEnvironment(loaded, participant: "h2", options: RunOptions(profiles: "\(repository)/Profiles"))
        #expect(environment["GRIDRIG_BUS_KEYS"] == keys)
        let household = try Child(["python3", "\(repository)/examples/python/household.py"], environment: environment)
        let report = try await run(loaded)
        #expect(report.passed, "\(report.table)")
        #expect(report.record.messages.contains { $0.message.header.sender == "h2" && $0.message.body is DispatchReport })
        #expect(household.exit() == 0, "\(household.standardError)")

        // The same household with a certificate of its own making: the rig does not list its key.
        let wrong = try keysFolder(["h2"])
        try FileManager.default.removeItem(atPath: "\(wrong)/broker.key")
        try FileManager.default.copyItem(atPath: "\(keys)/broker.key", toPath: "\(wrong)/broker.key")
        let impostor = try Child(["python3", "\(repository)/examples/python/household.py"],
                                 environment: environment.merging(["GRIDRIG_BUS_KEYS": wrong]) { $1 })
        defer { impostor.process.terminate() }
        do {
            _ = try await run(loaded)
            Issue.record("the run passed with an unknown key")
        } catch let error as RunError {
            #expect(error.message.hasPrefix("never became ready within 8 s: h2"), "\(error)")
            #expect(error.message.contains("the broker refused connections that failed CURVE authentication") && error.message.contains("127.0.0.1"),
                    "\(error)")
        }
    }

    @Test("With authentication on loopback, controllers GridRig starts authenticate with the keys in their environment: the Python market and household, and gridrig agent household")
    func commandsAuthenticate() async throws {
        let household = "{command: [python3, \"\(repository)/examples/python/household.py\"]}"
        let report = try await run(rig(hours: 2, replacing: [("start: \"00:00\"", "start: \"10:00\"")], appending: """
            bus: {auth: true}
            controller:
              market: {command: [python3, "\(repository)/examples/python/market.py"]}
              households: {h2: \(household), h3: {command: ["\(repository)/.build/debug/gridrig", agent, household]}}
            """))
        #expect(report.passed, "\(report.table)")
        #expect(report.record.admissions.authenticated && report.record.admissions.refusals.isEmpty && report.record.admissions.refusedConnections.isEmpty)
        for sender in ["market", "h2", "h3"] {
            #expect(report.record.messages.contains { $0.message.header.sender == sender && $0.message.header.interval != nil }, "\(sender)")
        }
    }

    @Test("A capture that reaches its bound counts the rest, says so, and the verdict judges only the intervals it holds whole")
    func captureBound() async throws {
        let report = try await run(rig(hours: 24, appending: "bus: {capture-limit-mb: 1}\n"))
        let overflow = report.record.admissions.captureOverflow
        #expect(overflow.messages > 0)
        #expect(report.record.capture.map { $0.topic.utf8.count + $0.payload.map(\.count).reduce(0, +) + 4 * ($0.payload.count + 1) }.reduce(0, +) <= 1 << 20)
        let cleared = try #require(verdict(report, .everyIntervalCleared))
        let judged = Int(cleared.measured.split(separator: " ")[2]) ?? 0
        #expect(cleared.passed && judged > 20 && judged < 288, "\(cleared.measured)")
        #expect(report.passed, "\(report.table)")
        #expect(report.table.contains("capture full: counted, not kept; the last \(288 - judged) intervals not judged from the bus"), "\(report.table)")
        var full: [String] = []
        report.captureLines { if $0.hasPrefix("{\"summary\":\"capture-full\"") { full.append($0) } }
        #expect(full.count == 1 && full[0].hasPrefix("{\"summary\":\"capture-full\",\"messages\":\(overflow.messages)"), "\(full)")
        #expect(report.json.contains("\"intervals_not_judged\":\(288 - judged)"))
    }

    @Test("The capture's default bound grows with the rig: 1 GiB up to 256 house-days, 4 MiB per house and day beyond")
    func captureDefault() {
        #expect(RunSettings.BusSettings.defaultCaptureLimit(houses: 4, duration: 86_400) == 1 << 30)
        #expect(RunSettings.BusSettings.defaultCaptureLimit(houses: 1_000, duration: 86_400) == 1_000 << 22)
        #expect(RunSettings.BusSettings.defaultCaptureLimit(houses: 1_000, duration: 2 * 86_400) == 2_000 << 22)
    }

    @Test("Bad bus settings and certificates are refused before anything runs, naming what is wrong and where")
    func badSettings() async throws {
        let base = try String(contentsOfFile: "\(repository)/Rigs/neighborhood.yaml", encoding: .utf8)
        expectRefused(rig: base + "bus: {auth: maybe}\n", "expected true or false")
        expectRefused(rig: base + "bus: {rate-limit: 0}\n", "rate-limit")
        expectRefused(rig: base + "bus: {secret: x}\n", "secret")

        let ports = freeBusPorts(), keys = try keysFolder([])
        func refused(_ extra: String, _ message: String, sourceLocation: SourceLocation = #_sourceLocation) async throws {
            let loaded = try rig(hours: 1, replacing: [("first-port: 1502", "first-port: 1502")],
                                 appending: "bus: {auth: true, publish-port: \(ports.publish), subscribe-port: \(ports.subscribe)\(extra)}\n"
                                 + "controller: {households: {h2: endpoint}}\n")  // refused before any port is taken
            do {
                _ = try await run(loaded)
                Issue.record("ran without the keys it needs", sourceLocation: sourceLocation)
            } catch let error as RunError {
                #expect(error.isBadInput && error.message.contains(message), "\(error)", sourceLocation: sourceLocation)
            }
        }
        try await refused("", "h2 runs elsewhere and the bus authenticates: name a keys folder (bus: {keys: FOLDER}), made with `gridrig keys FOLDER --participants h2`")
        try await refused(", keys: \(keys)", "\(keys)/h2.key:0:0: cannot read the file (make keys with `gridrig keys`)")
        try BusKeyFiles.write(try BusKeyPair.generate(), name: "h2", into: keys)
        let broken = try String(contentsOfFile: "\(keys)/broker.key_secret", encoding: .utf8)
            .replacingOccurrences(of: "secret-key = \"", with: "secret-key = \"!!")
        try broken.write(toFile: "\(keys)/broker.key_secret", atomically: true, encoding: .utf8)
        try await refused(", keys: \(keys)", "\(keys)/broker.key_secret:7:0: secret-key is not 40 characters of Z85")
    }

    @Test("gridrig keys writes certificates pyzmq reads, keeps them unless told to replace, and run --environment prints what an endpoint sets")
    func commandLine() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("keys-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let made = try await gridrig(["keys", folder, "--participants", "h2,market"])
        #expect(made.status == 0 && made.output.contains("wrote \(folder)/h2.key_secret"), "\(made)")
        let secret = try FileManager.default.attributesOfItem(atPath: "\(folder)/h2.key_secret")[.posixPermissions] as? Int
        #expect(secret == 0o600)
        let loaded = Process(), pipe = Pipe()
        loaded.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        loaded.arguments = ["python3", "-c", "import sys, zmq.auth; print(zmq.auth.load_certificate(sys.argv[1])[0].decode())", "\(folder)/h2.key_secret"]
        loaded.standardOutput = pipe
        try loaded.run()
        let python = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        loaded.waitUntilExit()
        let written = try BusKeyFiles.publicKey(of: "h2", in: folder)
        #expect(python == written, "pyzmq read another key")
        let again = try await gridrig(["keys", folder, "--participants", "h2"])
        #expect(again.output.contains("kept \(folder)/h2.key_secret"))
        #expect(try BusKeyFiles.publicKey(of: "h2", in: folder) == written)
        #expect(try await gridrig(["keys", folder, "--participants", ""]).status == 2)

        let rig = FileManager.default.temporaryDirectory.appendingPathComponent("rig-\(UUID().uuidString).yaml").path
        defer { try? FileManager.default.removeItem(atPath: rig) }
        let text = try String(contentsOfFile: "\(repository)/Rigs/neighborhood.yaml", encoding: .utf8)
        try (text + "bus: {host: 0.0.0.0, publish-port: 5570, subscribe-port: 5571, keys: \(folder)}\n").write(toFile: rig, atomically: true, encoding: .utf8)
        let environment = try await gridrig(["run", rig, "--environment", "h2", "--profiles", "\(repository)/Profiles"])
        #expect(environment.status == 0)
        for line in ["export GRIDRIG_PARTICIPANT='h2'", "export GRIDRIG_BUS_PUBLISH='tcp://127.0.0.1:5570'", "export GRIDRIG_BUS_KEYS='\(folder)'",
                     "export GRIDRIG_HOUSEHOLDS='h1,h2,h3,h4,grid'", "export GRIDRIG_DEVICES='[{"] {
            #expect(environment.output.contains(line), "\(line) in \(environment.output)")
        }
        let stranger = try await gridrig(["run", rig, "--environment", "h9", "--profiles", "\(repository)/Profiles"])
        #expect(stranger.status == 2 && stranger.errors.contains("h9 is neither the market nor a house of the rig (h1, h2, h3, h4)"), "\(stranger)")
        let loose = try await gridrig(["run", "\(repository)/Rigs/neighborhood.yaml", "--environment", "h2", "--profiles", "\(repository)/Profiles"])
        #expect(loose.status == 2 && loose.errors.contains("no fixed ports"), "\(loose)")
    }
}
