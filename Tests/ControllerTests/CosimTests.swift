import Foundation
import Helics
import TestSupport
import Testing

/// Whether python3 can import `module`.
private func pythonHas(_ module: String) -> Bool {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["python3", "-c", "import \(module)"]
    process.standardError = FileHandle.nullDevice
    guard (try? process.run()) != nil else { return false }
    process.waitUntilExit()
    return process.terminationStatus == 0
}

private let cosimReady = Helics.isAvailable && pythonHas("helics") && pythonHas("pandapower")
private let cosimMissing = Comment(rawValue: Helics.isAvailable
    ? "needs the helics and pandapower Python packages for the feeder federate: `make deps` installs them (docs/COSIM.md)"
    : "this build has no HELICS: `make deps` installs the helics wheel and its pkg-config file, then rebuild (docs/COSIM.md)")

/// A run's series.csv as columns by name.
private func series(_ folder: String) throws -> [String: [Double]] {
    let lines = try String(contentsOfFile: "\(folder)/series.csv", encoding: .utf8).split(separator: "\n")
    let names = lines[0].split(separator: ",").map(String.init)
    var columns: [String: [Double]] = [:]
    for line in lines.dropFirst() {
        for (name, field) in zip(names, line.split(separator: ",", omittingEmptySubsequences: false)) { columns[name, default: []].append(Double(field) ?? .nan) }
    }
    return columns
}

/// A verdict's result by assertion, from results.json.
private func verdict(_ folder: String) throws -> [String: [String: Any]] {
    let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(folder)/results.json"))) as? [String: Any]
    let assertions = json?["assertions"] as? [[String: Any]] ?? []
    return Dictionary(uniqueKeysWithValues: assertions.compactMap { entry in (entry["name"] as? String).map { ($0, entry) } })
}

private func folder(_ name: String) -> String {
    FileManager.default.temporaryDirectory.appendingPathComponent("cosim-\(name)-\(UUID().uuidString)").path
}

@Suite("Co-simulation through HELICS: a feeder's voltages, the inverters' curves and trips, a split run", .serialized, .enabled(if: cosimReady, cosimMissing),
       .timeLimit(.minutes(5)))
