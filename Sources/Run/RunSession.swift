import Agents
import Bus
import Dispatch
import Emulators
import Foundation
public import Logging
import Market
import Messages
import Modbus
package import Physics
public import Rigs
import Synchronization

/// Where a run's devices and files are.
public struct RunOptions: Sendable {
    /// The profiles folder the rig names products from.
    public var profiles: String
    public var host: String
    /// How long every participant has to say ready before the run fails.
    public var readyTimeout: Duration

    /// The profiles folder as an absolute path, as a controller process is told it.
    var absoluteProfiles: String {
        URL(fileURLWithPath: profiles, relativeTo: URL(fileURLWithPath: FileManager.default.currentDirectoryPath)).path
    }

    public init(profiles: String = "Profiles", host: String = "127.0.0.1", readyTimeout: Duration = .seconds(30)) {
        self.profiles = profiles
        self.host = host
        self.readyTimeout = readyTimeout
    }
}

/// How far a run is, for the progress line.
public struct RunProgress: Sendable {
    /// Simulated seconds now.
    public var time: Double
    public var interval: Int
    public var intervals: Int
    /// Intervals so far with every household's bids, a clearing and every dispatch report, and those without.
    public var complete: Int
    public var incomplete: Int
}

/// Why a run could not be carried out (as opposed to a failed assertion).
public struct RunError: Error, Sendable, CustomStringConvertible {
    public let message: String
    /// The rig asked for something impossible (a controller command that does not exist), rather than the run
    /// failing on its way.
    public var isBadInput = false
    public var description: String { message }

    package init(message: String, isBadInput: Bool = false) {
        self.message = message
        self.isBadInput = isBadInput
    }
}

extension Rig {
    /// The market's households: the houses, `grid` when the conductor bids for the utility or a grid-forming
    /// battery, and the scripted bidders.
    package var marketHouseholds: [HouseID] {
        houses + (run.grid != nil || run.gridForming != nil ? [.grid] : []) + (run.bidScript?.bidders ?? [])
    }

    /// The base load of the house `participant` is; nil for the market, or a name that is no house.
    func baseLoad(of participant: String) -> BaseLoad? { (try? HouseID(parsing: participant)).flatMap { baseLoads[$0] } }
}

/// One run of a rig against the reference controller, in lockstep or paced: emulators, broker, market and
/// household agents come up, prove ready, run every interval, and are all stopped at the end, on a stop request,
/// or when a participant fails (which is itself the run's failure).
public enum RunSession {
    /// The devices are served at the rig's ports (its `first-port` and on, as loaded: `--first-port` overrides, 0 puts
    /// each on a free port); `served` hears where, before anyone starts.
    public static func run(_ rig: Rig, options: RunOptions, logger: Logger, served: ([DevicePlace]) -> Void = { _ in },
                           progress: (RunProgress) -> Void = { _ in }, shouldStop: () -> Bool = { false }) throws(RunError) -> RunRecord {
        let started = ContinuousClock.now
        try refuseImpossibleCrashes(rig.run)
        if rig.run.hasEndpoints { try refuseFreeDevicePorts(rig, for: "a controller") }
        try reserveDescriptors(devices: rig.devices.count, each: 3, for: "each of its \(rig.devices.count) devices (a listening socket and a connection on each side)")
        let session = try Session(rig, options: options, logger: logger)
        defer { session.stop() }
        served(session.devicePlaces)
        try session.launchEveryone()
        try session.waitUntilReady()
        try session.runIntervals(progress: progress, shouldStop: shouldStop)
        return try session.record(wallSeconds: (ContinuousClock.now - started) / .seconds(1))
    }

