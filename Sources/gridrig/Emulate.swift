import ArgumentParser
import Dispatch
import Emulators
import Files
import Foundation
import Logging
import Physics
import Reports
import RigFiles
import Rigs
import Run

struct Emulate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve emulated devices over Modbus TCP: one profile, or every device of a rig.",
        discussion: """
            Examples:
              gridrig emulate --profile Profiles/sunspec-inverter.yaml --port 1502
              gridrig emulate Rigs/neighborhood.yaml --speed 60
              gridrig emulate split-rig.yaml --shard 1/2

            Stops on Ctrl-C or SIGTERM, or after --duration seconds of wall-clock time. A shard of a split run (docs/COSIM.md) steps under the time HELICS grants instead, and stops when the run does.
            """)

    @Argument(help: "A rig file whose devices to serve.")
    var rig: String?

    @Option(help: "Serve one device of this profile file instead of a rig.")
    var profile: String?

    @Option(help: "TCP port for --profile (0 picks a free port; default: the profile's).")
    var port: UInt16?

    @Option(help: "With a rig: serve devices from this port on, as the rig numbers them (default: the rig's first-port).")
    var firstPort: UInt16?

    @Option(help: "Unit id for --profile (default: the profile's).")
    var unit: UInt8?

    @Option(help: "Address to listen on.")
    var host: String = "127.0.0.1"

    @Option(help: "Simulated seconds per wall-clock second.")
    var speed: Double = 1

    @Option(help: "Simulated seconds per physics step.")
    var step: Double = 1

    @Option(help: "Simulated time of day to start at, HH:MM.")
    var start: String = "12:00"

    @Option(help: "Stop after this many wall-clock seconds (default: run until Ctrl-C).")
    var duration: Double?

    @Option(help: "With a rig: a file whose faults: list replaces the rig's own (docs/FAULTS.md).")
    var faults: String?

    @Option(help: "Folder of profiles that a rig names.")
    var profiles: String = "Profiles"

    @Option(help: "Weather for --profile.")
    var weather: WeatherChoice = .clear

    @Option(help: ArgumentHelp("With a split rig: serve shard K of its N (its houses' devices, at the rig's ports) as a HELICS federate.",
                               valueName: "K/N"))
    var shard: String?

    @Option(help: ArgumentHelp("With --shard: the HELICS broker, instead of the rig's cosim broker.", valueName: "host:port"))
    var helicsBroker: String?

    @OptionGroup var log: LogOptions

    /// K and N of `--shard K/N`.
    private var shardNumbers: (number: Int, count: Int)? {
        guard let parts = shard?.split(separator: "/"), parts.count == 2, let number = Int(parts[0]), let count = Int(parts[1]),
              count >= 1, (1...count).contains(number) else { return nil }
        return (number, count)
    }

    func validate() throws {
        guard (rig == nil) != (profile == nil) else { throw ValidationError("Give either a rig file or --profile FILE, not both or neither.") }
        guard speed > 0, speed.isFinite else { throw ValidationError("--speed must be a positive number, found \(speed).") }
        guard step > 0, step <= 60 else { throw ValidationError("--step must be in (0, 60] simulated seconds, found \(step).") }
        guard duration.map({ $0 > 0 }) ?? true else { throw ValidationError("--duration must be a positive number of seconds.") }
        guard startSeconds != nil else { throw ValidationError("--start must be a time of day as HH:MM, found '\(start)'.") }
        guard rig == nil || unit == nil else { throw ValidationError("--unit applies to --profile; a rig sets unit ids per device.") }
        guard rig == nil || port == nil else { throw ValidationError("--port applies to --profile; a rig's devices start at --first-port.") }
        guard rig != nil || firstPort == nil else { throw ValidationError("--first-port applies to a rig; one profile's device listens on --port.") }
        guard rig != nil || faults == nil else { throw ValidationError("--faults applies to a rig; its devices are what the faults name.") }
        if let shard {
            guard shardNumbers != nil else { throw ValidationError("--shard must be K/N with 1 <= K <= N, found '\(shard)'.") }
            guard rig != nil else { throw ValidationError("--shard applies to a rig: a shard serves some of its houses.") }
            guard duration == nil else { throw ValidationError("--duration does not apply to a shard: it runs as long as the run it belongs to.") }
        }
        guard shard != nil || helicsBroker == nil else { throw ValidationError("--helics-broker applies to a shard (--shard K/N).") }
        try validateBroker(helicsBroker)
    }

    private var startSeconds: Double? { secondsSinceMidnight(start) }

    func run() async throws {
        let logger = log.logger("gridrig.emulate")
        let specs: [DeviceSpec]
        let weatherCurve: DayCurve
        var baseLoads: [HouseID: BaseLoad] = [:]
        var faults: FaultPlan?
        var outages: [GridOutage] = [], gridEvents: [GridEvent] = []
        var startTime = startSeconds ?? 43_200
        do {
            if let rig {
                let loaded = try RigLoader.load(file: rig, profiles: profiles, firstPort: firstPort, faultsFile: self.faults)
                specs = loaded.devices
                weatherCurve = loaded.weather
                baseLoads = loaded.baseLoads
                startTime = loaded.start ?? startTime
                faults = loaded.faults.isEmpty ? nil : FaultPlan(loaded.faults, seed: loaded.seed)
                outages = loaded.run.faults.outages
                gridEvents = loaded.run.faults.gridEvents
            } else {
                let loaded = try ProfileLoader.load(file: profile!)
                specs = [DeviceSpec(id: DeviceID(house: "bench", name: loaded.name), house: nil, profile: loaded, port: port ?? loaded.defaultPort,
                                    unit: unit)]
                weatherCurve = weather.curve
            }
        } catch {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            throw ExitCode(2)
        }
        if let (number, count) = shardNumbers, let rig {
            try runShard(rig: rig, number: number, of: count, logger: logger)
            return
        }
        let fleet: Fleet
        do {
            try RunSession.reserveDescriptors(devices: specs.count, each: 2, for: "each of the \(specs.count) devices (its listening socket and one client's connection)")
            fleet = try Fleet(specs, weather: weatherCurve, baseLoads: baseLoads, startTime: startTime, host: host, faults: faults,
                              outages: outages, gridEvents: gridEvents, logger: logger)
        } catch {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            throw ExitCode(3)
        }
        say(DevicePlace.table(fleet.devices.map(DevicePlace.init)).description)
        say("Serving \(fleet.devices.count) device(s) at \(speed)x from \(formatTime(startTime)) simulated; Ctrl-C stops.")

        let stop = StopSignal()
        let wallStep = step / speed
        let began = ContinuousClock.now
        var next = began
        while !stop.isRaised {
            if let duration, began.duration(to: .now) >= .seconds(duration) { break }
            fleet.step(for: step)
            next += .seconds(wallStep)
            try? await Task.sleep(until: next, clock: .continuous)
        }
        fleet.stop()
        say("Stopped after \(formatTime(fleet.time - startTime)) simulated; \(fleet.writeLog.all.count) write request(s) served.")
    }
}

