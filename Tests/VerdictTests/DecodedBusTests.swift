import Messages
import Physics
import Testing
@testable import Verdict

/// The decoded bus keeps the clock's grants (own or shared) and time requests as headers, in their place among the other messages.
@Suite("The decoded bus")
struct DecodedBusTests {
    @Test("Headers of the clock come back in arrival order among the whole messages, and a slice by interval keeps that order")
    func order() {
        var h1 = MessageWriter(sender: "h1"), conductor = MessageWriter(sender: "conductor")
        let sent: [(Message, Double)] = [
            (conductor.message(TimeGrant(participant: "h1", time: 10), interval: 1), 1),
            (h1.message(Telemetry(house: "h1", devices: []), interval: 1), 2),
            (h1.message(TimeRequest(time: 20), interval: 1), 3),
            (conductor.message(TimeGrants(participants: ["h1", "h2"], time: 20), interval: 2), 4),
            (h1.message(TimeRequest(time: nil), interval: 2), 5),
            (h1.message(Telemetry(house: "h1", devices: []), interval: 2), 6),
            (conductor.message(Tick(time: 30), interval: 2), 7),
            (h1.message(TimeRequest(time: 40), interval: 2), 8),
        ]
        var bus = DecodedBus(capacity: sent.count)
        for (message, received) in sent { bus.append(message, received: received) }
        #expect(bus.messages.map(\.received) == [2, 6, 7])
        func seen(_ bus: DecodedBus) -> [String] {
            var seen: [String] = []
            bus.forEach { header, type, body, received in
                seen.append("\(received) \(header.sender)#\(header.sequence) \(header.interval ?? -1) \(type) \(body == nil ? "header" : "whole")")
            }
            return seen
        }
        #expect(seen(bus) == sent.map { message, received in
            let clock = message.body is TimeGrant || message.body is TimeGrants || message.body is TimeRequest
            return "\(received) \(message.header.sender)#\(message.header.sequence) \(message.header.interval ?? -1) \(message.body.type) \(clock ? "header" : "whole")"
        })
        #expect(seen(bus.filter(intervals: [2])) == Array(seen(bus).dropFirst(3)))
        #expect(seen(bus.filter(intervals: [1])) == Array(seen(bus).prefix(3)))
    }
}
