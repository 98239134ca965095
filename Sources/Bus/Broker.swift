import Dispatch
import Foundation
import Synchronization

/// Where participants connect: publishers to the broker's `publish` endpoint, subscribers to its `subscribe` one.
public struct BusEndpoints: Sendable, Hashable, Codable {
    public var publish: String
    public var subscribe: String

    public init(publish: String, subscribe: String) {
        self.publish = publish
        self.subscribe = subscribe
    }
}

/// One message as the broker forwarded it: topic, payload frames, and when it arrived.
public struct CapturedMessage: Sendable {
    public let topic: String
    public let payload: [[UInt8]]
    /// Wall-clock arrival at the broker, seconds since the Unix epoch (comparable with the emulators' write logs).
    public let received: Double

    public init(topic: String, payload: [[UInt8]], received: Double) {
        self.topic = topic
        self.payload = payload
        self.received = received
    }
}

/// Every message the broker forwarded, in order: the harness's record of truth for the bus.
///
/// Frames are appended to one byte log (each frame as a 4-byte length and its bytes) with an index of messages,
/// so capturing costs no allocation per message; `all` rebuilds the messages when asked.
public final class BusCapture: Sendable {
    struct Log {
        var bytes: [UInt8] = []
        /// Where each message's frames end in `bytes`, and when it arrived.
        var ends: [Int] = []
        var arrivals: [Double] = []

        mutating func append(frame: UnsafeRawBufferPointer) {
            withUnsafeBytes(of: UInt32(frame.count).littleEndian) { bytes.append(contentsOf: $0) }
            bytes.append(contentsOf: frame)
        }

        mutating func close(at time: Double) {
            ends.append(bytes.count)
            arrivals.append(time)
        }
    }

    private let log = Mutex(Log())

    public init() {}

    func append(_ batch: Log) {
        log.withLock { log in
            let base = log.bytes.count
            log.bytes.append(contentsOf: batch.bytes)
            log.ends.append(contentsOf: batch.ends.map { $0 + base })
            log.arrivals.append(contentsOf: batch.arrivals)
        }
    }

    public var count: Int { log.withLock { $0.ends.count } }

    public var all: [CapturedMessage] {
        log.withLock { log in
            var messages: [CapturedMessage] = []
            messages.reserveCapacity(log.ends.count)
            var start = 0
            for (end, received) in zip(log.ends, log.arrivals) {
                var frames: [[UInt8]] = []
                var cursor = start
                while cursor + 4 <= end {
                    let length = Int(UInt32(log.bytes[cursor]) | UInt32(log.bytes[cursor + 1]) << 8
                                     | UInt32(log.bytes[cursor + 2]) << 16 | UInt32(log.bytes[cursor + 3]) << 24)
                    frames.append(Array(log.bytes[(cursor + 4)..<(cursor + 4 + length)]))
                    cursor += 4 + length
                }
                messages.append(CapturedMessage(topic: String(decoding: frames.first ?? [], as: UTF8.self),
                                                payload: Array(frames.dropFirst()), received: received))
                start = end
            }
            return messages
        }
    }
}

/// An XSUB/XPUB proxy on its own thread, capturing every message it forwards.
///
/// Publishers send everything to the broker (its XSUB subscribes to all), and the XPUB filters by each
/// subscriber's topic prefixes. A subscriber whose subscription has reached the broker therefore receives every
/// later message, whoever publishes it; the join handshake (`BusClient.join`) proves that point was reached.
public final class Broker: Sendable {
    public let endpoints: BusEndpoints
    /// What subscribers were sent (a message a fault dropped is not in it; one it duplicated is in it twice).
    public let capture = BusCapture()
    private let loop = LoopState()

    /// What the bus faults did, in arrival order.
    public var faultEvents: [BusFaultEvent] { loop.faultEvents.withLock { $0 } }

    /// The stop request the thread polls, and its end.
    private final class LoopState: Sendable {
        let isStopping = Atomic<Bool>(false)
        let finished = DispatchSemaphore(value: 0)
        let joined = Mutex(false)
        let faultEvents = Mutex<[BusFaultEvent]>([])
    }