struct CosimTests {
    @Test("The feeder federate's voltages reach the inverters' registers (pymodbus and pysunspec2 read them during the run); with the curves on the far inverters curtail and absorb, the voltage stays within range A and nothing trips")
    func curvesOn() async throws {
        let ports = freeConsecutivePorts(7), broker = freeConsecutivePorts(2), out = folder("on"), watched = out + "-h6.jsonl"
        // h6/pv is the sixth device: the rig numbers its devices from --first-port.
        let watcher = try Child(["python3", "\(repository)/Tests/PeerTests/peers/sunspec_voltage_watch.py", "\(ports + 5)", watched, "240"], environment: [:])
        let result = try await gridrig(["run", "Rigs/feeder-voltage.yaml", "--hours", "4", "--first-port", "\(ports)", "--helics-broker", "127.0.0.1:\(broker)",
                                        "--out", out])
        _ = try await offPool { watcher.exit(within: .seconds(30)) }
        #expect(result.status == 0, "\(result.output)\n\(result.errors)")
        let results = try verdict(out)
        #expect(results["voltage-range"]?["passed"] as? Bool == true)
        #expect(results["inverter-trips"]?["passed"] as? Bool == true)
        #expect((results["inverter-trips"]?["measured"] as? String)?.hasPrefix("0 trips") == true)

        let columns = try series(out)
        let farVolts = try #require(columns["h6/voltage"]), nearPower = try #require(columns["h1/pv/power"]), farPower = try #require(columns["h6/pv/power"])
        #expect(farVolts.max()! > 1.02 * 230, "the far end's voltage rose: \(farVolts.max()!) V")
        #expect(farVolts.max()! <= 1.05 * 230)
        // Same array, same sun: the far inverter gives up most of what the near one produces, to its curves.
        #expect(farPower.last! < 0.6 * nearPower.last!, "h6 \(farPower.last!) kW against h1 \(nearPower.last!) kW")

        let reads = try String(contentsOfFile: watched, encoding: .utf8).split(separator: "\n").compactMap {
            try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Double]
        }
        #expect(reads.count >= 5, "pysunspec2 read the inverter \(reads.count) times")
        let served = Set(farVolts.map { ($0 * 10).rounded() / 10 })
        let volts = reads.compactMap { $0["V"] }
        #expect(volts.contains { $0 > 235 }, "PhVphA read \(volts)")
        #expect(volts.allSatisfy { served.contains(($0 * 10).rounded() / 10) }, "every voltage read is one the feeder gave")
        let plain = reads.compactMap { $0["pymodbusV"] }
        #expect(plain.count == reads.count && plain.contains { $0 > 235 }, "pymodbus read PhVphA \(plain)")
        #expect(plain.allSatisfy { served.contains(($0 * 10).rounded() / 10) })
        #expect(reads.compactMap { $0["VAr"] }.contains { $0 < -100 }, "volt-var absorbed")
    }

    @Test("With the curves off, the far inverter trips on over-voltage: the verdict fails voltage-range and inverter-trips, and counts the trips by inverter")
    func curvesOff() async throws {
        let ports = freeConsecutivePorts(7), broker = freeConsecutivePorts(2), out = folder("off")
        let result = try await gridrig(["run", "Rigs/feeder-voltage-curves-off.yaml", "--hours", "4", "--first-port", "\(ports)",
                                        "--helics-broker", "127.0.0.1:\(broker)", "--out", out])
        #expect(result.status == 1, "\(result.output)\n\(result.errors)")
        let results = try verdict(out)
        #expect(results["voltage-range"]?["passed"] as? Bool == false)
        #expect(results["inverter-trips"]?["passed"] as? Bool == false)
        #expect((results["inverter-trips"]?["detail"] as? String)?.contains("h6/pv: 1") == true, "\(results["inverter-trips"] ?? [:])")
        let columns = try series(out)
        #expect(try #require(columns["h6/voltage"]).max()! > 1.10 * 230)
        #expect(try #require(columns["h6/pv/trips"]).last == 1)
        #expect(try #require(columns["h6/pv/power"]).last == 0)
        #expect(result.output.contains("inverter-trips: h6/pv: 1"))
    }

    @Test("Under one seed, two shards and the conductor in separate processes give the one-process run's series, to the last digit")
    func splitRun() async throws {
        let ports = freeConsecutivePorts(9), broker = "127.0.0.1:\(freeConsecutivePorts(2))"
        let rig = folder("split") + ".yaml"
        let base = try String(contentsOfFile: "\(repository)/Rigs/neighborhood.yaml", encoding: .utf8)
        try (base + "cosim:\n  helics: {broker: \"\(broker)\", start-broker: 3, shards: 2}\n").write(toFile: rig, atomically: true, encoding: .utf8)
        let binary = "\(repository)/.build/debug/gridrig"
        let shards = try (1...2).map { shard in
            try Child([binary, "emulate", rig, "--shard", "\(shard)/2", "--first-port", "\(ports)", "--profiles", "\(repository)/Profiles"], environment: [:])
        }
        let split = folder("split-run"), one = folder("one-run")
        let splitResult = try await gridrig(["run", rig, "--hours", "6", "--first-port", "\(ports)", "--out", split])
        let shardExits = try await offPool { shards.map { $0.exit(within: .seconds(20)) } }
        let oneResult = try await gridrig(["run", "Rigs/neighborhood.yaml", "--hours", "6", "--first-port", "0", "--out", one])
        #expect(shardExits == [0, 0])
        #expect(splitResult.status == 0 && oneResult.status == 0, "\(splitResult.errors)\n\(oneResult.errors)")
        let splitSeries = try String(contentsOfFile: "\(split)/series.csv", encoding: .utf8)
        let oneSeries = try String(contentsOfFile: "\(one)/series.csv", encoding: .utf8)
        #expect(splitSeries.split(separator: "\n").count > 2000)
        #expect(splitSeries == oneSeries)
    }

    @Test("A split run whose shards never start fails once its ready timeout has passed, saying why, and leaves the federation rather than waiting for it")
    func shardsNeverStart() async throws {
        let rig = folder("alone") + ".yaml", broker = "127.0.0.1:\(freeConsecutivePorts(2))"
        let base = try String(contentsOfFile: "\(repository)/Rigs/neighborhood.yaml", encoding: .utf8)
        try (base + "cosim:\n  helics: {broker: \"\(broker)\", start-broker: 3, shards: 2}\n").write(toFile: rig, atomically: true, encoding: .utf8)
        let run = try Child(["\(repository)/.build/debug/gridrig", "run", rig, "--hours", "1", "--first-port", "0", "--ready-timeout", "3",
                             "--out", folder("alone-run")], environment: [:])
        let status = try await offPool { run.exit(within: .seconds(60)) }
        #expect(status == 3, "still waiting for the federation after 60 s")
        #expect(run.standardError.contains("the federation did not assemble within 3 s"), "\(run.standardError)")
    }

}

@Suite("Shards on the command line")
struct ShardCommandTests {
    @Test("A shard of a rig that is not split, or a shard number past the rig's, is refused with a clear error")
    func badShards() async throws {
        let plain = try await gridrig(["emulate", "Rigs/neighborhood.yaml", "--shard", "1/2"])
        #expect(plain.status == 2)
        #expect(plain.errors.contains("has no cosim key"))
        let past = try await gridrig(["emulate", "Rigs/neighborhood.yaml", "--shard", "3/2"])
        #expect(past.status == 2)
        #expect(past.errors.contains("--shard must be K/N with 1 <= K <= N"))
    }
}
