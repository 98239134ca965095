import Emulators
import Foundation
@testable import Harness
import Logging
import Modbus
import Testing

/// Threads of this process now.
private var threads: Int { (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task").count) ?? 0 }

@Suite("Scale: descriptors, threads and generated neighborhoods in one process", .serialized, .timeLimit(.minutes(5)))
struct ScaleTests {
    @Test("After the process has opened more than 1,024 descriptors, a run still works: every device connection lies past select(2)'s reach")
    func pastFDSetSize() throws {
        DescriptorLimit.raise()
        var held: [Int32] = []
        defer { for descriptor in held { close(descriptor) } }
        while held.count < 1_100 {
            let descriptor = open("/dev/null", O_RDONLY)
            try #require(descriptor >= 0, "could not open descriptor \(held.count): errno \(errno)")
            held.append(descriptor)
        }
        #expect(held.last! > 1_024)
        let report = try run(try rig(hours: 2))
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
