import Agents
import Bus
import Emulators
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
}
