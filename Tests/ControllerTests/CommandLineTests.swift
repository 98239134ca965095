import Foundation
import Testing

/// The command line as README's table promises it: one exit-code table, flags that mean one thing, help that the
/// parser wraps.
@Suite("The gridrig command line", .serialized)
struct CommandLineTests {
    static let commands: [[String]] = [[], ["run"], ["certify"], ["stress"], ["emulate"], ["market"], ["market", "clear"], ["agent"],
                                       ["agent", "household"], ["agent", "market"], ["keys"]]

    @Test("Every command's help fits 80 columns and is wrapped by the parser: no line could have taken the next line's first word")
    func helpWraps() throws {
        for command in Self.commands {
            let help = try gridrig(command + ["--help"])
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
    func badInput(arguments: [String]) throws {
        let result = try gridrig(arguments)
        #expect(result.status == 2, "gridrig \(arguments.joined(separator: " ")): \(result.status) \(result.errors)")
        #expect(!result.errors.isEmpty)
    }

    @Test("One log-level option in every command that logs, taking the levels by name, with one default")
    func logLevel() throws {
        for command in [["run"], ["certify"], ["stress"], ["emulate"], ["agent", "household"], ["agent", "market"]] {
            let help = try gridrig(command + ["--help"])
            let text = help.output.split(whereSeparator: \.isWhitespace).joined(separator: " ")
            #expect(text.contains("--log-level <log-level> How much to log on standard error. (values: trace, debug, info, notice, warning, error, critical; default: notice)"),
                    "gridrig \(command.joined(separator: " "))")
        }
    }
}
