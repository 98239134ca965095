import Agents
import ArgumentParser
import Bus
import Dispatch
import Files
import Foundation
import Logging
import Market
import Messages
import Physics
import Run

struct AgentCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "agent",
        abstract: "Run GridRig's reference controller as a process: a household's agent, or the market.",
        discussion: """
            Each option falls back to the environment variable GridRig gives a controller it starts (docs/PROTOCOL.md): GRIDRIG_BUS_PUBLISH, GRIDRIG_BUS_SUBSCRIBE, GRIDRIG_PARTICIPANT, GRIDRIG_HOUSEHOLDS (or GRIDRIG_HOUSEHOLDS_FILE), GRIDRIG_DEVICES, GRIDRIG_PROFILES, GRIDRIG_BASE_LOAD_KW, GRIDRIG_BASE_LOAD_PROFILE, GRIDRIG_EXPORT_LIMIT_KW, and the CURVE keys GRIDRIG_BUS_SERVER_KEY and GRIDRIG_BUS_SECRET_KEY (or GRIDRIG_BUS_KEYS, a folder). The process ends when the conductor says goodbye, or on Ctrl-C / SIGTERM.
            """,
        subcommands: [HouseholdAgentCommand.self, MarketAgentCommand.self])
}

/// Where the broker is.
struct BusOptions: ParsableArguments {
    @Option(help: "The broker's publish endpoint (env GRIDRIG_BUS_PUBLISH).")
    var busPublish: String?

    @Option(help: "The broker's subscribe endpoint (env GRIDRIG_BUS_SUBSCRIBE).")
    var busSubscribe: String?

    @Option(help: "A folder of CURVE certificates made by `gridrig keys`: broker.key and this participant's NAME.key_secret (env GRIDRIG_BUS_KEYS).")
    var busKeys: String?

    @OptionGroup var log: LogOptions

    /// The participant's CURVE credentials, if the bus authenticates: the keys GridRig put in the environment, or
    /// those of the certificates folder.
    func credentials(participant: String) throws -> BusCredentials? {
        if let server = environment("GRIDRIG_BUS_SERVER_KEY"), let secret = environment("GRIDRIG_BUS_SECRET_KEY") {
            guard BusKeyPair.isZ85(server), let pair = BusKeyPair(secretKey: secret) else {
                throw ValidationError("GRIDRIG_BUS_SERVER_KEY and GRIDRIG_BUS_SECRET_KEY must each be 40 characters of Z85.")
            }
            return BusCredentials(keys: pair, serverKey: server)
        }
        guard let folder = busKeys ?? environment("GRIDRIG_BUS_KEYS") else { return nil }
        do {
            return BusCredentials(keys: try BusKeyFiles.keyPair(of: participant, in: folder),
                                  serverKey: try BusKeyFiles.publicKey(of: BusKeyFiles.broker, in: folder))
        } catch {
            throw ValidationError("--bus-keys: \(error)")
        }
    }

    func endpoints() throws -> BusEndpoints {
        guard let publish = busPublish ?? environment("GRIDRIG_BUS_PUBLISH"), let subscribe = busSubscribe ?? environment("GRIDRIG_BUS_SUBSCRIBE") else {
            throw ValidationError("Give the broker's endpoints: --bus-publish and --bus-subscribe (or GRIDRIG_BUS_PUBLISH and GRIDRIG_BUS_SUBSCRIBE).")
        }
        return BusEndpoints(publish: publish, subscribe: subscribe)
    }

    func logger(_ label: String) -> Logger { log.logger(label) }
}

func environment(_ name: String) -> String? { ProcessInfo.processInfo.environment[name].flatMap { $0.isEmpty ? nil : $0 } }

/// A house name as `source` (an environment variable or a file) gives it, without its surrounding blanks; text that
/// is not one is refused, naming the source.
func houseName(_ text: some StringProtocol, from source: String) throws -> HouseID {
    do { return try HouseID(parsing: text.trimmingCharacters(in: .whitespaces)) } catch { throw ValidationError("\(source): \(error).") }
}

/// Runs a participant's blocking loop on a thread of its own, stopping it on SIGINT or SIGTERM.
func serve(_ control: ParticipantControl, _ body: @escaping @Sendable () throws(ParticipantError) -> Void) async throws {
    let stop = StopSignal()
    let failure = FailureBox()
    let done = DispatchSemaphore(value: 0)
    Thread {
        do throws(ParticipantError) { try body() } catch { failure.set(error) }
        done.signal()
    }.start()
    while done.wait(timeout: .now()) == .timedOut {
        if stop.isRaised { control.stop() }
        try? await Task.sleep(for: .milliseconds(50))
    }
    if let error = failure.error {
        FileHandle.standardError.write(Data("error: \(error)\n".utf8))
        throw ExitCode(3)
    }
}

/// The error a participant's thread ended with.
final class FailureBox: @unchecked Sendable {
    // @unchecked: written once by the participant thread before it signals, read after the wait.
    private(set) var error: ParticipantError?
    func set(_ error: ParticipantError) { self.error = error }
}

