import Agents
import Bus
import Dispatch
import Emulators
import Foundation
import Logging
import Messages
import Modbus
import Physics
import RigFiles
import Rigs
import Run
import TestSupport
import Testing

/// A small neighborhood: h1 sells (PV, battery), h2 and h3 buy (thermostat, EV on Alfen and Phoenix chargers).
let threeHouses = """
    name: three-houses
    seed: 7
    start: "12:00"
    weather: clear
    houses:
      - name: h1
        base-load: 350
        devices:
          - {name: pv, profile: sunspec-inverter}
          - {name: battery, profile: sunspec-battery, initial-soc: 40}
      - name: h2
        base-load: 450
        devices:
          - {name: thermostat, profile: intesis-thermostat, room-temperature: 19.5}
          - name: ev
            profile: alfen-ng9xx
            vehicle: {arrival: "11:00", departure: "20:00", capacity: 60000, initial-soc: 30, target-soc: 80, max-current: 16, phases: 3}
      - name: h3
        base-load: 400
        devices:
          - {name: thermostat, profile: intesis-thermostat, room-temperature: 22}
          - name: ev
            profile: phoenix-ev-eth
            vehicle: {arrival: "11:30", departure: "16:00", capacity: 40000, initial-soc: 40, target-soc: 90, max-current: 16, phases: 1}
    """

/// Emulators on free ports, a broker, and the rig's household setups: the world a controller meets.
final class World {
    let fleet: Fleet
    let context: BusContext
    let broker: Broker
    let households: [HouseholdSetup]
    /// Every household device as a controller process learns it (GRIDRIG_DEVICES).
    let addresses: [ControllerSetup.DeviceAddress]
    let logger: Logger
    let rig: Rig

    init(rig text: String = threeHouses) throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("rig-\(UUID().uuidString).yaml").path
        _ = FileManager.default.createFile(atPath: path, contents: Data(text.utf8))
        defer { try? FileManager.default.removeItem(atPath: path) }
        rig = try RigLoader.load(file: path, profiles: "\(repository)/Profiles", firstPort: 0)
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        self.logger = logger
        fleet = try Fleet(rig.devices, weather: rig.weather, baseLoads: rig.baseLoads, startTime: rig.start ?? 43_200, logger: logger)
        context = try BusContext()
        broker = try Broker(context: context)
        households = ControllerSetup.households(specs: rig.devices, places: fleet.devices.map { ($0.host, $0.port) }, baseLoads: rig.baseLoads)
        addresses = ControllerSetup.addresses(specs: rig.devices, places: fleet.devices.map { ($0.host, $0.port) })
    }

    /// Lockstep advances as soon as everyone has answered, so generous deadlines cost nothing when all goes well
    /// and keep a loaded CI machine from failing a test on time alone.
    func conductor(timing: IntervalTiming = IntervalTiming(bidDeadline: .seconds(10), clearingDeadline: .seconds(10),
                                                           dispatchDeadline: .seconds(10))) throws -> Conductor {
        try Conductor(context: context, endpoints: broker.endpoints, households: households.map(\.house), fleet: fleet, timing: timing, logger: logger)
    }

    func stop() {
        broker.stop()
        fleet.stop()
    }

    /// Every captured message that decodes, with its arrival time.
    var messages: [(message: Message, received: Double)] {
        broker.capture.all.compactMap { captured in
            (try? Message.decode(topic: captured.topic, payload: captured.payload.first ?? [])).map { ($0, captured.received) }
        }
    }
}

