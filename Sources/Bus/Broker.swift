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

/// Captured messages as one byte log (each frame as a 4-byte length and its bytes), kept on disk (`CaptureFile`),
/// with an index of messages in memory: each message is read out when asked for. A run's record holds the bus
/// this way, once.
public struct CaptureLog: RandomAccessCollection, Sendable {
    private let file: CaptureFile
    /// Where each message's frames end in the log, and when it arrived.
    private var ends: [Int] = []
    private var arrivals: [Double] = []

    public init() throws(BusError) { file = try CaptureFile() }

    public init(_ messages: some Sequence<CapturedMessage>) throws(BusError) {
        try self.init()
        for message in messages {
            for frame in [Array(message.topic.utf8)] + message.payload { frame.withUnsafeBytes { append(frame: $0) } }
            endMessage(at: message.received)
        }
    }

    /// The bytes a message of `frameCount` frames totalling `byteCount` bytes takes.
    static func size(byteCount: Int, frameCount: Int) -> Int { byteCount + 4 * frameCount }

    var byteCount: Int { ends.last ?? 0 }

    mutating func append(frame: UnsafeRawBufferPointer) {
        withUnsafeBytes(of: UInt32(frame.count).littleEndian) { file.append($0) }
        file.append(frame)
    }

    /// Closes the message whose frames were appended since the last one.
    mutating func endMessage(at time: Double) {
        ends.append(file.byteCount)
        arrivals.append(time)
    }

    public var startIndex: Int { 0 }
    public var endIndex: Int { ends.count }

    public subscript(index: Int) -> CapturedMessage {
        let frames = frames(of: index, upTo: .max)
        return CapturedMessage(topic: String(decoding: frames.first ?? [], as: UTF8.self), payload: Array(frames.dropFirst()), received: arrivals[index])
    }

    /// The messages `size` at a time, each chunk read from the file in order, with the index of its first: a chunk
    /// is all of the capture that waits in memory while it is worked on (on every core, say).
    public func chunks(of size: Int) -> some Sequence<(start: Int, messages: [CapturedMessage])> {
        stride(from: 0, to: count, by: Swift.max(1, size)).lazy.map { start in (start, Array(self[start..<Swift.min(start + size, count)])) }
    }

    /// The topic of the `index`th message, without its payload.
    func topic(at index: Int) -> String { String(decoding: frames(of: index, upTo: 1).first ?? [], as: UTF8.self) }

    /// The first `limit` frames of the `index`th message (fewer, should the disk not give them back whole).
    private func frames(of index: Int, upTo limit: Int) -> [[UInt8]] {
        let bytes = file.read((index == 0 ? 0 : ends[index - 1])..<ends[index])
        var frames: [[UInt8]] = [], cursor = 0
        while frames.count < limit, cursor + 4 <= bytes.count {
            let length = Int(UInt32(bytes[cursor]) | UInt32(bytes[cursor + 1]) << 8 | UInt32(bytes[cursor + 2]) << 16 | UInt32(bytes[cursor + 3]) << 24)
            guard cursor + 4 + length <= bytes.count else { break }
            frames.append(Array(bytes[(cursor + 4)..<(cursor + 4 + length)]))
            cursor += 4 + length
        }
        return frames
    }
}

/// Every message the broker forwarded, in order, up to a size bound: the harness's record of truth for the bus.
/// Past `limit` bytes a message is counted in `overflow` instead.
public final class BusCapture: Sendable {
    struct Log {
        var kept: CaptureLog
        var overflow = BusCaptureOverflow()
    }

    private let log: Mutex<Log>
    private let limit: Int

    public init(limit: Int = .max) throws(BusError) {
        log = Mutex(Log(kept: try CaptureLog()))
        self.limit = limit
    }

