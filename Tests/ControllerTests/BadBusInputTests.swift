import Agents
import Bus
import Dispatch
import Foundation
import Messages
import Physics
import Run
import TestSupport
import Testing

@Suite("Bad bus input", .serialized, .timeLimit(.minutes(2)))
struct BadBusInputTests {
    @Test("Malformed JSON, a wrong version, a closed interval, a negative quantity, an unknown sender and a flood are each refused with an error naming the fault, counted, and the run goes on")
    func refusedAndCounted() throws {
        let world = try World()
        defer { world.stop() }
        let market = MarketAgent(setup: MarketSetup(households: ["h1", "h2", "h3"], messageLimit: 20), context: world.context,
                                 endpoints: world.broker.endpoints, logger: world.logger)
        // h3's agent stays silent: the rogue below speaks as h3 and as strangers.
        let agents = world.households.filter { $0.house != "h3" }
            .map { HouseholdAgent(setup: $0, context: world.context, endpoints: world.broker.endpoints, logger: world.logger) }
        let threads = [Spawned { try? market.run() }] + agents.map { agent in Spawned { try? agent.run() } }
        let conductor = try world.conductor(timing: IntervalTiming(bidDeadline: .seconds(1), dispatchDeadline: .seconds(1)))
        try conductor.waitUntilReady(["h1", "h2", "market"], timeout: .seconds(20))

        let joined = DispatchSemaphore(value: 0)
        let (context, endpoints) = (world.context, world.broker.endpoints)
        let injected = Spawned {
            guard let rogue = try? BusClient(context: context, endpoints: endpoints, topics: ["interval"]),
                  (try? rogue.join(topic: "hello/rogue", payload: Array("rogue".utf8), timeout: .seconds(5))) == true else { return }
            joined.signal()
            guard let start = try? rogue.receive(timeout: .seconds(10)), start.topic == "interval" else { return }
            func bids(_ house: HouseID, interval: Int?, quantity: Double = 1, version: Int = 1, sequence: UInt64) -> [UInt8] {
                var message = Message(header: .init(version: version, interval: interval, sender: house.name, sequence: sequence),
                                      body: Bids(house: house, bids: [WireBid(id: "\(house)/ev", side: .buy, price: 0.3, quantity: quantity)]))
                message.header.version = version
                return message.encoded()
            }
            try? rogue.publish("bids/h3", Array("{\"v\": 1, \"type\": \"bids\", oops".utf8))
            try? rogue.publish("bids/h3", bids("h3", interval: 1, version: 2, sequence: 1))
            try? rogue.publish("bids/h3", bids("h3", interval: 99, sequence: 2))
            try? rogue.publish("bids/h3", bids("h3", interval: 1, quantity: -7.4, sequence: 3))
            try? rogue.publish("bids/intruder", bids("intruder", interval: 1, sequence: 1))
            try? rogue.publish("interval", Array("garbage for the households".utf8))
            for k in 0..<30 { try? rogue.publish("bids/h3", bids("h3", interval: 1, sequence: UInt64(10 + k))) }
        }
        #expect(joined.wait(timeout: .now() + 10) == .success)
        let first = try conductor.runInterval()
        #expect(injected.wait())
        let second = try conductor.runInterval()
        try conductor.finish()
        #expect(threads.allSatisfy { $0.wait() }, "a participant did not end after goodbye")

        let rejected = market.control.rejected
        // Malformed twice: the broken bids frame, and the garbage on "interval" (the market reads that topic too).
        #expect(rejected[.malformed] == 2 && rejected[.version] == 1 && rejected[.closedInterval] == 1)
        // h3's 31 well-formed messages in interval 1 (the refused bid counts too): 20 taken, 11 dropped.
        #expect(rejected[.invalidBid] == 1 && rejected[.unknownParticipant] == 1 && rejected[.flood] == 11)
        #expect(agents.allSatisfy { $0.control.rejected[.malformed] == 1 }, "the households did not refuse the garbage")

        let errors = world.messages.compactMap { entry -> ErrorReport? in
            guard entry.message.header.sender == "market", let report = entry.message.body as? ErrorReport else { return nil }
            return report
        }
        #expect(Set(errors.map(\.fault)) == [.malformed, .version, .closedInterval, .invalidBid, .unknownParticipant, .flood])
        #expect(errors.filter { $0.fault == .flood }.count == 1, "one error per flood, then silent counting")
        #expect(errors.first { $0.fault == .invalidBid }?.detail.contains("quantity") == true)
        #expect(errors.first { $0.fault == .unknownParticipant }?.about == "intruder")

        // The market took h3's last accepted bids in the first interval, and both intervals cleared and dispatched.
        let h3Awards = world.messages.compactMap { entry -> (Int?, Awards)? in
            guard let awards = entry.message.body as? Awards, awards.house == "h3" else { return nil }
            return (entry.message.header.interval, awards)
        }
        #expect(h3Awards.first { $0.0 == 1 }?.1.awards.map(\.id) == ["h3/ev"])
        #expect(h3Awards.first { $0.0 == 2 }?.1.awards.isEmpty == true)
        #expect(first.clearing != nil && second.clearing != nil)
        #expect(first.dispatched == ["h1", "h2"] && second.dispatched == ["h1", "h2"] && second.bidders == ["h1", "h2"])
    }