    /// The environment an endpoint's operator gives it (`gridrig run RIG --environment NAME`): what a command gets,
    /// with the bus and the devices at the rig's fixed ports on `options.host`, and the keys folder
    /// (`GRIDRIG_BUS_KEYS`) instead of keys when the bus authenticates.
    public static func endpointEnvironment(_ rig: Rig, participant: String, options: RunOptions) throws(RunError) -> [String: String] {
        let houses = rig.houses
        guard participant == ParticipantName.market || houses.contains(where: { $0.name == participant }) else {
            throw RunError(message: "\(participant) is neither the market nor a house of the rig (\(houses.map(\.name).joined(separator: ", ")))", isBadInput: true)
        }
        let bus = rig.run.bus
        guard bus.publishPort != 0, bus.subscribePort != 0 else {
            throw RunError(message: "the rig's bus has no fixed ports: give it bus: {publish-port: N, subscribe-port: M}", isBadInput: true)
        }
        try refuseFreeDevicePorts(rig, for: "an endpoint")
        let host = ["0.0.0.0", "*", "::"].contains(bus.host) ? options.host : bus.host
        var environment = ControllerSetup.environment(
            participant: participant, endpoints: BusEndpoints(publish: "tcp://\(host):\(bus.publishPort)", subscribe: "tcp://\(host):\(bus.subscribePort)"),
            households: rig.marketHouseholds,
            devices: ControllerSetup.addresses(specs: rig.devices, places: rig.devices.map { (options.host, $0.port) }, comfort: rig.run.comfort),
            baseLoad: rig.baseLoad(of: participant), profiles: options.absoluteProfiles, prior: rig.run.prior, exportLimit: rig.run.grid?.exportLimit)
        if bus.authenticates, let keys = bus.keys { environment["GRIDRIG_BUS_KEYS"] = keys }
        return environment
    }

    /// An environment as shell exports, one a line in name order, each value single-quoted for `sh`.
    public static func shellExports(_ environment: [String: String]) -> String {
        environment.sorted { $0.key < $1.key }.map { "export \($0.key)='\($0.value.replacingOccurrences(of: "'", with: "'\\''"))'\n" }.joined()
    }

    /// A controller running elsewhere finds the devices at the ports it was told before the run: none may be on a
    /// free port (`first-port: 0`, `--first-port 0`).
    private static func refuseFreeDevicePorts(_ rig: Rig, for whom: String) throws(RunError) {
        guard let device = rig.devices.first(where: { $0.port == 0 }) else { return }
        throw RunError(message: "\(device.name) would be on a free port, which \(whom) running elsewhere cannot know: give the rig a first-port (or --first-port N)",
                       isBadInput: true)
    }

    /// A participant GridRig does not start cannot be crashed by it.
    private static func refuseImpossibleCrashes(_ settings: RunSettings) throws(RunError) {
        for crash in settings.faults.crashes where settings.role(of: crash.participant) == .endpoint {
            throw RunError(message: "\(crash.participant) runs elsewhere (endpoint): GridRig cannot crash it", isBadInput: true)
        }
    }

    /// Raises the process's descriptor limit to its hard limit, and refuses what would still pass it, before
    /// anything starts: `each` descriptors per device, and 256 for the bus, its threads and the run's files.
    public static func reserveDescriptors(devices: Int, each: Int, for why: String) throws(RunError) {
        let limit = DescriptorLimit.raise(), open = DescriptorLimit.open
        let needed = each * devices + 256
        guard needed > limit.soft - open else { return }
        throw RunError(message: "this needs about \(needed) file descriptors (\(each) for \(why), and 256 for the bus and files), but the "
                       + "process may open \(max(0, limit.soft - open)) more (limit \(limit.soft), hard limit \(limit.hard), \(open) open): "
                       + "raise the hard limit (`ulimit -Hn`, LimitNOFILE= in a systemd unit, or /etc/security/limits.conf)")
    }

