@testable import Bus
import Foundation
import Messages
import Physics
@testable import Reports
@testable import Rigs
@testable import Run
import Testing
@testable import Verdict

/// protocol-conformance blames the sender, excuses what a bus fault did, and judges a clearing against the
/// allocation rule at its own price (docs/CONFORMANCE.md).
@Suite("protocol-conformance")
struct ProtocolConformanceTests {
    @Test("Awards sent twice fail the market, unless a bus fault duplicated them")
    func awardsTwice() throws {
        var fixture = try RunFixture(intervals: 1, assertions: [AssertionSpec(.protocolConformance)])
        fixture.clear(1, quantity: 0, awards: ["h1": [], "h2": [], "h3": [], "h4": []])
        let twice = fixture.messages.last!
        fixture.messages.append(twice)
        let failing = try #require(try fixture.result(.protocolConformance))
        #expect(!failing.passed && failing.detail.contains("market: interval 1: a second awards message for h4"), "\(failing.detail)")
        var record = try fixture.record
        record.busFaultEvents = [BusFaultEvent(topic: twice.message.topic.description, payload: [twice.message.encoded()], action: .duplicate, received: 1)]
        let excused = try #require(RunReport(record).results.first { $0.kind == .protocolConformance })
        #expect(excused.passed, "\(excused.detail)")
    }

    @Test("A clearing whose marginal fields or awards break the pro-rata rule at its own price fails the market; the right ones pass")
    func proRata() throws {
        func run(marginal: (Double, Double), awards: (Double, Double)) throws -> AssertionResult {
            var fixture = try RunFixture(intervals: 1, assertions: [AssertionSpec(.protocolConformance)])
            var h1 = MessageWriter(sender: "h1"), h2 = MessageWriter(sender: "h2"), market = MessageWriter(sender: "market")
            var conductor = MessageWriter(sender: "conductor")
            fixture.messages = [
                (h1.message(Bids(house: "h1", bids: [WireBid(id: "h1/battery", side: .sell, price: 0.1, quantity: 3)]), interval: 1), 0.1),
                (h2.message(Bids(house: "h2", bids: [WireBid(id: "h2/ev", side: .buy, price: 0.3, quantity: 4),
                                                           WireBid(id: "h2/thermostat", side: .buy, price: 0.3, quantity: 2)]), interval: 1), 0.2),
                (conductor.message(Gate(), interval: 1), 0.3),
                // 6 kW of buyers at 0.30 share the 3 kW sold: half each (type buyer, marginal 3 kW, fraction 0.5).
                (market.message(ClearingResult(price: 0.3, quantity: 3, clearingType: .buyer, marginalQuantity: marginal.0,
                                                         marginalFraction: marginal.1, unservedDemand: 0, bidCount: 3), interval: 1), 0.4),
                (market.message(Awards(house: "h1", price: 0.3, awards: [.init(id: "h1/battery", side: .sell, quantity: 3)]), interval: 1), 0.5),
                (market.message(Awards(house: "h2", price: 0.3, awards: [.init(id: "h2/ev", side: .buy, quantity: awards.0),
                                                                                 .init(id: "h2/thermostat", side: .buy, quantity: awards.1)]), interval: 1), 0.6),
            ]
            return try #require(try fixture.result(.protocolConformance))
        }
        #expect(try run(marginal: (3, 0.5), awards: (2, 1)).passed)
        let zero = try run(marginal: (0, 0), awards: (2, 1))
        #expect(!zero.passed && zero.detail.contains("marginal_quantity 0.0 and marginal_fraction 0.0, but its awards give 3.0000 and 0.5000"), "\(zero.detail)")
        let curveOrder = try run(marginal: (3, 0.5), awards: (3, 0))
        #expect(!curveOrder.passed && curveOrder.detail.contains("h2/ev awarded 3.0000 kW, the allocation rule gives 2.0000 kW"), "\(curveOrder.detail)")
    }

