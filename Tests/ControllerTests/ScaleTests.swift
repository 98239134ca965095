import Emulators
@testable import Files
import Foundation
import Logging
import Modbus
@testable import Reports
@testable import Rigs
@testable import Run
import TestSupport
import Testing
@testable import Verdict

/// Threads of this process now.
private var threads: Int { (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task").count) ?? 0 }

@Suite("Scale: descriptors, threads and generated neighborhoods in one process", .serialized, .timeLimit(.minutes(10)))
struct ScaleTests {
    @Test("After the process has opened more than 1,024 descriptors, a run still works: every device connection lies past select(2)'s reach")
    func pastFDSetSize() async throws {
        DescriptorLimit.raise()
        var held: [Int32] = []
        defer { for descriptor in held { close(descriptor) } }
        while held.count < 1_100 {
            let descriptor = open("/dev/null", O_RDONLY)
            try #require(descriptor >= 0, "could not open descriptor \(held.count): errno \(errno)")
            held.append(descriptor)
        }
        #expect(held.last! > 1_024)
        let report = try await run(try rig(hours: 2))
        #expect(report.passed, "\(report.results.filter { !$0.passed }.map(\.detail))")
        #expect(report.record.intervals.count == 24)
    }

    @Test("Eighty houses run on a few shared loops, no thread per household; their report gives spreads and distributions, not a line per device")
    func noThreadPerHousehold() throws {
        let eighty = try rig(hours: 1, appending: "neighborhood: {houses: 80}\n")
        #expect(Set(eighty.devices.compactMap(\.house)).count == 80)
        let before = threads
        var most = 0
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let record = try RunSession.run(eighty, options: RunOptions(profiles: "\(repository)/Profiles", readyTimeout: .seconds(8)), logger: logger,
                                        progress: { _ in most = max(most, threads) })
        #expect(record.intervals.count == 12)
        // A thread per household adds 80; the loops add a dozen, and suites running alongside add their own.
        #expect(most - before < 50, "\(before) threads before the run, \(most) during it")
        // The report of eighty houses: the spread of the households' costs, not a row each; charts of distributions.
        let report = RunReport(record)
        #expect(report.passed, "\(report.results.filter { !$0.passed }.map(\.detail))")
        let rows = report.comparison.rows.map { $0[0] }
        #expect(rows.contains("household cost, median, $") && !rows.contains("h1 cost, $"), "\(rows)")
        let html = HTMLReport(report).html
        #expect(html.contains("median of"), "no distribution lines")
        #expect(!html.contains("<title>h1-2/ev</title>"), "a line per device at eighty houses")
        #expect(html.contains("Devices that deviated most from their awards"))
    }

    /// `cd Benchmarks && make scale` runs the same rig for a whole day at the same seeds, release builds, every
    /// threshold at its default. Here the reference agents are debug builds sharing two cores with the other suites,
    /// so the two wall-clock latencies get 10 s (a debug agent at 1,000 houses took 1.7 s at p99 on a loaded CI
    /// machine): every other assertion judges exactly what it judges at 4 houses.
    @Test("The generated 1,000-house neighborhood passes every assertion over its first 15 minutes, at seeds 1 to 3", arguments: [1, 2, 3])
    func thousandHouses(seed: Int) async throws {
        let base = try String(contentsOfFile: "\(repository)/Rigs/neighborhood-20.yaml", encoding: .utf8)
        let checks = AssertionSpec.defaults.map { spec in
            "  \(spec.kind.name): " + ([.clearingLatency, .dispatchLatency].contains(spec.kind) ? "{p99-ms: 10000}" : "true")
        }
        let text = base.replacingOccurrences(of: "first-port: 1602", with: "first-port: 0").replacingOccurrences(of: "seed: 20", with: "seed: \(seed)")
            + "assertions:\n" + checks.joined(separator: "\n") + "\n"
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("scale-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try (text + "neighborhood: {houses: 1000}\n").write(toFile: "\(folder)/rig.yaml", atomically: true, encoding: .utf8)
        let run = try Child(["\(repository)/.build/debug/gridrig", "run", "\(folder)/rig.yaml", "--profiles", "\(repository)/Profiles", "--hours", "0.25",
                             "--out", "\(folder)/out"], environment: [:])
        let status = try await offPool { run.exit(within: .seconds(240)) }
        #expect(status == 0, "\(run.standardError)")
        let results = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(folder)/out/results.json"))) as? [String: Any]
        let assertions = try #require(results?["assertions"] as? [[String: Any]])
        #expect((results?["household_cost"] as? [String: Any])?.count == 1_000)
        #expect(assertions.count == AssertionSpec.defaults.count)
        let failed = assertions.filter { $0["passed"] as? Bool != true || $0["judged"] as? Bool != true }
        #expect(failed.isEmpty, "\(failed)")
        #expect((results?["intervals"] as? Int) == 3)
    }

    @Test("A rig that needs more descriptors than the hard limit allows is refused before anything starts, naming what to raise")
    func pastTheLimit() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("rig-\(UUID().uuidString).yaml").path
        let text = try String(contentsOfFile: "\(repository)/Rigs/neighborhood.yaml", encoding: .utf8) + "neighborhood: {houses: 200}\n"
        _ = FileManager.default.createFile(atPath: path, contents: Data(text.utf8))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let process = Process(), errors = Pipe()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = ["-c", "ulimit -n 300 && exec \"$0\" run \"$1\"", "\(repository)/.build/debug/gridrig", path]
        process.currentDirectoryURL = URL(fileURLWithPath: repository)
        process.standardOutput = FileHandle.nullDevice
        process.standardError = errors
        try process.run()
        let complaint = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus != 0)
        #expect(process.terminationReason == .exit, "it must exit, not abort")
        #expect(complaint.contains("file descriptors"), "\(complaint)")
        #expect(complaint.contains("hard limit 300"), "\(complaint)")
        #expect(complaint.contains("ulimit -Hn"), "\(complaint)")
    }
}