    /// Everything one run holds while it runs, and the steps it goes through.
    private final class Session {
        let rig: Rig
        let options: RunOptions
        let logger: Logger
        let fleet: Fleet
        /// Every device of the rig as served, and where: this process's fleet, or a shard's host (a split run).
        let specs: [DeviceSpec]
        let places: [(host: String, port: UInt16)]
        let context: BusContext
        let access: BusAccess
        let broker: Broker
        let households: [HouseholdSetup]
        /// The market's households: the houses, and `grid` when the conductor bids for one.
        let marketHouseholds: [HouseID]
        let gridSource: Conductor.GridSource?
        /// The reference agents in this process: the market on a loop of its own, so that its clearing never waits
        /// behind households reading their devices, and the households spread over a few loops per core.
        let marketLoop: ParticipantLoop
        let householdLoops: [ParticipantLoop]
        var participants: [ParticipantHandle] = []
        var processes: [ControllerProcess] = []
        var conductor: Conductor?
        /// The HELICS federation, when the rig has a `cosim` key.
        var cosimulation: Cosimulation?
        var physics = PhysicsSeries()
        var intervals: [IntervalRecord] = []

        var settings: RunSettings { rig.run }
        /// Where every device of the rig is served, here or on a shard's host.
        var devicePlaces: [DevicePlace] { zip(specs, places).map { DevicePlace($0, host: $1.host, port: $1.port) } }
        var houses: [HouseID] { households.map(\.house) }

        /// Reads the bus's keys, serves the devices at the rig's ports and starts the broker: a bus it cannot secure
        /// is refused before any port is taken.
        init(_ rig: Rig, options: RunOptions, logger: Logger) throws(RunError) {
            self.rig = rig
            self.options = options
            self.logger = logger
            let settings = rig.run
            gridSource = settings.grid.map { .utility($0) } ?? settings.gridForming.map { .gridForming($0) }
            marketHouseholds = rig.marketHouseholds
            func place(_ role: RunSettings.Role) -> BusAccess.Place {
                switch role {
                case .builtin, .mutant: .local
                case .command: .command
                case .endpoint: .endpoint
                }
            }
            let houses = ControllerSetup.householdNames(of: rig.devices)
            let conductorSpeaksFor = (gridSource == nil ? [] : [Conductor.gridName]) + (settings.bidScript?.bidders.map(\.name) ?? [])
            access = try BusAccess(settings.bus, speakers: [(ParticipantName.conductor, conductorSpeaksFor, .local),
                                                            (ParticipantName.market, [], place(settings.market))]
                                   + houses.map { ($0.name, [], place(settings.households[$0] ?? .builtin)) },
                                   captureLimit: RunSettings.BusSettings.defaultCaptureLimit(houses: houses.count, duration: settings.duration))
            // A split run's shards serve their houses' devices at the rig's ports on their hosts; the rest are here.
            var shardHosts: [HouseID: String] = [:]
            if let cosim = settings.cosim, cosim.shards > 1 {
                for shard in 1...cosim.shards { for house in cosim.houses(ofShard: shard, among: rig.houses) { shardHosts[house] = cosim.host(ofShard: shard) } }
            }
            let local = rig.devices.indices.filter { index in rig.devices[index].house.flatMap { shardHosts[$0] } == nil }
            let served: [DeviceSpec]
            (fleet, served) = try RunSession.serve(rig, devices: local.map { rig.devices[$0] }, freePorts: false, options: options, logger: logger)
            let servedAt = Dictionary(uniqueKeysWithValues: zip(local, zip(served, fleet.devices)))
            specs = rig.devices.indices.map { servedAt[$0]?.0 ?? rig.devices[$0] }
            places = rig.devices.indices.map { index in
                if let device = servedAt[index]?.1 { return (device.host, device.port) }
                return (rig.devices[index].house.flatMap { shardHosts[$0] } ?? options.host, rig.devices[index].port)
            }
            households = ControllerSetup.households(specs: specs, places: places, baseLoads: rig.baseLoads, comfort: settings.comfort,
                                                    prior: settings.prior, exportLimit: settings.grid?.exportLimit)
            do {
                context = try BusContext()
                broker = try Broker(context: context, host: settings.bus.host, publishPort: settings.bus.publishPort,
                                    subscribePort: settings.bus.subscribePort, rules: access.rules,
                                    faults: settings.faults.bus.isEmpty ? nil : BusFaultPlan(settings.faults.bus, seed: rig.seed) { [fleet] in fleet.time })
            } catch {
                fleet.stop()
                throw RunError(message: "the broker could not start: \(error)")
            }
            let (context, endpoints) = (context, broker.localEndpoints)
            marketLoop = ParticipantLoop(context: context, endpoints: endpoints)
            householdLoops = (0..<ParticipantLoop.count(for: households.count)).map { _ in
                ParticipantLoop(context: context, endpoints: endpoints)
            }
            for loop in householdLoops + [marketLoop] { loop.start() }
        }

