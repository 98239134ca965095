import Agents
import Bus
import Dispatch
import Emulators
import Foundation
import Harness
import Logging
import Messages
import Physics

/// The repository's root, found from this file.
let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

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
    let logger: Logger

    init(rig text: String = threeHouses) throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("rig-\(UUID().uuidString).yaml").path
        _ = FileManager.default.createFile(atPath: path, contents: Data(text.utf8))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let rig = try RigLoader.load(file: path, profiles: "\(repository)/Profiles", firstPort: 0)
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        self.logger = logger
        fleet = try Fleet(rig.devices, weather: rig.weather, baseLoads: rig.baseLoads, startTime: rig.start ?? 43_200, logger: logger)
        context = try BusContext()
        broker = try Broker(context: context)
        households = ControllerSetup.households(specs: rig.devices, served: fleet.devices, baseLoads: rig.baseLoads.mapValues(\.mean))
    }

    func conductor(timing: IntervalTiming = IntervalTiming()) throws -> Conductor {
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

/// Runs `body` on a thread of its own (agents block in Modbus and ZeroMQ calls); `wait()` joins it.
final class Spawned: Sendable {
    private let done = DispatchSemaphore(value: 0)

    init(_ body: @escaping @Sendable () -> Void) {
        let done = self.done
        Thread { body(); done.signal() }.start()
    }

    /// False if the thread did not end within `timeout`.
    func wait(timeout: Duration = .seconds(10)) -> Bool {
        done.wait(timeout: .now() + .milliseconds(Int(timeout / .milliseconds(1)))) == .success
    }
}
