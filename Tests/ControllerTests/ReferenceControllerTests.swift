import Agents
import Bus
import Emulators
import Files
import Modbus
import Physics
import Run
import TestSupport
import Testing

@Suite("The reference controller over real TCP", .serialized, .timeLimit(.minutes(2)))
struct ReferenceControllerTests {
    @Test("Every interval has bids, a clearing, awards and landed setpoints, in order, from the bus capture and the write logs")
    func intervalsInOrder() throws {
        let world = try World()
        defer { world.stop() }
        let market = MarketAgent(setup: MarketSetup(households: world.households.map(\.house)), context: world.context,
                                 endpoints: world.broker.endpoints, logger: world.logger)
        let agents = world.households.map { HouseholdAgent(setup: $0, context: world.context, endpoints: world.broker.endpoints, logger: world.logger) }
        let threads = [Spawned { try? market.run() }] + agents.map { agent in Spawned { try? agent.run() } }
        let conductor = try world.conductor()
        try conductor.waitUntilReady(Set(world.households.map(\.house.name) + ["market"]), timeout: .seconds(20))
        let records = try (1...4).map { _ in try conductor.runInterval() }
        try conductor.finish()
        #expect(threads.allSatisfy { $0.wait() }, "a participant did not end after goodbye")

        expectIntervalsInOrder(world, records: records, houses: ["h1", "h2", "h3"])
        #expect(conductor.errorReports.isEmpty, "\(conductor.errorReports)")
    }

    @Test("An agent's map knows a profile's blocks, each apart even where two touch (the device refuses a read across them), under the rig's unit id")
    func blocksStayApart() throws {
        let profile = try loadProfile("""
            kind: inverter
            product: test
            unit: 1
            blocks:
              - table: holding-registers
                start: 0
                points:
                  - {name: A, type: uint16, quantity: ac-power}
                  - {name: B, type: uint32}
              - table: holding-registers
                start: 3
                points:
                  - {name: C, type: uint16, quantity: rated-power}
              - table: holding-registers
                start: 10
                points:
                  - {name: D, type: uint16}
              - table: input-registers
                start: 0
                points:
                  - {name: E, type: uint16}
            """)
        let map = ControllerSetup.map(profile, host: "127.0.0.1", port: 502, unit: 7)
        #expect(map.blocks == [ReadableBlock(unit: 7, table: .holdingRegisters, start: 0, end: 3), ReadableBlock(unit: 7, table: .holdingRegisters, start: 3, end: 4),
                               ReadableBlock(unit: 7, table: .holdingRegisters, start: 10, end: 11), ReadableBlock(unit: 7, table: .inputRegisters, start: 0, end: 1)])
        let battery = try ProfileLoader.load(file: "\(repository)/Profiles/sunspec-battery.yaml")
        #expect(ControllerSetup.map(battery, host: "127.0.0.1", port: 502, unit: nil).blocks.count == 1, "SunSpec's models are one block of the profile")
    }
}