    /// Keeps `message` as it is about to be sent, or counts it once the capture is full. Called before the send, so
    /// that whatever a subscriber has received is already in the capture.
    func record(_ message: ReceivedMessage, at time: Double) {
        log.withLock { log in
            let size = CaptureLog.size(byteCount: message.byteCount, frameCount: message.frameCount)
            guard log.kept.byteCount + size <= limit else {
                if log.overflow.messages == 0 { log.overflow.first = time }
                log.overflow.messages += 1
                log.overflow.bytes += size
                log.overflow.last = time
                return
            }
            for index in 0..<message.frameCount { message.withFrame(index) { log.kept.append(frame: $0) } }
            log.kept.endMessage(at: time)
        }
    }

    public var count: Int { log.withLock { $0.kept.count } }

    /// The topics of the messages kept from the `start`th on.
    public func topics(from start: Int) -> [String] {
        let kept = all
        return start < kept.count ? (start..<kept.count).map(kept.topic(at:)) : []
    }

    /// What arrived after the capture was full.
    public var overflow: BusCaptureOverflow { log.withLock { $0.overflow } }

    /// Every message the broker has forwarded: those kept and those only counted.
    public var forwarded: Int { log.withLock { $0.kept.count + $0.overflow.messages } }

    /// The messages kept so far (sharing the capture's file, to which later ones are only appended).
    public var all: CaptureLog { log.withLock { $0.kept } }
}

/// Messages forwarded after the capture reached its bound: counted, not kept.
public struct BusCaptureOverflow: Sendable, Equatable {
    public var messages = 0
    public var bytes = 0
    /// Wall-clock arrivals of the first and the last, seconds since the Unix epoch.
    public var first = 0.0
    public var last = 0.0

    public init() {}
}

/// An XSUB/XPUB proxy on its own thread, admitting each message under its rules and capturing what it forwards.
///
/// Publishers send everything to the broker (its XSUB subscribes to all), and the XPUB filters by each
/// subscriber's topic prefixes. A subscriber whose subscription has reached the broker therefore receives every
/// later message, whoever publishes it; the join handshake (`BusClient.join`) proves that point was reached.
/// With a roster or authentication, the broker's ZAP handler names every connection, so that each message is
/// judged by who sent it (`BusGate`).
public final class Broker: Sendable {
    public let endpoints: BusEndpoints
    /// The same sockets for participants in this process and this context (`inproc`): no network, no
    /// authentication, and trusted as GridRig's own (`BusRules.local`).
    public let localEndpoints: BusEndpoints
    /// What subscribers were sent (a message a fault dropped is not in it; one it duplicated is in it twice).
    public let capture: BusCapture
    private let loop: LoopState

    /// What the bus faults did, in arrival order.
    public var faultEvents: [BusFaultEvent] { loop.faultEvents.withLock { $0 } }
    /// Messages refused under the rules, summed by connection, sender and reason.
    public var refusals: [BusRefusal] { loop.gate.withLock { $0.refusals } }
    /// Connections turned away: keys of no participant, and failed CURVE handshakes.
    public var refusedConnections: [RefusedConnection] {
        loop.gate.withLock { gate in
            gate.refusedConnections.values.sorted { ($0.first, $0.address ?? "") < ($1.first, $1.address ?? "") }
                + (gate.failedHandshakes.attempts > 0 ? [gate.failedHandshakes] : [])
        }
    }

    /// The stop request the thread polls, the gate it admits by, and its end.
    private final class LoopState: Sendable {
        let isStopping = Atomic<Bool>(false)
        let finished = DispatchSemaphore(value: 0)
        let joined = Mutex(false)
        let faultEvents = Mutex<[BusFaultEvent]>([])
        let gate: Mutex<BusGate>
        init(rules: BusRules) { gate = Mutex(BusGate(rules: rules)) }
    }

