import Bus
import Foundation
import Synchronization
import Testing

@Suite("Bus: broker, publish/subscribe, readiness", .timeLimit(.minutes(1)))
struct BusTests {
    @Test("A joined subscriber receives every later message by topic prefix, multipart intact, and the broker captures it")
    func publishSubscribe() throws {
        let context = try BusContext()
        let broker = try Broker(context: context)
        defer { broker.stop() }
        let subscriber = try BusClient(context: context, endpoints: broker.endpoints, topics: ["bids/"])
        #expect(try subscriber.join(topic: "hello/sub", payload: Array("sub".utf8), timeout: .seconds(5)))
        let publisher = try BusClient(context: context, endpoints: broker.endpoints, topics: [])
        #expect(try publisher.join(topic: "hello/pub", payload: Array("pub".utf8), timeout: .seconds(5)))
        for k in 0..<100 {
            try publisher.publish(k % 2 == 0 ? "bids/h\(k)" : "clearing", Array("\(k)".utf8), [0, 1, 2])
        }
        var received: [String] = []
        while received.count < 50, let message = try subscriber.receive(timeout: .seconds(2)) {
            #expect(message.payload.count == 2 && message.payload[1] == [0, 1, 2])
            received.append(String(decoding: message.payload[0], as: UTF8.self))
        }
        #expect(received == stride(from: 0, to: 100, by: 2).map(String.init))
        let captured = broker.capture.all.filter { $0.topic.hasPrefix("bids/") || $0.topic == "clearing" }
        #expect(captured.count == 100)
        #expect(zip(captured, captured.dropFirst()).allSatisfy { $0.received <= $1.received })
    }

    @Test("Joining times out when no broker answers, and says so")
    func joinTimesOut() throws {
        let context = try BusContext()
        let client = try BusClient(context: context, endpoints: BusEndpoints(publish: "tcp://127.0.0.1:1", subscribe: "tcp://127.0.0.1:2"), topics: [])
        #expect(try client.join(topic: "hello/x", payload: [1], timeout: .milliseconds(200)) == false)
    }

    @Test("A port in use is a typed error naming the endpoint")
    func portInUse() throws {
        let context = try BusContext()
        let first = try Broker(context: context)
        defer { first.stop() }
        let port = UInt16(first.endpoints.publish.split(separator: ":").last!)!
        #expect(throws: BusError.self) { try Broker(context: context, publishPort: port) }
        do { _ = try Broker(context: context, publishPort: port) } catch {
            #expect(error.description.hasPrefix("zmq_bind tcp://127.0.0.1:\(port): Address already in use"))
        }
    }

    @Test("Stopping the broker and dropping every socket never hangs")
    func cleanShutdown() throws {
        for _ in 0..<5 {
            let context = try BusContext()
            let broker = try Broker(context: context)
            let client = try BusClient(context: context, endpoints: broker.endpoints, topics: [""])
            _ = try client.join(topic: "hello/c", payload: [1], timeout: .seconds(5))
            for _ in 0..<1000 { try client.publish("x", [1]) }
            broker.stop()
            broker.stop()
        }
    }
}

/// Drops "a", doubles "b", delays "c" by 150 ms, and holds the first "d" behind the next one.
private final class ScriptedFaults: BusFaultPolicy {
    private let reordered = Mutex(false)
    func action(topic: String, payload: [[UInt8]]) -> BusFaultAction {
        switch topic {
        case "t/a": .drop
        case "t/b": .duplicate
        case "t/c": .delay(.milliseconds(150))
        case "t/d": reordered.withLock { done in defer { done = true }; return done ? .forward : .reorder(limit: .seconds(1)) }
        default: .forward
        }
    }
}

@Suite("Bus faults in the broker", .timeLimit(.minutes(1)))
struct BusFaultTests {
    @Test("A faulty link drops, duplicates, delays and reorders what its policy says; the capture holds what subscribers got")
    func faultyLink() throws {
        let context = try BusContext()
        let broker = try Broker(context: context, faults: ScriptedFaults())
        defer { broker.stop() }
        let subscriber = try BusClient(context: context, endpoints: broker.endpoints, topics: ["t/"])
        #expect(try subscriber.join(topic: "hello/sub", payload: Array("sub".utf8), timeout: .seconds(5)))
        let publisher = try BusClient(context: context, endpoints: broker.endpoints, topics: [])
        #expect(try publisher.join(topic: "hello/pub", payload: Array("pub".utf8), timeout: .seconds(5)))
        let sent = ContinuousClock.now
        for (topic, text) in [("t/a", "a"), ("t/b", "b"), ("t/c", "c"), ("t/d", "d1"), ("t/d", "d2"), ("t/e", "e")] {
            try publisher.publish(topic, Array(text.utf8))
        }
        var received: [String] = [], delayed: Duration?
        while received.count < 6, let message = try subscriber.receive(timeout: .seconds(2)) {
            let text = String(decoding: message.payload[0], as: UTF8.self)
            received.append(text)
            if text == "c" { delayed = ContinuousClock.now - sent }
        }
        #expect(received == ["b", "b", "d2", "d1", "e", "c"])
        #expect(delayed.map { $0 >= .milliseconds(150) } == true, "\(String(describing: delayed))")
        #expect(broker.faultEvents.map(\.topic) == ["t/a", "t/b", "t/c", "t/d"])
        #expect(broker.faultEvents.map(\.action) == [.drop, .duplicate, .delay(.milliseconds(150)), .reorder(limit: .seconds(1))])
        let captured = broker.capture.all.filter { $0.topic.hasPrefix("t/") }.map { String(decoding: $0.payload[0], as: UTF8.self) }
        #expect(captured == received)
    }
}
