import Foundation

/// A controller under test that GridRig starts as a process (a rig's `command` role), with the environment of
/// docs/PROTOCOL.md; it is always stopped when the run ends, whatever way it ends.
package final class ControllerProcess {
    let role: String
    private let process = Process()
    private let errorFile: URL

    /// Starts `command` (its first word found on the PATH, or a path); a command that cannot be found is bad input.
    package init(role: String, command: [String], environment: [String: String]) throws(RunError) {
        self.role = role
        guard let program = command.first, let executable = Self.find(program) else {
            throw RunError(message: "\(role): controller command \(command.first.map { "'\($0)'" } ?? "(empty)") not found on the PATH", isBadInput: true)
        }
        errorFile = FileManager.default.temporaryDirectory.appendingPathComponent("gridrig-\(role.replacingOccurrences(of: "/", with: "-"))-\(UUID().uuidString).log")
        _ = FileManager.default.createFile(atPath: errorFile.path, contents: nil)
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = Array(command.dropFirst())
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        process.standardOutput = FileHandle.nullDevice
        process.standardError = try? FileHandle(forWritingTo: errorFile)
        do {
            try process.run()
        } catch {
            throw RunError(message: "\(role): cannot start \(executable): \(error.localizedDescription)", isBadInput: true)
        }
    }

    private static func find(_ program: String) -> String? {
        if program.contains("/") { return FileManager.default.isExecutableFile(atPath: program) ? program : nil }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        return path.split(separator: ":").map { "\($0)/\(program)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Why the process is no longer running, with the end of what it wrote to standard error; nil while it runs.
    package var failure: String? {
        guard !process.isRunning else { return nil }
        return "\(role) exited with status \(process.terminationStatus)" + (lastWords.map { ": \($0)" } ?? "")
    }

    /// The last three lines the process wrote to standard error, joined; nil when it wrote none.
    var lastWords: String? {
        let text = (try? String(contentsOf: errorFile, encoding: .utf8)) ?? ""
        let tail = text.split(separator: "\n").suffix(3).joined(separator: " | ")
        return tail.isEmpty ? nil : tail
    }

    /// Ends the process at once with SIGKILL, as a crash would.
    func kill() {
        Foundation.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        try? FileManager.default.removeItem(at: errorFile)
    }

    /// Waits up to `grace` for the process to end on its own (after the conductor's goodbye), then sends SIGTERM,
    /// and SIGKILL a second later.
    package func stop(grace: Duration = .seconds(3)) {
        let deadline = ContinuousClock.now + grace
        while process.isRunning, ContinuousClock.now < deadline { usleep(20_000) }
        if process.isRunning {
            process.terminate()
            let kill = ContinuousClock.now + .seconds(1)
            while process.isRunning, ContinuousClock.now < kill { usleep(20_000) }
            if process.isRunning { Foundation.kill(process.processIdentifier, SIGKILL) }
        }
        process.waitUntilExit()
        try? FileManager.default.removeItem(at: errorFile)
    }
}