        /// Stops every participant, then the broker and the devices.
        func stop() {
            cosimulation?.finish()
            for participant in participants { participant.control.stop() }
            for participant in participants { _ = participant.wait(timeout: .seconds(10)) }
            for loop in householdLoops + [marketLoop] { loop.stop() }
            for process in processes { process.stop() }
            broker.stop()
            fleet.stop()
        }

        /// The environment of a controller process (docs/PROTOCOL.md, "Controllers GridRig starts").
        func environment(_ participant: String) -> [String: String] {
            ControllerSetup.environment(participant: participant, endpoints: broker.endpoints, households: marketHouseholds,
                                        devices: ControllerSetup.addresses(specs: specs, places: places, comfort: settings.comfort),
                                        baseLoad: rig.baseLoad(of: participant), profiles: options.absoluteProfiles, prior: settings.prior,
                                        credentials: access.credentials[participant], exportLimit: rig.run.grid?.exportLimit)
        }

        /// Starts `name`'s role: the market or a household agent, in process (the reference, or a mutant of it) or
        /// as a command; an endpoint joins by itself.
        func launch(_ name: String) throws(RunError) {
            let setup = households.first { $0.house.name == name }
            let role = settings.role(of: name)
            switch role {
            case .builtin, .mutant:
                if var setup {
                    if case .mutant(let mutation) = role { setup.mutation = mutation }
                    let agent = HouseholdAgent(setup: setup, context: context, endpoints: broker.localEndpoints, logger: logger)
                    let index = households.firstIndex { $0.house.name == name } ?? 0
                    participants.append(householdLoops[index % householdLoops.count].add(agent))
                } else {
                    let market = MarketAgent(setup: MarketSetup(households: marketHouseholds), context: context, endpoints: broker.localEndpoints,
                                             logger: logger)
                    participants.append(marketLoop.add(market))
                }
            case .command(let command):
                processes.append(try ControllerProcess(role: name, command: command, environment: environment(name)))
            case .endpoint:
                logger.notice("waiting for \(name) to join", metadata: ["publish": "\(broker.endpoints.publish)", "subscribe": "\(broker.endpoints.subscribe)",
                                                                 "authentication": "\(settings.bus.authenticates ? "CURVE" : "none")"])
            }
        }

        /// Kills `name`'s role as a crash would: an in-process agent stops dead, a process gets SIGKILL. Its name is
        /// free on the bus for its restart.
        func crash(_ name: String) {
            defer { broker.release(sender: name) }
            if let index = participants.firstIndex(where: { $0.name == name }) {
                participants[index].control.stop()
                _ = participants[index].wait(timeout: .seconds(10))
                participants.remove(at: index)
            }
            if let index = processes.firstIndex(where: { $0.role == name }) {
                processes[index].kill()
                processes.remove(at: index)
            }
        }

        /// The first participant that ended with an error, described.
        func failure() -> String? {
            participants.lazy.compactMap { participant in participant.error.map { "participant \(participant.name) failed: \($0)" } }.first
                ?? processes.lazy.compactMap(\.failure).first.map { "participant \($0)" }
        }