    /// Binds both endpoints now (errors are thrown here, not on the thread); port 0 picks free ports.
    /// `highWater` bounds the messages queued per peer (0: unbounded); past it a subscriber's messages are dropped.
    /// `faults` makes the link faulty; without it every message is forwarded as it is, without a copy.
    public init(context: BusContext, host: String = "127.0.0.1", publishPort: UInt16 = 0, subscribePort: UInt16 = 0,
                highWater: Int32 = 100_000, faults: (any BusFaultPolicy)? = nil) throws(BusError) {
        let inbound = try BusSocket(context, .extendedSubscriber, highWater: highWater)
        let outbound = try BusSocket(context, .extendedPublisher, highWater: highWater)
        func endpoint(_ port: UInt16) -> String { "tcp://\(host):\(port == 0 ? "*" : String(port))" }
        endpoints = BusEndpoints(publish: try inbound.bind(endpoint(publishPort)), subscribe: try outbound.bind(endpoint(subscribePort)))
        try inbound.send([[0x01]])  // subscribe to every topic upstream
        let sockets = SocketPair(inbound: inbound, outbound: outbound)
        let capture = self.capture
        let thread = Thread { [loop] in
            if let faults {
                Self.forward(sockets, capture: capture, faults: faults, until: loop)
            } else {
                Self.forward(sockets, capture: capture, until: loop)
            }
            loop.finished.signal()
        }
        thread.name = "gridrig.broker"
        thread.start()
    }

    /// Stops forwarding and closes the sockets; returns once the thread has ended. Idempotent.
    public func stop() {
        loop.isStopping.store(true, ordering: .relaxed)
        loop.joined.withLock { done in
            guard !done else { return }
            loop.finished.wait()
            done = true
        }
    }

    deinit { stop() }

    /// Hands the broker's sockets to its thread, which alone uses them from then on.
    private final class SocketPair: @unchecked Sendable {
        // @unchecked: created on the caller's thread, then used only by the broker thread (a full barrier between).
        var inbound: BusSocket?
        var outbound: BusSocket?
        init(inbound: BusSocket, outbound: BusSocket) {
            self.inbound = inbound
            self.outbound = outbound
        }
    }

    private static func forward(_ sockets: SocketPair, capture: BusCapture, until loop: LoopState) {
        guard let inbound = sockets.inbound, let outbound = sockets.outbound else { return }
        defer { sockets.inbound = nil; sockets.outbound = nil }
        while !loop.isStopping.load(ordering: .relaxed) {
            guard let ready = try? BusSocket.readable([inbound, outbound], timeout: .milliseconds(20)) else { continue }
            if ready[0] {
                var batch = BusCapture.Log()
                _ = try? inbound.forwardWaiting(to: outbound) { frame, last in
                    batch.append(frame: frame)
                    if last { batch.close(at: unixTime()) }
                }
                capture.append(batch)
            }
            if ready[1] {
                while (try? outbound.receive()) ?? nil != nil {}  // subscription notices: the XPUB applies them itself
            }
        }
    }
}

extension Broker {
    /// The forwarding loop of a faulty link: each message is copied out, judged by `faults`, and sent, dropped,
    /// doubled or held; held messages go when due.
    private static func forward(_ sockets: SocketPair, capture: BusCapture, faults: any BusFaultPolicy, until loop: LoopState) {
        guard let inbound = sockets.inbound, let outbound = sockets.outbound else { return }
        defer { sockets.inbound = nil; sockets.outbound = nil }
        var held = HeldMessages()
        // Stamped before it is sent, as the zero-copy path does: a subscriber may act on it before `send` returns.
        func send(_ topic: String, _ payload: [[UInt8]]) {
            var log = BusCapture.Log()
            var frame = topic
            frame.withUTF8 { log.append(frame: UnsafeRawBufferPointer($0)) }
            for frame in payload { frame.withUnsafeBytes { log.append(frame: $0) } }
            log.close(at: unixTime())
            guard (try? outbound.send(topic: topic, payload)) != nil else { return }
            capture.append(log)
        }
        while !loop.isStopping.load(ordering: .relaxed) {
            let wait = min(held.nextDue ?? .milliseconds(20), .milliseconds(20))
            let ready = (try? BusSocket.readable([inbound, outbound], timeout: max(wait, .zero))) ?? [false, false]
            if ready[0] {
                while let (topic, payload) = (try? inbound.receive()) ?? nil {
                    let action = faults.action(topic: topic, payload: payload)
                    if action != .forward {
                        loop.faultEvents.withLock { $0.append(BusFaultEvent(topic: topic, payload: payload, action: action, received: unixTime())) }
                    }
                    switch action {
                    case .forward, .duplicate:
                        send(topic, payload)
                        if action == .duplicate { send(topic, payload) }
                        for message in held.release(passed: topic) { send(message.topic, message.payload) }
                    case .drop: break
                    case .delay(let delay): held.hold(topic, payload, for: delay, afterNext: false)
                    case .reorder(let limit): held.hold(topic, payload, for: limit, afterNext: true)
                    }
                }
            }
            for message in held.release() { send(message.topic, message.payload) }
            if ready[1] {
                while (try? outbound.receive()) ?? nil != nil {}
            }
        }
    }
}

/// Wall-clock time, seconds since the Unix epoch.
public func unixTime() -> Double {
    var now = timespec()
    clock_gettime(CLOCK_REALTIME, &now)
    return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
}
