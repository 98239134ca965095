import Agents
import Bus
import Emulators
import Modbus
import Physics
import Rigs
import Run
import TestSupport
import Testing

/// Controllers in other processes and languages, started as GridRig starts them (docs/PROTOCOL.md).
@Suite("Controllers written from docs/PROTOCOL.md", .serialized, .timeLimit(.minutes(2)))
struct ForeignControllerTests {
    func environment(_ world: World, participant: String, house: HouseID? = nil) -> [String: String] {
        ControllerSetup.environment(participant: participant, endpoints: world.broker.endpoints, households: world.households.map(\.house),
                                    devices: world.addresses, baseLoad: house.flatMap { world.rig.baseLoads[$0] }, profiles: "\(repository)/Profiles")
    }

    @Test("The Python market replaces the Swift one: every interval still has bids, a clearing, awards and landed setpoints, in order")
    func pythonMarket() throws {
        let world = try World()
        defer { world.stop() }
        let market = try Child(["python3", "\(repository)/examples/python/market.py"], environment: environment(world, participant: "market"))
        let agents = world.households.map { HouseholdAgent(setup: $0, context: world.context, endpoints: world.broker.endpoints, logger: world.logger) }
        let threads = agents.map { agent in Spawned { try? agent.run() } }
        let conductor = try world.conductor()
        try conductor.waitUntilReady(["h1", "h2", "h3", "market"], timeout: .seconds(30))
        let records = try (1...3).map { _ in try conductor.runInterval() }
        try conductor.finish()
        #expect(market.exit() == 0, "\(market.standardError)")
        #expect(threads.allSatisfy { $0.wait() })
        expectIntervalsInOrder(world, records: records, houses: ["h1", "h2", "h3"])
        #expect(conductor.errorReports.isEmpty, "\(conductor.errorReports)")
    }

    @Test("A Python household replaces one Swift agent, next to `gridrig agent market` as a process")
    func pythonHousehold() throws {
        let world = try World()
        defer { world.stop() }
        let market = try Child(["\(repository)/.build/debug/gridrig", "agent", "market"], environment: environment(world, participant: "market"))
        let household = try Child(["python3", "\(repository)/examples/python/household.py"], environment: environment(world, participant: "h2", house: "h2"))
        let agents = world.households.filter { $0.house != "h2" }
            .map { HouseholdAgent(setup: $0, context: world.context, endpoints: world.broker.endpoints, logger: world.logger) }
        let threads = agents.map { agent in Spawned { try? agent.run() } }
        let conductor = try world.conductor()
        try conductor.waitUntilReady(["h1", "h2", "h3", "market"], timeout: .seconds(30))
        let records = try (1...3).map { _ in try conductor.runInterval() }
        try conductor.finish()
        #expect(household.exit() == 0, "\(household.standardError)")
        #expect(market.exit() == 0, "\(market.standardError)")
        #expect(threads.allSatisfy { $0.wait() })
        expectIntervalsInOrder(world, records: records, houses: ["h1", "h2", "h3"])
        let pythonWrites = world.fleet.writeLog.all.filter { $0.device.hasPrefix("h2/") && $0.record.exception == nil }
        #expect(!pythonWrites.isEmpty, "the Python agent wrote nothing")
    }

    @Test("gridrig agent household refuses a base-load profile that is not 96 quarter-hours, and a comfort season it does not know, with exit 2",
          arguments: [
              (["GRIDRIG_BASE_LOAD_PROFILE": "0.4,0.5"], "GRIDRIG_BASE_LOAD_PROFILE: expected 96 comma-separated kW values"),
              (["GRIDRIG_DEVICES": #"[{"id": "h2/thermostat", "kind": "thermostat", "profile": "intesis-thermostat", "host": "127.0.0.1", "port": 1, "ratings": {}, "comfort": {"season": "spring", "setpoint": 21, "below": 2, "above": 2}}]"#],
               "GRIDRIG_DEVICES"),
          ])
    func badHouseholdEnvironment(environment: [String: String], message: String) throws {
        let base = ["GRIDRIG_BUS_PUBLISH": "tcp://127.0.0.1:1", "GRIDRIG_BUS_SUBSCRIBE": "tcp://127.0.0.1:2", "GRIDRIG_PARTICIPANT": "h2",
                    "GRIDRIG_DEVICES": "[]", "GRIDRIG_PROFILES": "\(repository)/Profiles"]
        let agent = try Child(["\(repository)/.build/debug/gridrig", "agent", "household"], environment: base.merging(environment) { $1 })
        #expect(agent.exit() == 2)
        #expect(agent.standardError.contains(message), "\(agent.standardError)")
    }
}