    @Test("A household acts on awards only from the market and on intervals only from the conductor: anyone else's are refused as not-entitled")
    func notEntitled() throws {
        let world = try World()
        defer { world.stop() }
        let market = MarketAgent(setup: MarketSetup(households: ["h1", "h2", "h3"]), context: world.context, endpoints: world.broker.endpoints,
                                 logger: world.logger)
        let agents = world.households.map { HouseholdAgent(setup: $0, context: world.context, endpoints: world.broker.endpoints, logger: world.logger) }
        let threads = [Spawned { try? market.run() }] + agents.map { agent in Spawned { try? agent.run() } }
        let conductor = try world.conductor(timing: IntervalTiming(bidDeadline: .seconds(1), dispatchDeadline: .seconds(1)))
        try conductor.waitUntilReady(["h1", "h2", "h3", "market"], timeout: .seconds(20))
        let joined = DispatchSemaphore(value: 0)
        let (context, endpoints) = (world.context, world.broker.endpoints)
        let injected = Spawned {
            // A household's own connection, speaking out of its role (no broker rules here: the participants judge).
            guard let rogue = try? BusClient(context: context, endpoints: endpoints, topics: ["awards/h1"]),
                  (try? rogue.join(topic: "hello/h2x", payload: Array("h2".utf8), timeout: .seconds(5))) == true else { return }
            joined.signal()
            guard let awards = try? rogue.receive(timeout: .seconds(10)), awards.topic == "awards/h1" else { return }
            var writer = MessageWriter(sender: "h2")
            let forged = writer.message(Awards(house: "h1", price: 0.01, awards: [.init(id: "h1/ev", side: .buy, quantity: 50)]), interval: 1)
            try? rogue.publish(forged.topic.description, forged.encoded())
            let opened = writer.message(IntervalStart(start: 0, length: 300, priceCap: 1, bidDeadlineMs: 1, clearingDeadlineMs: 1,
                                                                dispatchDeadlineMs: 1), interval: 7)
            try? rogue.publish(opened.topic.description, opened.encoded())
        }
        #expect(joined.wait(timeout: .now() + 10) == .success)
        _ = try conductor.runInterval()
        #expect(injected.wait())
        _ = try conductor.runInterval()
        try conductor.finish()
        #expect(threads.allSatisfy { $0.wait() })
        #expect(agents[0].control.rejected[.notEntitled] == 2, "\(agents[0].control.rejected)")
        let refusals = world.messages.compactMap { entry -> ErrorReport? in
            guard entry.message.header.sender == "h1", let report = entry.message.body as? ErrorReport, report.fault == .notEntitled else { return nil }
            return report
        }
        #expect(Set(refusals.map(\.detail)) == ["only market sends awards messages", "only conductor sends interval messages"])
        #expect(refusals.allSatisfy { $0.about == "h2" })
    }
}