/// Checks, from the bus capture and the emulators' write log, that every interval had each household's bids, one
/// clearing, each household's awards and dispatch report, in that order, and that every setpoint reported as
/// landed is in its device's write log between the awards and the report.
func expectIntervalsInOrder(_ world: World, records: [IntervalRecord], houses: [String], sourceLocation: SourceLocation = #_sourceLocation) {
    for record in records {
        #expect(record.bidders == Set(houses) && record.dispatched == Set(houses) && record.clearing != nil,
                "interval \(record.interval): \(record)", sourceLocation: sourceLocation)
    }
    let messages = world.messages
    let writes = world.fleet.writeLog.all
    for interval in records.map(\.interval) {
        func positions(_ type: any MessageBody.Type) -> [Int] {
            messages.indices.filter { messages[$0].message.body.type == type.type && messages[$0].message.header.interval == interval }
        }
        let bids = positions(Bids.self), clearing = positions(ClearingResult.self), awards = positions(Awards.self), dispatch = positions(DispatchReport.self)
        #expect(bids.count == houses.count && clearing.count == 1 && awards.count == houses.count && dispatch.count == houses.count,
                "interval \(interval)", sourceLocation: sourceLocation)
        guard let cleared = clearing.first, let lastBid = bids.max(), let firstAward = awards.min() else { continue }
        #expect(lastBid < cleared && cleared < firstAward, "interval \(interval): bids, clearing and awards out of order", sourceLocation: sourceLocation)
        // Each household reports after its own awards (another's awards may still be on their way).
        for house in houses {
            let award = awards.first { messages[$0].message.topic == .of(.awards, house) }
            let report = dispatch.first { messages[$0].message.topic == .of(.dispatch, house) }
            if let award, let report { #expect(award < report, "interval \(interval): \(house) dispatched before its awards", sourceLocation: sourceLocation) }
        }
        for index in dispatch {
            guard let report = messages[index].message.body as? DispatchReport else { continue }
            let awardsSent = messages[awards.first { messages[$0].message.topic == .of(.awards, report.house) } ?? firstAward].received
            #expect(!report.setpoints.isEmpty && report.setpoints.allSatisfy { $0.error == nil },
                    "\(report.house): \(report.setpoints.compactMap(\.error))", sourceLocation: sourceLocation)
            for setpoint in report.setpoints {
                guard let landed = setpoint.landedAt else { continue }
                let landedWrites = writes.filter { $0.device == setpoint.id.description && $0.record.exception == nil
                    && $0.record.unixTime >= awardsSent - 0.001 && $0.record.unixTime <= landed + 0.001 }
                #expect(!landedWrites.isEmpty, "interval \(interval): \(setpoint.id) \(setpoint.name) not in the write log", sourceLocation: sourceLocation)
            }
        }
    }
}

/// A controller process GridRig starts, with the environment of docs/PROTOCOL.md; its standard error is read as it
/// comes, so a chatty process never blocks on a full pipe.
final class Child: @unchecked Sendable {
    // @unchecked: `errorText` is written by the reading thread before `drained` is signalled, and read after.
    let process = Process()
    private let errors = Pipe()
    private let drained = DispatchSemaphore(value: 0)
    private var errorText = ""

    init(_ arguments: [String], environment: [String: String]) throws {
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let handle = errors.fileHandleForReading
        Thread { [self] in
            errorText = String(decoding: handle.readDataToEndOfFile(), as: UTF8.self)
            drained.signal()
        }.start()
    }

    /// Kills the process outright (SIGKILL: a flooding peer busy in its sockets may outlive a SIGTERM) and waits for it.
    func kill() {
        if process.isRunning { Glibc.kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }

    /// Waits for the process to end on its own; after `timeout` asks it to stop (SIGTERM), and after 5 s more kills
    /// it. Returns its exit status, nil if it had to be stopped.
    func exit(within timeout: Duration = .seconds(20)) -> Int32? {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning, ContinuousClock.now < deadline { usleep(20_000) }
        let killed = process.isRunning
        if killed {
            process.terminate()
            let grace = ContinuousClock.now + .seconds(5)
            while process.isRunning, ContinuousClock.now < grace { usleep(20_000) }
            kill()
        }
        process.waitUntilExit()
        return killed ? nil : process.terminationStatus
    }

    /// What the process wrote to standard error, once it has ended.
    var standardError: String {
        _ = drained.wait(timeout: .now() + 5)
        return errorText
    }
}

/// Two free consecutive TCP ports for a bus, below the ephemeral range, found by binding and letting go.
func freeBusPorts() -> (publish: UInt16, subscribe: UInt16) {
    let base = freeConsecutivePorts(2)  // below the ephemeral range: no client's connection can take one between two runs
    return (base, base + 1)
}

/// Runs the gridrig binary (from the repository's root unless `directory` says otherwise), feeding `input` on
/// standard input when given, with `environment` added to the test's: exit status, standard output and standard error.
/// It waits on a thread of its own: Swift Testing's pool has a thread a core, and a blocked one holds up other tests.
func gridrig(_ arguments: [String], in directory: String = repository, input: String? = nil, environment: [String: String] = [:]) async throws
    -> (status: Int32, output: String, errors: String) {
    try await offPool { try launchGridrig(arguments, in: directory, input: input, environment: environment) }
}

private func launchGridrig(_ arguments: [String], in directory: String, input: String?, environment: [String: String]) throws
    -> (status: Int32, output: String, errors: String) {
    let process = Process(), output = Pipe(), errors = Pipe()
    process.executableURL = URL(fileURLWithPath: "\(repository)/.build/debug/gridrig")
    process.arguments = arguments
    process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    process.currentDirectoryURL = URL(fileURLWithPath: directory)
    process.standardOutput = output
    process.standardError = errors
    let standardInput = input.map { _ in Pipe() }
    if let standardInput { process.standardInput = standardInput }
    try process.run()
    if let input, let standardInput {
        standardInput.fileHandleForWriting.write(Data(input.utf8))
        try standardInput.fileHandleForWriting.close()
    }
    let printed = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    let complaint = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    return (process.terminationStatus, printed, complaint)
}