    /// Binds both endpoints now (errors are thrown here, not on the thread); port 0 picks free ports.
    /// `highWater` bounds the messages queued per peer (0: unbounded); past it a subscriber's messages are dropped.
    /// `rules` say who may connect and speak; `faults` makes the link faulty.
    public init(context: BusContext, host: String = "127.0.0.1", publishPort: UInt16 = 0, subscribePort: UInt16 = 0,
                highWater: Int32 = 100_000, rules: BusRules = BusRules(), faults: (any BusFaultPolicy)? = nil) throws(BusError) {
        loop = LoopState(rules: rules)
        capture = try BusCapture(limit: rules.captureLimit)
        let local = "inproc://gridrig.broker.\(UInt(bitPattern: ObjectIdentifier(loop).hashValue))"  // unique: a context may hold several
        // The ZAP handler must be bound before a socket that asks it accepts connections.
        let zap: BusSocket? = rules.roster == nil && rules.authentication == nil ? nil : try BusSocket(context, .reply)
        _ = try zap?.bind("inproc://zeromq.zap.01")
        // What a publisher has sent and the broker not yet read stays bounded in this process: 1,000 messages of at
        // most 4 times the size limit per connection. A sender's own queue absorbs its bursts.
        let inbound = try BusSocket(context, .extendedSubscriber, highWater: 1_000)
        let outbound = try BusSocket(context, .extendedPublisher, highWater: highWater)
        try inbound.limitFrames(to: 4 * rules.maxMessageBytes)
        var monitors: [BusSocket] = []
        for (index, socket) in [inbound, outbound].enumerated() {
            if let authentication = rules.authentication {
                try socket.serveCurve(secretKey: authentication.server.secretKey)
                let endpoint = local + ".handshakes.\(index)"
                try socket.monitorHandshakes(on: endpoint)
                let monitor = try BusSocket(context, .pair)
                try monitor.connect(endpoint)
                monitors.append(monitor)
            }
            if zap != nil { try socket.authenticate(domain: "gridrig") }
        }
        func endpoint(_ port: UInt16) -> String { "tcp://\(host):\(port == 0 ? "*" : String(port))" }
        endpoints = BusEndpoints(publish: try inbound.bind(endpoint(publishPort)), subscribe: try outbound.bind(endpoint(subscribePort)))
        localEndpoints = BusEndpoints(publish: try inbound.bind(local + ".publish"), subscribe: try outbound.bind(local + ".subscribe"))
        try inbound.send([[0x01]])  // subscribe to every topic upstream
        let sockets = Sockets(inbound: inbound, outbound: outbound, zap: zap, monitors: monitors)
        let capture = self.capture
        let thread = Thread { [loop] in
            Self.forward(sockets, capture: capture, faults: faults, until: loop)
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

    /// Lets a restarted participant speak for `sender` on its new connection (without authentication, a sender is
    /// bound to the first connection that used it).
    public func release(sender: String) { loop.gate.withLock { $0.release(sender) } }

    deinit { stop() }

    /// Hands the broker's sockets to its thread, which alone uses them from then on.
    private final class Sockets: @unchecked Sendable {
        // @unchecked: created on the caller's thread, then used only by the broker thread (a full barrier between).
        var inbound: BusSocket?
        var outbound: BusSocket?
        var zap: BusSocket?
        var monitors: [BusSocket]
        init(inbound: BusSocket, outbound: BusSocket, zap: BusSocket?, monitors: [BusSocket]) {
            self.inbound = inbound
            self.outbound = outbound
            self.zap = zap
            self.monitors = monitors
        }
    }

    /// The forwarding loop: each message is admitted by the gate, judged by `faults` if the link is faulty, then
    /// sent, dropped, doubled or held (held messages go when due), and captured as sent.
    private static func forward(_ sockets: Sockets, capture: BusCapture, faults: (any BusFaultPolicy)?, until loop: LoopState) {
        guard let inbound = sockets.inbound, let outbound = sockets.outbound else { return }
        let zap = sockets.zap, monitors = sockets.monitors
        defer { sockets.inbound = nil; sockets.outbound = nil; sockets.zap = nil; sockets.monitors = [] }
        var held = HeldMessages()
        var spare: ReceivedMessage?  // the last message sent or refused, emptied, to receive the next into
        let polled = [inbound, outbound] + (zap.map { [$0] } ?? []) + monitors
        while !loop.isStopping.load(ordering: .relaxed) {
            let wait = min(held.nextDue ?? .milliseconds(20), .milliseconds(20))
            let ready = (try? BusSocket.readable(polled, timeout: max(wait, .zero))) ?? polled.map { _ in false }
            if let zap, ready[2] { answer(zap, gate: loop.gate) }
            for (index, monitor) in monitors.enumerated() where ready[3 + index] {
                let failures = monitor.handshakeFailures()
                loop.gate.withLock { $0.handshakesFailed(failures, at: unixTime()) }
            }
            if ready[0] {
                // A batch at a time, so that a flood cannot keep the loop from stopping, answering ZAP or releasing.
                for _ in 0..<4_096 {
                    guard let message = (try? inbound.receiveMessage(reusing: spare)) ?? nil else { break }
                    spare = message
                    let now = unixTime()
                    if let connection = message.property("User-Id") {  // none: a local connection
                        let admitted = loop.gate.withLock { gate in
                            gate.admit(connection: connection, address: message.property("Peer-Address") ?? "", frames: message.frameCount,
                                       bytes: message.byteCount, withPayload: { message.withFrame(1, $0) }, at: now)
                        }
                        guard admitted else { message.discard(); continue }
                    }
                    guard let faults else { send(message, at: now, to: outbound, capture: capture); continue }
                    spare = nil  // it may be held
                    let topic = message.topic, payload = (1..<max(1, message.frameCount)).map { message.bytes(of: $0) }
                    let action = faults.action(topic: topic, payload: payload)
                    if action != .forward {
                        loop.faultEvents.withLock { $0.append(BusFaultEvent(topic: topic, payload: payload, action: action, received: now)) }
                    }
                    switch action {
                    case .forward, .duplicate:
                        if action == .duplicate { send(message.copy(), at: now, to: outbound, capture: capture) }
                        send(message, at: now, to: outbound, capture: capture)
                        for held in held.release(passed: topic) { send(held.message, at: unixTime(), to: outbound, capture: capture) }
                    case .drop: break
                    case .delay(let delay): held.hold(message, topic: topic, for: delay, afterNext: false)
                    case .reorder(let limit): held.hold(message, topic: topic, for: limit, afterNext: true)
                    }
                }
            }
            for message in held.release() { send(message.message, at: unixTime(), to: outbound, capture: capture) }
            if ready[1] {
                while (try? outbound.receiveMessage()) ?? nil != nil {}  // subscription notices: the XPUB applies them itself
            }
        }
    }

    /// Sends `message` on, captured first as sent at `time`: a subscriber may act on it before `send` returns.
    private static func send(_ message: ReceivedMessage, at time: Double, to outbound: BusSocket, capture: BusCapture) {
        capture.record(message, at: time)
        outbound.send(message)
    }

    /// Answers every waiting ZAP request (RFC 27): version, request id, domain, address, routing id, mechanism,
    /// credentials. The reply's user id names the connection on each of its messages.
    private static func answer(_ zap: BusSocket, gate: borrowing Mutex<BusGate>) {
        while let request = (try? zap.receiveFrames()) ?? nil {
            guard request.count >= 6 else { continue }
            let address = String(decoding: request[3], as: UTF8.self), mechanism = String(decoding: request[5], as: UTF8.self)
            let key = mechanism == "CURVE" && request.count > 6 ? BusKeyPair.z85(request[6]) : nil
            let name = gate.withLock { $0.name(connection: address, curveKey: key, at: unixTime()) }
            let status = name == nil ? "400" : "200", text = name == nil ? "no participant has this key" : "OK"
            _ = try? zap.send([Array("1.0".utf8), request[1], Array(status.utf8), Array(text.utf8), Array((name ?? "").utf8), []])
        }
    }
}

/// Wall-clock time, seconds since the Unix epoch.
public func unixTime() -> Double {
    var now = timespec()
    clock_gettime(CLOCK_REALTIME, &now)
    return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
}
