import Foundation
import Helics
import TestSupport
import Testing

/// Three Linux network namespaces of the test's own: the conductor's, and one per shard, each shard joined to the
/// conductor's by a veth pair. Addresses are from the documentation ranges (RFC 5737): the first link is
/// 192.0.2.0/24, the second 198.51.100.0/24, the conductor's end .1 of each; each shard routes through it, so that
/// both reach the broker at 192.0.2.1.
private struct Namespaces {
    let conductor: String, shards: [String]
    /// Each shard's address, and the conductor's on its link.
    static let shardHosts = ["192.0.2.2", "198.51.100.2"], conductorHosts = ["192.0.2.1", "198.51.100.1"]

    /// Runs `ip` with `arguments`; true when it succeeded.
    @discardableResult
    static func ip(_ arguments: [String]) -> Bool {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["ip"] + arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return false }
        process.waitUntilExit()
        return process.terminationStatus == 0
    }

    /// Whether this machine lets the test make namespaces: root, iproute2, and a kernel that allows them.
    static let available: Bool = {
        let probe = "grprobe\(getpid() % 100_000)"
        guard getuid() == 0, ip(["netns", "add", probe]) else { return false }
        ip(["netns", "del", probe])
        return true
    }()

    /// Makes the namespaces and links; on any failure removes what it made and throws.
    init() throws {
        let tag = String(getpid() % 100_000)  // interface names hold at most 15 characters
        conductor = "grc\(tag)"
        shards = ["grs1\(tag)", "grs2\(tag)"]
        var commands: [[String]] = [["netns", "add", conductor], ["-n", conductor, "link", "set", "lo", "up"]]
        for (index, shard) in shards.enumerated() {
            let near = "grc\(index + 1)\(tag)", far = "grs\(index + 1)c\(tag)"
            commands += [["netns", "add", shard], ["-n", shard, "link", "set", "lo", "up"],
                         ["link", "add", near, "type", "veth", "peer", "name", far],
                         ["link", "set", near, "netns", conductor], ["link", "set", far, "netns", shard],
                         ["-n", conductor, "addr", "add", Self.conductorHosts[index] + "/24", "dev", near],
                         ["-n", shard, "addr", "add", Self.shardHosts[index] + "/24", "dev", far],
                         ["-n", conductor, "link", "set", near, "up"], ["-n", shard, "link", "set", far, "up"],
                         ["-n", shard, "route", "add", "default", "via", Self.conductorHosts[index]]]
        }
        for command in commands where !Self.ip(command) {
            remove()
            throw NamespaceError(command: "ip " + command.joined(separator: " "))
        }
    }

    struct NamespaceError: Error, CustomStringConvertible {
        let command: String
        var description: String { "could not make the test's namespaces: `\(command)` failed" }
    }

    /// Deletes the namespaces, and with them the veth pairs (a pair goes when either end's namespace does).
    func remove() {
        for namespace in [conductor] + shards { Self.ip(["netns", "del", namespace]) }
    }
}

/// The exports `gridrig run RIG --environment NAME` prints, as an environment.
private func environment(_ exports: String) -> [String: String] {
    var environment: [String: String] = [:]
    for line in exports.split(separator: "\n") where line.hasPrefix("export ") {
        guard let equals = line.firstIndex(of: "=") else { continue }
        let name = String(line.dropFirst("export ".count)[..<equals])
        environment[name] = String(line[line.index(after: equals)...].dropFirst().dropLast()).replacingOccurrences(of: "'\\''", with: "'")
    }
    return environment
}

@Suite("A split run across network stacks", .serialized, .timeLimit(.minutes(5)),
       .enabled(if: Helics.isAvailable, "this build has no HELICS: `make deps` installs it (docs/COSIM.md)"),
       .enabled(if: Namespaces.available, "needs root, iproute2 and a kernel that allows network namespaces"))
struct NetworkNamespaceTests {
    @Test("Two shards and the conductor, each in a network namespace of its own joined by veth pairs, and the market on a shard's host, give the one-process run's series to the last digit; every namespace and link is gone afterwards")
    func splitAcrossNamespaces() async throws {
        let namespaces = try Namespaces()
        defer { namespaces.remove() }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("netns-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        // Each namespace has a port space of its own: the rig's fixed ports are free in all of them.
        let base = try String(contentsOfFile: "\(repository)/Rigs/neighborhood.yaml", encoding: .utf8)
        // The market runs on the second shard's host as an endpoint: the bus crosses the links too, routed to 192.0.2.1.
        // The run waits for it and clears nothing without it, so a run that passes had it clear every interval.
        try (base + "cosim:\n  helics: {broker: \"\(Namespaces.conductorHosts[0]):23500\", start-broker: 3, shards: 2, "
             + "shard-hosts: [\(Namespaces.shardHosts.joined(separator: ", "))]}\n"
             + "bus: {host: \(Namespaces.conductorHosts[0]), publish-port: 5570, subscribe-port: 5571, auth: false}\n"
             + "controller: {market: endpoint}\n").write(toFile: "\(folder)/split.yaml", atomically: true, encoding: .utf8)
        let binary = "\(repository)/.build/debug/gridrig", profiles = "\(repository)/Profiles"
        let exports = try await gridrig(["run", "\(folder)/split.yaml", "--environment", "market", "--profiles", profiles])
        #expect(exports.status == 0, "\(exports.errors)")
        let market = try Child(["ip", "netns", "exec", namespaces.shards[1], binary, "agent", "market"], environment: environment(exports.output))
        defer { market.kill() }
        let shards = try namespaces.shards.enumerated().map { index, namespace in
            try Child(["ip", "netns", "exec", namespace, binary, "emulate", "\(folder)/split.yaml", "--shard", "\(index + 1)/2",
                       "--host", Namespaces.shardHosts[index], "--profiles", profiles], environment: [:])
        }
        let conductor = try Child(["ip", "netns", "exec", namespaces.conductor, binary, "run", "\(folder)/split.yaml", "--hours", "2",
                                   "--profiles", profiles, "--out", "\(folder)/split"], environment: [:])
        let (runExit, shardExits) = try await offPool {
            let runExit = conductor.exit(within: .seconds(180))
            return (runExit, shards.map { $0.exit(within: .seconds(20)) })
        }
        let one = try await gridrig(["run", "Rigs/neighborhood.yaml", "--hours", "2", "--first-port", "0", "--out", "\(folder)/one"])
        #expect(runExit == 0, "\(conductor.standardError)")
        #expect(shardExits == [0, 0], "\(shards.map(\.standardError))")
        #expect(one.status == 0, "\(one.errors)")
        // The conductor's agents read the shards' devices at the shards' addresses, across the links.
        let devices = try String(contentsOfFile: "\(folder)/split/devices.txt", encoding: .utf8)
        #expect(devices.contains("192.0.2.2:1502") && devices.contains("198.51.100.2:1506"), "\(devices)")
        let split = try String(contentsOfFile: "\(folder)/split/series.csv", encoding: .utf8)
        #expect(split.split(separator: "\n").count > 700)
        #expect(split == (try String(contentsOfFile: "\(folder)/one/series.csv", encoding: .utf8)))
        namespaces.remove()
        #expect(!([namespaces.conductor] + namespaces.shards).contains { Namespaces.ip(["netns", "pids", $0]) }, "a namespace outlived the test")
    }
}