    @Test("seq that does not count up fails its sender; a hello starts it again; an error may name an interval never opened")
    func sequence() throws {
        var fixture = try RunFixture(intervals: 1, assertions: [AssertionSpec(.protocolConformance)])
        fixture.clear(1, quantity: 0, awards: ["h1": [], "h2": [], "h3": [], "h4": []])
        var h2 = MessageWriter(sender: "h2")
        fixture.messages.append((h2.message(Hello(role: .household)), 2))
        fixture.messages.append((h2.message(Telemetry(house: "h2", devices: []), interval: 1), 2.1))
        fixture.messages.append((fixture.market.message(ErrorReport(fault: .closedInterval, detail: "99", about: "h3", topic: "bids/h3", count: 1),
                                                interval: 99), 2.2))
        let before = try #require(try fixture.result(.protocolConformance))
        #expect(before.passed, "\(before.detail)")
        var restarted = MessageWriter(sender: "h2")
        fixture.messages.append((restarted.message(Hello(role: .household)), 3))
        fixture.messages.append((restarted.message(Telemetry(house: "h2", devices: []), interval: 1), 3.1))
        fixture.messages.append((restarted.message(Telemetry(house: "h2", devices: []), interval: 1), 3.2))
        let restart = try #require(try fixture.result(.protocolConformance))
        #expect(restart.passed, "a restart with hello counts again from 1: \(restart.detail)")
        fixture.messages.append(fixture.messages.last!)
        let repeated = try #require(try fixture.result(.protocolConformance))
        #expect(!repeated.passed && repeated.detail.contains("h2: seq 3 after 3 (telemetry)"), "\(repeated.detail)")
    }

    @Test("The clock's grants and time requests, kept by their headers alone, still count in their senders' seq and as strays")
    func clockHeaders() throws {
        var fixture = try RunFixture(intervals: 1, assertions: [AssertionSpec(.protocolConformance)])
        fixture.clear(1, quantity: 0, awards: ["h1": [], "h2": [], "h3": [], "h4": []])
        var h2 = MessageWriter(sender: "h2")
        fixture.messages.append((h2.message(Telemetry(house: "h2", devices: []), interval: 1), 2))
        let request = h2.message(TimeRequest(time: 600), interval: 1)
        fixture.messages.append((request, 2.1))
        fixture.messages.append((h2.message(Telemetry(house: "h2", devices: []), interval: 1), 2.2))
        #expect(try #require(try fixture.result(.protocolConformance)).passed)
        // The request again, between two messages that keep their bodies: its seq no longer counts up.
        fixture.messages.append((request, 2.3))
        let repeated = try #require(try fixture.result(.protocolConformance))
        #expect(!repeated.passed && repeated.detail.contains("h2: seq 2 after 3 (time-request)"), "\(repeated.detail)")
        fixture.messages.removeLast()
        // A kept message repeated after a header of the clock is still caught.
        fixture.messages.append((h2.message(TimeRequest(time: 900), interval: 1), 2.4))
        var behind = h2
        fixture.messages.append((h2.message(Telemetry(house: "h2", devices: []), interval: 1), 2.5))
        fixture.messages.append((behind.message(Telemetry(house: "h2", devices: []), interval: 1), 2.6))
        let after = try #require(try fixture.result(.protocolConformance))
        #expect(!after.passed && after.detail.contains("h2: seq 5 after 5 (telemetry)"), "\(after.detail)")
        fixture.messages.removeLast(2)
        fixture.messages.append((fixture.conductor.message(TimeGrant(participant: "h2", time: 900), interval: 7), 2.7))
        let stray = try #require(try fixture.result(.protocolConformance))
        #expect(!stray.passed && stray.detail.contains("conductor: 1 message for an interval the conductor never opened"), "\(stray.detail)")
    }

    @Test("Every participant answers the conductor's goodbye within 3 s; one that is late or silent is named")
    func goodbye() throws {
        var fixture = try RunFixture(intervals: 1, assertions: [AssertionSpec(.protocolConformance)])
        fixture.clear(1, quantity: 0, awards: ["h1": [], "h2": [], "h3": [], "h4": []])
        fixture.messages.append((fixture.conductor.message(Goodbye(reason: "the run is over")), 10))
        fixture.messages.append((fixture.market.message(Goodbye(reason: "bye")), 14))
        for (name, delay) in [("h1", 0.1), ("h2", 0.2), ("h3", 2.9)] {
            var writer = MessageWriter(sender: name)
            fixture.messages.append((writer.message(Goodbye(reason: "bye")), 10 + delay))
        }
        let result = try #require(try fixture.result(.protocolConformance))
        #expect(!result.passed && result.measured == "1 by h4, 1 by market", "\(result.measured): \(result.detail)")
        #expect(result.detail.contains("market: answered the conductor's goodbye after 4.0 s") && result.detail.contains("h4: never answered"), "\(result.detail)")
    }
}
