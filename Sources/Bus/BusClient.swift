/// One message as a subscriber receives it.
public struct BusMessage: Sendable {
    public let topic: String
    public let payload: [[UInt8]]

    public init(topic: String, payload: [[UInt8]]) {
        self.topic = topic
        self.payload = payload
    }
}

/// A participant's connection to the broker: a publisher and a subscriber with topic prefixes.
///
/// Owned by one thread at a time, like the libzmq sockets inside it.
public final class BusClient {
    private let publisher: BusSocket
    private let subscriber: BusSocket
    /// Messages that arrived during `join`, delivered first by `receive`.
    private var pending: [BusMessage] = []

    /// `highWater` bounds the messages queued per peer (0: unbounded); past it a publisher drops. With
    /// `credentials`, both connections authenticate with CURVE.
    public init(context: BusContext, endpoints: BusEndpoints, topics: [String], credentials: BusCredentials? = nil,
                highWater: Int32 = 100_000) throws(BusError) {
        publisher = try BusSocket(context, .publisher, highWater: highWater)
        subscriber = try BusSocket(context, .subscriber, highWater: highWater)
        if let credentials {
            try publisher.useCurve(credentials)
            try subscriber.useCurve(credentials)
        }
        try publisher.connect(endpoints.publish)
        try subscriber.connect(endpoints.subscribe)
        for topic in topics { try subscriber.subscribe(topic) }
    }

    public func subscribe(_ prefix: String) throws(BusError) { try subscriber.subscribe(prefix) }

    /// Publishes one message: the topic frame, then each payload frame. Never blocks; a full queue drops.
    public func publish(_ topic: String, _ payload: [UInt8]...) throws(BusError) {
        try publisher.send(topic: topic, payload)
    }

    /// The next message, waiting at most `timeout` (nil: forever). With no time left to wait it only looks: a
    /// receive that finds nothing has already taken in what libzmq had queued for the socket.
    public func receive(timeout: Duration?) throws(BusError) -> BusMessage? {
        if !pending.isEmpty { return pending.removeFirst() }
        if let (topic, payload) = try subscriber.receive() { return BusMessage(topic: topic, payload: payload) }
        guard timeout.map({ $0 > .zero }) ?? true, try BusSocket.readable([subscriber], timeout: timeout)[0] else { return nil }
        return try subscriber.receive().map { BusMessage(topic: $0.topic, payload: $0.payload) }
    }

    /// The readiness handshake against the slow-joiner problem: subscribes to `topic`, then publishes `payload`
    /// on it every `interval` until the message comes back through the broker. From then on the broker holds every
    /// subscription made before, so no later message for them is missed. Returns false if nothing came back
    /// within `timeout`. Other messages received meanwhile are kept for `receive`.
    public func join(topic: String, payload: [UInt8], interval: Duration = .milliseconds(20), timeout: Duration) throws(BusError) -> Bool {
        try subscriber.subscribe(topic)
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            try publish(topic, payload)
            let until = min(ContinuousClock.now + interval, deadline)
            while ContinuousClock.now < until {
                guard let (received, frames) = try BusSocket.readable([subscriber], timeout: ContinuousClock.now.duration(to: until))[0]
                        ? try subscriber.receive() : nil else { continue }
                let message = BusMessage(topic: received, payload: frames)
                if message.topic == topic && message.payload.first == payload { return true }
                pending.append(message)
            }
        }
        return false
    }
}
