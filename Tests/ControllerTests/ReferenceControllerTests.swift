import Agents
import Bus
import Emulators
import Harness
import Messages
import Modbus
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
        try conductor.waitUntilReady(Set(world.households.map(\.house) + ["market"]), timeout: .seconds(20))
        let records = try (1...4).map { _ in try conductor.runInterval() }
        try conductor.finish()
        #expect(threads.allSatisfy { $0.wait() }, "a participant did not end after goodbye")

        for record in records {
            #expect(record.bidders == ["h1", "h2", "h3"] && record.dispatched == ["h1", "h2", "h3"] && record.clearing != nil,
                    "interval \(record.interval): \(record)")
        }
        let messages = world.messages
        let writes = world.fleet.writeLog.all
        for interval in 1...4 {
            func positions(_ type: String) -> [Int] {
                messages.indices.filter { messages[$0].message.body.type == type && messages[$0].message.header.interval == interval }
            }
            let bids = positions("bids"), clearing = positions("clearing"), awards = positions("awards"), dispatch = positions("dispatch")
            #expect(bids.count == 3 && clearing.count == 1 && awards.count == 3 && dispatch.count == 3, "interval \(interval)")
            guard let cleared = clearing.first, let lastBid = bids.max(), let firstAward = awards.min(), let lastAward = awards.max(),
                  let firstDispatch = dispatch.min() else { continue }
            #expect(lastBid < cleared && cleared < firstAward && lastAward < firstDispatch, "interval \(interval) out of order")
            // Each setpoint a household reports as landed is in its device's write log, after the awards were published.
            for index in dispatch {
                guard case .dispatch(let report) = messages[index].message.body else { continue }
                let awardsSent = messages[awards.first { messages[$0].message.topic == "awards/\(report.house)" } ?? firstAward].received
                #expect(!report.setpoints.isEmpty && report.setpoints.allSatisfy { $0.error == nil }, "\(report.setpoints.compactMap(\.error))")
                for setpoint in report.setpoints {
                    guard let landed = setpoint.landedAt else { continue }
                    let landedWrites = writes.filter { $0.device == setpoint.id && $0.record.exception == nil
                        && $0.record.unixTime >= awardsSent - 0.001 && $0.record.unixTime <= landed + 0.001 }
                    #expect(!landedWrites.isEmpty, "interval \(interval): \(setpoint.id) \(setpoint.name) not in the write log")
                }
            }
        }
        #expect(conductor.errorReports.isEmpty, "\(conductor.errorReports)")
    }
}