        /// The federation first (a split run's shards must serve their devices before the agents read them), then
        /// the market, every household's agent, and the conductor, which joins last.
        func launchEveryone() throws(RunError) {
            if let cosim = settings.cosim {
                cosimulation = try Cosimulation(cosim, fleet: fleet, houses: houses, devices: specs, controlPeriod: settings.controlPeriod,
                                                assembleTimeout: options.readyTimeout / .seconds(1))
            }
            try launch(ParticipantName.market)
            for house in houses { try launch(house.name) }
            do {
                conductor = try Conductor(context: context, endpoints: broker.localEndpoints, households: houses, fleet: fleet,
                                          timing: IntervalTiming(length: settings.interval, controlPeriod: settings.controlPeriod,
                                                                 physicsStep: min(10, settings.interval, settings.controlPeriod), priceCap: settings.priceCap,
                                                                 bidDeadline: settings.deadlines.bids, clearingDeadline: settings.deadlines.clearing,
                                                                 dispatchDeadline: settings.deadlines.dispatch,
                                                                 pace: { if case .paced(let speed) = settings.clock { speed } else { nil } }()),
                                          grid: gridSource, outages: settings.faults.outages, script: settings.bidScript, logger: logger)
            } catch {
                throw RunError(message: failure() ?? "\(error)")
            }
            conductor?.cosimulation = cosimulation
        }

        /// Waits until `waiting` (everyone by default) has said ready, checking every second that no participant died
        /// on the way. One that stays silent fails the run, named with the last lines it wrote to standard error.
        func waitUntilReady(_ waiting: Set<String>? = nil) throws(RunError) {
            guard let conductor else { return }
            let everyone = waiting ?? Set(houses.map(\.name) + [ParticipantName.market]), deadline = ContinuousClock.now + options.readyTimeout
            while !everyone.isSubset(of: conductor.ready) {
                if let failed = failure() { throw RunError(message: failed) }
                if ContinuousClock.now >= deadline {
                    let silent = everyone.subtracting(conductor.ready).sorted().map { name in
                        processes.first { $0.role == name }.map { process in process.lastWords.map { "\(name) (standard error: \($0))" } ?? name } ?? name
                    }
                    let refused = broker.refusedConnections.map { refused in
                        "\(refused.attempts) \(refused.reason)" + (refused.address.map { " from \($0)" } ?? "") + (refused.key.map { " with key \($0)" } ?? "")
                    }
                    throw RunError(message: "never became ready within \(Int((options.readyTimeout / .seconds(1)).rounded())) s: \(silent.joined(separator: ", "))"
                                   + (refused.isEmpty ? "" : "; the broker refused connections that failed CURVE authentication: \(refused.joined(separator: "; "))"))
                }
                do { try conductor.waitUntilReady(everyone, timeout: min(.seconds(1), ContinuousClock.now.duration(to: deadline))) } catch {}
            }
        }

        /// Crashes the participants whose crash is due, and starts again those whose restart is due.
        func applyParticipantFaults(crashes: inout [Crash], restarts: inout [(time: Double, participant: String)]) throws(RunError) {
            while let next = crashes.first, next.time <= fleet.time {
                crashes.removeFirst()
                logger.notice("fault: \(next.participant) crashes", metadata: ["time": "\(fleet.time)"])
                crash(next.participant)
                if let delay = next.restart { restarts.append((next.time + delay, next.participant)) }
            }
            for restart in restarts where restart.time <= fleet.time {
                logger.notice("fault: \(restart.participant) restarts", metadata: ["time": "\(fleet.time)"])
                conductor?.forget(restart.participant)
                try launch(restart.participant)
                try waitUntilReady([restart.participant])
            }
            restarts.removeAll { $0.time <= fleet.time }
        }

        /// Every interval of the run, sampling the physics after each step.
        func runIntervals(progress: (RunProgress) -> Void, shouldStop: () -> Bool) throws(RunError) {
            guard let conductor else { return }
            try cosimulation?.start()
            physics.sample(fleet, at: fleet.time, remote: cosimulation?.remoteSeries ?? [:])
            let count = max(1, Int((settings.duration / settings.interval).rounded(.up)))
            var complete = 0
            var crashes = settings.faults.crashes.sorted { $0.time < $1.time }, restarts: [(time: Double, participant: String)] = []
            for number in 1...count {
                if shouldStop() { break }
                try applyParticipantFaults(crashes: &crashes, restarts: &restarts)
                if let failed = failure() { throw RunError(message: failed) }
                let record: IntervalRecord
                do {
                    record = try conductor.runInterval { [fleet, cosimulation] in physics.sample(fleet, at: $0, remote: cosimulation?.remoteSeries ?? [:]) }
                } catch {
                    throw RunError(message: "\(error)")
                }
                intervals.append(record)
                if record.clearing != nil, record.bidders.count == houses.count, record.dispatched.count == houses.count { complete += 1 }
                progress(RunProgress(time: fleet.time, interval: number, intervals: count, complete: complete, incomplete: number - complete))
            }
        }