struct HouseholdAgentCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "household",
        abstract: "A household's reference agent: reads its devices over Modbus TCP, bids, writes its awarded setpoints.")

    @OptionGroup var bus: BusOptions

    @Option(help: "The household's id (env GRIDRIG_PARTICIPANT).")
    var house: HouseID?

    @Option(help: "Its devices as JSON, the format of GRIDRIG_DEVICES (docs/PROTOCOL.md).")
    var devices: String?

    @Option(help: "The profiles folder that names each device's register map (env GRIDRIG_PROFILES).")
    var profiles: String?

    @Option(help: "Forecast of the house's unresponsive load, kW (env GRIDRIG_BASE_LOAD_KW).")
    var baseLoad: Double?

    func run() async throws {
        let endpoints = try bus.endpoints()
        let logger = bus.logger("gridrig.agent.household")
        guard let house = try house ?? environment("GRIDRIG_PARTICIPANT").map({ name in try houseName(name, from: "GRIDRIG_PARTICIPANT") }) else { throw ValidationError("Give the household: --house ID (or GRIDRIG_PARTICIPANT).") }
        let folder = profiles ?? environment("GRIDRIG_PROFILES") ?? "Profiles"
        let setups: [DeviceSetup], addresses: [ControllerSetup.DeviceAddress]
        do {
            addresses = try ControllerSetup.addresses(json: devices ?? environment("GRIDRIG_DEVICES") ?? "[]").filter { $0.id.house == house }
            setups = try addresses.map { address throws(FileError) in
                ControllerSetup.setup(address, profile: try ProfileLoader.load(file: "\(folder)/\(address.profile).yaml"))
            }
        } catch {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            throw ExitCode(2)
        }
        let load = baseLoad ?? environment("GRIDRIG_BASE_LOAD_KW").flatMap(Double.init) ?? 0
        var setup = ControllerSetup.household(house, devices: setups, baseLoad: load, thermostat: addresses.lazy.compactMap { $0.comfort?.strategy }.first,
                                              exportLimit: environment("GRIDRIG_EXPORT_LIMIT_KW").flatMap(Double.init))
        if let profile = environment("GRIDRIG_BASE_LOAD_PROFILE") {
            let values = profile.split(separator: ",").compactMap { Double($0.trimmingCharacters(in: .whitespaces)) }
            guard values.count == 96, values.allSatisfy({ $0.isFinite && $0 >= 0 }) else {
                FileHandle.standardError.write(Data("error: GRIDRIG_BASE_LOAD_PROFILE: expected 96 comma-separated kW values of 0 or more (quarter-hours from midnight)\n".utf8))
                throw ExitCode(2)
            }
            setup.baseLoadProfile = values
        }
        if let mean = environment("GRIDRIG_PRICE_MEAN").flatMap(Double.init), let deviation = environment("GRIDRIG_PRICE_DEVIATION").flatMap(Double.init) {
            guard mean.isFinite, deviation.isFinite, deviation > 0 else {
                FileHandle.standardError.write(Data("error: GRIDRIG_PRICE_MEAN and GRIDRIG_PRICE_DEVIATION: expected finite $/kWh, a deviation > 0\n".utf8))
                throw ExitCode(2)
            }
            setup.prior = PriceForecast(mean: mean, standardDeviation: deviation)
        }
        let context = try BusContext()
        let agent = HouseholdAgent(setup: setup, context: context, endpoints: endpoints, credentials: try bus.credentials(participant: house.name),
                                   logger: logger)
        try await serve(agent.control) { () throws(ParticipantError) in try agent.run() }
    }
}

struct MarketAgentCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "market",
        abstract: "The reference market: collects bids until gate closure, clears, publishes the clearing and awards.")

    @OptionGroup var bus: BusOptions

    @Option(help: "The households that may bid, comma-separated (env GRIDRIG_HOUSEHOLDS, or GRIDRIG_HOUSEHOLDS_FILE: one per line).")
    var households: CommaList<HouseID>?

    @Option(help: "The market's participant name.")
    var name: String = "market"

    @Option(help: "Bids messages one household may send per interval before the rest are refused as a flood.")
    var messageLimit: Int = 20

    func run() async throws {
        let endpoints = try bus.endpoints()
        let logger = bus.logger("gridrig.agent.market")
        let list: [HouseID]
        if let given = households {
            list = given.items
        } else if let given = environment("GRIDRIG_HOUSEHOLDS") {
            list = try given.split(separator: ",", omittingEmptySubsequences: false).map { name in try houseName(name, from: "GRIDRIG_HOUSEHOLDS") }
        } else if let file = environment("GRIDRIG_HOUSEHOLDS_FILE") {
            guard let text = try? String(contentsOfFile: file, encoding: .utf8) else { throw ValidationError("GRIDRIG_HOUSEHOLDS_FILE: cannot read \(file).") }
            list = try text.split(whereSeparator: \.isNewline).filter { !$0.allSatisfy(\.isWhitespace) }.map { name in try houseName(name, from: "GRIDRIG_HOUSEHOLDS_FILE (\(file))") }
        } else {
            throw ValidationError("Give the households: --households h1,h2 (or GRIDRIG_HOUSEHOLDS, or GRIDRIG_HOUSEHOLDS_FILE with one per line).")
        }
        guard messageLimit > 0 else { throw ValidationError("--message-limit must be at least 1, found \(messageLimit).") }
        let context = try BusContext()
        let market = MarketAgent(setup: MarketSetup(name: name, households: list, messageLimit: messageLimit),
                                 context: context, endpoints: endpoints, credentials: try bus.credentials(participant: name), logger: logger)
        try await serve(market.control) { () throws(ParticipantError) in try market.run() }
    }
}
