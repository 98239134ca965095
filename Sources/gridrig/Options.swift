public import ArgumentParser
public import Conformance
import Foundation
public import Logging
public import Physics
import Rigs

extension Logger.Level: @retroactive ExpressibleByArgument {}
extension ConformanceRole: ExpressibleByArgument {}
extension HouseID: ExpressibleByArgument {
    public init?(argument: String) { try? self.init(parsing: argument) }
}

/// The log level, the same option with the same default in every command.
struct LogOptions: ParsableArguments {
    @Option(help: "How much to log on standard error.")
    var logLevel: Logger.Level = .notice

    func logger(_ label: String) -> Logger {
        var logger = Logger(label: label)
        logger.logLevel = logLevel
        return logger
    }
}

/// A clock to run under, as rigs name them: `lockstep`, `realtime`, or `accelerated:N` (N simulated seconds per
/// wall second).
struct ClockChoice: ExpressibleByArgument {
    let clock: RunSettings.Clock
    /// As given on the command line, for help texts.
    let defaultValueDescription: String

    static let lockstep = ClockChoice(clock: .lockstep, name: "lockstep")

    private init(clock: RunSettings.Clock, name: String) {
        self.clock = clock
        defaultValueDescription = name
    }

    init?(argument: String) {
        switch argument {
        case "lockstep": clock = .lockstep
        case "realtime": clock = .paced(speed: 1)
        default:
            guard argument.hasPrefix("accelerated:"), let speed = Double(argument.dropFirst("accelerated:".count)), speed > 0, speed <= 1000 else { return nil }
            clock = .paced(speed: speed)
        }
        defaultValueDescription = argument
    }
}

/// A comma-separated list, each item parsed as `Element`: `--cases a,b`.
struct CommaList<Element: ExpressibleByArgument>: ExpressibleByArgument {
    let items: [Element]

    init?(argument: String) {
        let parsed = argument.split(separator: ",", omittingEmptySubsequences: false)
            .map { Element(argument: $0.trimmingCharacters(in: .whitespaces)) }
        guard !parsed.isEmpty, !parsed.contains(where: { $0 == nil }) else { return nil }
        items = parsed.compactMap { $0 }
    }
}

/// A program GridRig starts as the controller under test: its words after `--`, as `env` and `docker run` take
/// theirs. The older `--command PROGRAM ARGS...` still works, but since it takes the rest of the line, an option of
/// the GridRig command found after it is refused rather than handed to the program.
struct ControllerProgram: ParsableArguments {
    @Argument(parsing: .postTerminator, help: ArgumentHelp("The controller's program and its arguments, after --.", valueName: "program"))
    var words: [String] = []

    @Option(name: .customLong("command"), parsing: .remaining, help: .hidden)
    var legacy: [String] = []

    var program: [String] { words.isEmpty ? legacy : words }

    /// Refuses `--command` words that are options of `command` (the GridRig command parsing this).
    func check(for command: any ParsableCommand.Type) throws {
        guard words.isEmpty, !legacy.contains("--") else {
            guard legacy.isEmpty else { throw ValidationError("give the controller's program once: after -- (or after the older --command), not both.") }
            return
        }
        for word in legacy where word.hasPrefix("--") && Self.isOption(word, of: command) {
            let name = command._commandName
            throw ValidationError("\(word) comes after --command, so it would go to the controller, not to gridrig \(name). "
                + "Give gridrig's options first and the controller's program last, after --: "
                + "gridrig \(name) ... \(word) ... -- \(legacy.prefix { $0 != word }.joined(separator: " "))")
        }
    }

    /// Whether `word` (`--name` or `--name=value`) names an option of `command`: parsing it alone fails for another
    /// reason than an unknown option.
    private static func isOption(_ word: String, of command: any ParsableCommand.Type) -> Bool {
        do {
            _ = try command.parse([String(word.prefix { $0 != "=" })])
            return true
        } catch {
            return !command.message(for: error).contains("Unknown option")
        }
    }
}
