import Foundation
import Run
import TestSupport
import Testing

/// The command line as README's table promises it: one exit-code table, flags that mean one thing, help that the
/// parser wraps.
@Suite("The gridrig command line", .serialized)
struct CommandLineTests {
    static let commands: [[String]] = [[], ["run"], ["certify"], ["stress"], ["emulate"], ["market"], ["market", "clear"], ["agent"],
                                       ["agent", "household"], ["agent", "market"], ["keys"]]

    @Test("Every command's help fits 80 columns and is wrapped by the parser: no line could have taken the next line's first word")
    func helpWraps() async throws {
        for command in Self.commands {
            let help = try await gridrig(command + ["--help"])
            #expect(help.status == 0, "\(command)")
            let lines = help.output.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            // The usage line is the parser's own, one line however long.
            for line in lines where !line.hasPrefix("USAGE:") { #expect(line.count <= 80, "gridrig \(command.joined(separator: " ")) --help: \(line)") }
            for (line, next) in zip(lines, lines.dropFirst()) {
                let indent = next.prefix { $0 == " " }.count
                // Example command lines keep the breaks they were written with.
                guard indent == line.prefix(while: { $0 == " " }).count, let first = next.dropFirst(indent).split(separator: " ").first,
                      first.first?.isLowercase == true, !["gridrig", "cat"].contains(first), !line.trimmingCharacters(in: .whitespaces).isEmpty else { continue }
                // The parser keeps lines under 80 columns: a word that would have made 80 or more went to the next line.
                #expect(line.count + 1 + first.count >= 80, "gridrig \(command.joined(separator: " ")) --help wraps early:\n\(line)\n\(next)")
            }
        }
    }

    @Test("Exit status 2 for bad input, whatever the command: an unknown flag, a value outside a closed set, a malformed list, a bad file",
          arguments: [["run", "Rigs/neighborhood.yaml", "--bogus"], ["run", "Rigs/neighborhood.yaml", "--log-level", "loud"],
                      ["run", "no-such-rig.yaml"], ["emulate", "--profile", "Profiles/sunspec-inverter.yaml", "--weather", "rainy"],
                      ["emulate", "Rigs/neighborhood.yaml", "--port", "1502"], ["stress", "--lengths", "1,x"],
                      ["certify", "--role", "household", "--cases", "a,,b", "--endpoint"], ["keys", "/tmp/k", "--participants", "a/b"],
                      ["market", "clear", "no-such-bids.json"], ["agent", "market"]])
    func badInput(arguments: [String]) async throws {
        let result = try await gridrig(arguments)
        #expect(result.status == 2, "gridrig \(arguments.joined(separator: " ")): \(result.status) \(result.errors)")
        #expect(!result.errors.isEmpty)
    }

    @Test("A house name that is no house name is refused where it arrives, naming the option", .timeLimit(.minutes(1)),
          arguments: [(["agent", "market"], "--households", "h1,h/2"), (["agent", "household"], "--house", "h 2"),
                      (["certify", "--role", "household", "--endpoint"], "--house", "h2,h3")])
    func badHouse(command: [String], option: String, value: String) async throws {
        let result = try await gridrig(command + [option, value])
        #expect(result.status == 2)
        #expect(result.errors.contains("The value '\(value)' is invalid for '\(option)"), "\(result.errors)")
    }

    @Test("A house name from the environment is parsed where it arrives, naming the variable", .timeLimit(.minutes(1)),
          arguments: [(["agent", "market"], "GRIDRIG_HOUSEHOLDS", "h1, h2,h/3", "h/3"), (["agent", "household"], "GRIDRIG_PARTICIPANT", "h,2", "h,2")])
    func badHouseInEnvironment(command: [String], variable: String, value: String, found: String) async throws {
        // The bus's endpoints are given (nothing listens there): only the house is wrong.
        let result = try await gridrig(command, environment: [variable: value, "GRIDRIG_BUS_PUBLISH": "tcp://127.0.0.1:9", "GRIDRIG_BUS_SUBSCRIBE": "tcp://127.0.0.1:9"])
        #expect(result.status == 2)
        #expect(result.errors.contains("\(variable): expected a house name (letters, digits, '-', '_' or '.'), found \"\(found)\""), "\(result.errors)")
    }

    @Test("A temporary folder where the capture's file cannot be made stops the run at its start, exit 3, naming the folder")
    func noTemporaryFolder() async throws {
        let ran = try await gridrig(["run", "Rigs/neighborhood.yaml", "--hours", "0.25", "--first-port", "0", "--out", "/tmp/unused-\(UUID().uuidString)"],
                                    environment: ["TMPDIR": "/nonexistent-gridrig-tmp"])
        #expect(ran.status == 3, "\(ran.errors)")
        #expect(ran.errors.contains("the bus capture's temporary file in /nonexistent-gridrig-tmp"), "\(ran.errors)")
    }

    @Test("One log-level option in every command that logs, taking the levels by name, with one default")
    func logLevel() async throws {
        for command in [["run"], ["certify"], ["stress"], ["emulate"], ["agent", "household"], ["agent", "market"]] {
            let help = try await gridrig(command + ["--help"])
            let text = help.output.split(whereSeparator: \.isWhitespace).joined(separator: " ")
            #expect(text.contains("--log-level <log-level> How much to log on standard error. (values: trace, debug, info, notice, warning, error, critical; default: notice)"),
                    "gridrig \(command.joined(separator: " "))")
        }
    }
}

@Suite("A bench that tells where everything is", .serialized)
struct BenchLayoutTests {
    @Test("gridrig run serves the devices at the rig's ports (first-port and on), prints where before the first interval, and writes devices.txt")
    func runTellsWhere() async throws {
        let first = freeConsecutivePorts(12)
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("bench-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let result = try await gridrig(["run", "Rigs/neighborhood.yaml", "--hours", "0.1", "--first-port", "\(first)", "--out", folder])
        #expect(result.status == 0, "\(result.errors)")
        let table = try String(contentsOfFile: "\(folder)/devices.txt", encoding: .utf8)
        // Devices in file order from first-port: h1's PV, then its battery; Alfen answers on units 1 and 200.
        let rows = table.split(separator: "\n").map { $0.split(separator: " ", omittingEmptySubsequences: true).map(String.init) }
        #expect(rows.contains(["h1/pv", "inverter", "sunspec-inverter", "127.0.0.1:\(first)", "1"]), "\(table)")
        #expect(rows.contains(["h1/battery", "battery", "sunspec-battery", "127.0.0.1:\(first + 1)", "1"]), "\(table)")
        #expect(rows.filter { $0.first == "h2/ev" }.map { $0.last } == ["1", "200"], "\(table)")
        // Printed before the first interval's verdict: the table heads the output.
        #expect(result.output.hasPrefix(table.trimmingCharacters(in: .newlines)), "\(result.output.prefix(400))")
    }

    @Test("A rig whose controller runs elsewhere cannot put its devices on free ports: the controller could not find them")
    func endpointNeedsFixedPorts() async throws {
        let loaded = try rig(hours: 1, appending: """
            bus: {publish-port: 5570, subscribe-port: 5571}
            controller: {households: {h2: endpoint}}
            """)
        #expect(throws: RunError.self) { try RunSession.endpointEnvironment(loaded, participant: "h2", options: RunOptions(profiles: "\(repository)/Profiles")) }
        do {
            _ = try await run(loaded)
            Issue.record("the run started")
        } catch let error as RunError {
            #expect(error.isBadInput && error.message.contains("h1/pv would be on a free port"), "\(error)")
        }
    }
}
