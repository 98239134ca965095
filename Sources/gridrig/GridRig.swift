import ArgumentParser
import Foundation

@main
struct GridRig: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gridrig",
        abstract: "Hardware-in-the-loop test harness for transactive-energy microgrids.",
        discussion: """
            Emulated solar inverters, batteries, thermostats, EV chargers and site meters speak Modbus TCP like the real products.

            Exit status, every command: 0 passed (or done), 1 a verdict failed (an assertion, a requirement, a saturated step), 2 bad input (a file, a flag, a value), 3 GridRig itself failed.
            """,
        subcommands: [Run.self, Certify.self, Stress.self, Emulate.self, MarketCommand.self, AgentCommand.self, KeysCommand.self])

    /// Parses and runs the command with the exit statuses of the table above: the parser's own usage errors (its
    /// 64) are bad input, 2; any other error not already an exit status is GridRig's own failure, 3.
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var asynchronous = command as? any AsyncParsableCommand {
                try await asynchronous.run()
            } else {
                try command.run()
            }
        } catch let code as ExitCode {
            exit(withError: code)
        } catch {
            switch exitCode(for: error) {
            case .success: exit(withError: error)  // --help, --version
            case .validationFailure:
                FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
                exit(withError: ExitCode(2))
            default:
                FileHandle.standardError.write(Data("error: \(fullMessage(for: error))\n".utf8))
                exit(withError: ExitCode(3))
            }
        }
    }
}
