import ArgumentParser
import Files
import Foundation
import Logging
import Reports
import RigFiles
import Rigs
import Run
import Verdict

struct Run: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a rig against the reference controller and give a verdict on every assertion.",
        discussion: """
            Serves the rig's devices, starts the broker, the market and a household agent per house, runs every interval (lockstep unless the rig says otherwise), then checks the assertions on the physics, the bus capture and the write logs. Files go to runs/<rig>-<time>/ (or --out): report.html (charts), summary.txt, results.json, junit.xml, capture.jsonl, writes.csv, series.csv.

            Exit status: 0 every assertion passed, 1 an assertion failed, 2 bad input, 3 the run itself failed (a participant crashed or never became ready).
            """)

    @Argument(help: "The rig file.")
    var rig: String

    @Option(help: "Folder for the run's files (default: runs/<rig>-<time>).")
    var out: String?

    @Option(help: "Folder of profiles that the rig names.")
    var profiles: String = "Profiles"

    @Option(help: "Serve devices from this port on, as the rig numbers them (default: the rig's first-port; 0: free ports).")
    var firstPort: UInt16?

    @Option(help: "Simulated hours to run instead of the rig's duration.")
    var hours: Double?

    @Option(help: ArgumentHelp("The clock instead of the rig's: lockstep, realtime, or accelerated:N (N simulated seconds per wall second).",
                               valueName: "clock"))
    var clock: ClockChoice?

    @Option(help: "Seconds every participant has to say ready (controllers running elsewhere may need longer).")
    var readyTimeout: Double = 30

    @Option(help: "A file whose faults: list replaces the rig's own (docs/FAULTS.md).")
    var faults: String?

    @Option(help: ArgumentHelp("The HELICS broker of a co-simulation rig, instead of the rig's own (docs/COSIM.md).", valueName: "host:port"))
    var helicsBroker: String?

    @Flag(help: "Also run the rig with no controller (devices on their own defaults) and report both side by side.")
    var baseline = false

    @OptionGroup var log: LogOptions

    @Option(help: ArgumentHelp("Print the environment of a controller running elsewhere (an endpoint) as shell exports, and exit.",
                               valueName: "participant"))
    var environment: String?

    func validate() throws {
        guard hours.map({ $0 > 0 && $0.isFinite }) ?? true else { throw ValidationError("--hours must be a positive number.") }
        guard readyTimeout > 0, readyTimeout.isFinite else { throw ValidationError("--ready-timeout must be a positive number of seconds.") }
        try validateBroker(helicsBroker)
    }

    func run() async throws {
        let logger = log.logger("gridrig.run")
        let loaded = try loadRig()
        if let environment {
            do {
                let values = try RunSession.endpointEnvironment(loaded, participant: environment, options: RunOptions(profiles: profiles))
                print(RunSession.shellExports(values), terminator: "")
                return
            } catch {
                FileHandle.standardError.write(Data("error: \(error)\n".utf8))
                throw ExitCode(2)
            }
        }
        let folder = out ?? "runs/\(loaded.name)-\(Self.timestamp())"
        if loaded.run.hasEndpoints { announceEndpoints(of: loaded) }
        let stop = StopSignal()
        let interactive = isatty(STDERR_FILENO) == 1
        var record: RunRecord
        do {
            record = try RunSession.run(loaded, options: RunOptions(profiles: profiles, readyTimeout: .seconds(readyTimeout)), logger: logger,
                                        served: { places in say(DevicePlace.table(places).description) }, progress: Self.progressLines(interactive: interactive),
                                        shouldStop: { stop.isRaised })
        } catch {
            FileHandle.standardError.write(Data("\(interactive ? "\n" : "")error: \(error)\n".utf8))
            throw ExitCode(error.isBadInput ? 2 : 3)
        }
        if interactive { FileHandle.standardError.write(Data("\n".utf8)) }
        if baseline {
            do {
                record.baseline = try RunSession.baseline(loaded, options: RunOptions(profiles: profiles), logger: logger)
            } catch {
                FileHandle.standardError.write(Data("error: \(error)\n".utf8))
                throw ExitCode(3)
            }
        }
        let report: RunReport
        do {
            report = try RunReport.write(record, to: folder) { say($0.table) }
            say("Report: \(folder)/report.html\n  (and summary.txt results.json junit.xml capture.jsonl writes.csv series.csv\n  devices.txt)")
        } catch {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            throw ExitCode(3)
        }
        if stop.isRaised {
            FileHandle.standardError.write(Data("stopped early by a signal\n".utf8))
            throw ExitCode(3)
        }
        if let failure = record.clockFailure {
            FileHandle.standardError.write(Data("error: \(failure)\n".utf8))
            throw ExitCode(3)
        }
        if !report.passed { throw ExitCode(1) }
    }

    /// The rig with the command's overrides (hours, clock, HELICS broker); a rig that does not load exits 2.
    private func loadRig() throws -> Rig {
        var loaded: Rig
        do {
            loaded = try RigLoader.load(file: rig, profiles: profiles, firstPort: firstPort, faultsFile: faults)
        } catch {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            throw ExitCode(2)
        }
        if let hours { loaded.run.duration = hours * 3600 }
        if let clock { loaded.run.clock = clock.clock }
        if let helicsBroker { loaded.run.cosim?.broker = helicsBroker }
        return loaded
    }

    /// Says where the controllers running elsewhere join, while the run waits for them.
    private func announceEndpoints(of loaded: Rig) {
        let bus = loaded.run.bus
        FileHandle.standardError.write(Data(("Waiting up to \(Int(readyTimeout)) s for the controllers running elsewhere to join the bus: publish to "
            + "tcp://\(bus.host):\(bus.publishPort), subscribe at tcp://\(bus.host):\(bus.subscribePort); devices are at the rig's ports"
            + (bus.authenticates ? "; CURVE keys from \(bus.keys ?? "?")" : "; no authentication")
            + " (their environment: gridrig run \(rig) --environment NAME).\n").utf8))
    }

    /// A run's progress on standard error: one line rewritten in place on a terminal; else a line every 2 s, and the last.
    private static func progressLines(interactive: Bool) -> (RunProgress) -> Void {
        var lastLine = ContinuousClock.now
        return { progress in
            let line = "simulated \(formatTime(progress.time)) interval \(progress.interval)/\(progress.intervals): "
                + "\(progress.complete) complete, \(progress.incomplete) incomplete"
            if interactive {
                FileHandle.standardError.write(Data("\r\(line)\u{1B}[K".utf8))
            } else if lastLine.duration(to: .now) > .seconds(2) || progress.interval == progress.intervals {
                FileHandle.standardError.write(Data((line + "\n").utf8))
                lastLine = .now
            }
        }
    }

    /// "yyyyMMdd-HHmmss" now, for default output folders.
    static func timestamp() -> String {
        let formatter = DateFormatter()
        formatter.dateFormat = "yyyyMMdd-HHmmss"
        formatter.locale = Locale(identifier: "en_US_POSIX")
        return formatter.string(from: Date())
    }
}