        /// Says goodbye and gathers the run's three truths.
        func record(wallSeconds: Double) throws(RunError) -> RunRecord {
            let before = broker.capture.count
            try? conductor?.finish()
            awaitGoodbyes(after: before)
            if let failed = participants.lazy.compactMap({ participant in participant.error.map { "participant \(participant.name) failed: \($0)" } }).first {
                throw RunError(message: failed)
            }
            broker.stop()  // nothing more arrives: the capture and the refusals are complete
            var record = RunRecord(rig: rig, intervals: intervals, capture: broker.capture.all, writes: fleet.writeLog.all, physics: physics,
                                   households: houses, wallSeconds: wallSeconds, busFaultEvents: broker.faultEvents)
            record.devices = devicePlaces
            record.reads = fleet.readLogs.mapValues(\.all)
            record.grantWaits = cosimulation?.grantWaits ?? []
            record.admissions = BusAdmissions(authenticated: access.rules.authentication != nil, refusals: broker.refusals,
                                              refusedConnections: broker.refusedConnections, captureOverflow: broker.capture.overflow)
            return record
        }

        /// Gives everyone who was ready the protocol's 3 s to answer the conductor's goodbye, so that the capture
        /// holds the answers (protocol-conformance judges them).
        func awaitGoodbyes(after start: Int) {
            guard let conductor else { return }
            var waiting = Set(conductor.ready.map { Topic.of(.goodbye, $0).description })
            var seen = start
            let deadline = ContinuousClock.now + .seconds(Goodbye.answerWindow) + .milliseconds(200)
            while !waiting.isEmpty, ContinuousClock.now < deadline {
                let topics = broker.capture.topics(from: seen)
                seen += topics.count
                waiting.subtract(topics)
                if !waiting.isEmpty { Thread.sleep(forTimeInterval: 0.005) }
            }
        }
    }

    /// The rig with no controller: no bus and no writes, every device on its own defaults (the thermostat holds
    /// its default setpoint, a charger offers its default current on arrival, a battery runs self-consumption
    /// for its house). The physics runs the same duration in the same steps.
    public static func baseline(_ rig: Rig, options: RunOptions, logger: Logger) throws(RunError) -> PhysicsSeries {
        let (fleet, _) = try serve(rig, devices: rig.devices, freePorts: true, options: options, logger: logger)
        defer { fleet.stop() }
        var physics = PhysicsSeries()
        physics.sample(fleet, at: fleet.time)
        let step = min(10, rig.run.interval), end = fleet.time + rig.run.duration
        while fleet.time < end - 1e-9 {
            fleet.step(for: min(step, end - fleet.time))
            physics.sample(fleet, at: fleet.time)
        }
        return physics
    }

    /// The rig's emulators of `devices`, served (on free ports unless the rig's own are asked for), and the specs as
    /// served.
    fileprivate static func serve(_ rig: Rig, devices: [DeviceSpec], freePorts: Bool, options: RunOptions, logger: Logger) throws(RunError) -> (Fleet, [DeviceSpec]) {
        var specs = devices
        if freePorts { for index in specs.indices { specs[index].port = 0 } }
        do {
            return (try Fleet(specs, weather: rig.weather, baseLoads: rig.baseLoads, startTime: rig.start ?? 0, host: options.host,
                              faults: rig.faults.isEmpty ? nil : FaultPlan(rig.faults, seed: rig.seed), outages: rig.run.faults.outages,
                              gridEvents: rig.run.faults.gridEvents, logger: logger), specs)
        } catch {
            throw RunError(message: "the emulators could not start: \(error)")
        }
    }
}