/// The sky over one profile's device.
enum WeatherChoice: String, ExpressibleByArgument, CaseIterable {
    case clear, cloudy

    var curve: DayCurve { self == .clear ? .clear() : .cloudy(seed: 1) }
}

extension Emulate {
    /// Serves shard `number` of a split rig under HELICS's clock until the run ends.
    private func runShard(rig file: String, number: Int, of count: Int, logger: Logger) throws {
        let shard: Shard
        do {
            var rig = try RigLoader.load(file: file, profiles: profiles, firstPort: firstPort, faultsFile: faults)
            if let helicsBroker { rig.run.cosim?.broker = helicsBroker }
            shard = try Shard(rig: rig, number: number, count: count, host: host, logger: logger)
        } catch let error as RunError {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            throw ExitCode(error.isBadInput ? 2 : 3)
        } catch {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            throw ExitCode(2)
        }
        say(DevicePlace.table(shard.fleet.devices.map(DevicePlace.init)).description)
        say("Shard \(number)/\(count): serving \(shard.fleet.devices.count) device(s), stepping as the federation grants time.")
        let stop = StopSignal()
        do {
            try shard.run(shouldStop: { stop.isRaised })
        } catch {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            throw ExitCode(3)
        }
        say("Shard \(number)/\(count) stopped at \(formatTime(shard.fleet.time)) simulated; \(shard.fleet.writeLog.all.count) write request(s) served.")
    }
}

/// Raised by SIGINT or SIGTERM; the run loop checks it each step.
final class StopSignal {
    private let sources: [any DispatchSourceSignal]
    private let raised = Raised()

    final class Raised: @unchecked Sendable {
        // @unchecked: one Bool written by the signal queue and read by the run loop; a stale read costs one step.
        var value = false
    }

    init() {
        let raised = self.raised
        sources = [SIGINT, SIGTERM].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { raised.value = true }
            source.resume()
            return source
        }
    }

    var isRaised: Bool { raised.value }
}

/// `--helics-broker`, when given, must be host:port.
func validateBroker(_ address: String?) throws {
    guard let address, CosimSettings.endpoint(address) == nil else { return }
    throw ValidationError("--helics-broker must be host:port, found '\(address)'.")
}

/// Writes a line to standard output at once (a pipe would otherwise hold it until exit).
func say(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}

func formatTime(_ seconds: Double) -> String {
    let total = Int(seconds.rounded())
    return String(format: "%02d:%02d:%02d", total / 3600, total / 60 % 60, total % 60)
}

