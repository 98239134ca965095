import Bus
import Logging
public import Messages
import Synchronization

/// What every participant does around its own logic: join the bus, say it is ready until the run starts, read
/// messages refusing bad ones with an error on the bus, and stop on request or on the conductor's goodbye.
final class Participant {
    let name: String
    private let client: BusClient
    private var writer: MessageWriter
    let logger: Logger
    private let control: ParticipantControl
    /// What this participant reads: exact topics, and prefixes (ending in "/"). ZeroMQ filters by prefix only, so
    /// "awards/h1" also brings "awards/h10"; those are dropped here before any decoding.
    private let topics: [String]
    private var started = false
    private var lastReady = ContinuousClock.now

    /// The conductor's name on the bus.
    static let conductor = ParticipantName.conductor

    init(name: String, role: String, context: BusContext, endpoints: BusEndpoints, credentials: BusCredentials?, topics: [String],
         control: ParticipantControl, logger: Logger) throws(ParticipantError) {
        self.name = name
        self.control = control
        self.logger = logger
        self.topics = topics + ["interval", "goodbye/\(Self.conductor)"]
        writer = MessageWriter(sender: name)
        let joined: Bool
        do {
            client = try BusClient(context: context, endpoints: endpoints, topics: self.topics, credentials: credentials)
            let hello = writer.message(.hello(Hello(role: role, software: "gridrig reference \(role)")))
            joined = try client.join(topic: hello.topic, payload: hello.encoded(), timeout: .seconds(10))
            if joined { try send(.ready) }
        } catch {
            throw ParticipantError(message: "\(name): \(error)")
        }
        guard joined else { throw ParticipantError(message: "\(name): no answer from the broker at \(endpoints.publish) within 10 s") }
    }

    func send(_ body: Message.Body, interval: Int? = nil) throws(BusError) {
        try send([body], interval: interval)
    }

    /// Encodes every message first, then publishes them back to back, so that no receiver waits behind the encoding
    /// of another's message.
    func send(_ bodies: [Message.Body], interval: Int?) throws(BusError) {
        let frames = bodies.map { body in
            let message = writer.message(body, interval: interval)
            return (message.topic, message.encoded())
        }
        for (topic, payload) in frames { try client.publish(topic, payload) }
    }

    /// The next acceptable message, or nil when the participant should stop (asked to, or the conductor said
    /// goodbye). Bad messages are answered with an error on `error/<name>` and counted.
    func next() throws(BusError) -> Message? {
        while !control.isStopping {
            if !started, lastReady.duration(to: .now) > .milliseconds(200) {  // until the first interval, repeat ready
                try send(.ready)
                lastReady = .now
            }
            guard let raw = try client.receive(timeout: .milliseconds(50)),
                  topics.contains(where: { $0 == raw.topic || ($0.hasSuffix("/") && raw.topic.hasPrefix($0)) }) else { continue }
            let message: Message
            do {
                message = try Message.decode(topic: raw.topic, payload: raw.payload.first ?? [])
            } catch {
                try reject(error.fault, error.detail, about: error.sender, topic: raw.topic)
                continue
            }
            if message.header.sender == name { continue }  // our own hello and ready echo
            if let entitled = message.body.soleSender, message.header.sender != entitled {
                try reject(.notEntitled, "only \(entitled) sends \(message.body.type) messages", about: message.header.sender, topic: raw.topic)
                continue
            }
            if case .interval = message.body { started = true }
            if case .goodbye = message.body, message.header.sender == Self.conductor {
                try send(.goodbye(Goodbye(reason: "the conductor ended the run")))
                return nil
            }
            return message
        }
        try send(.goodbye(Goodbye(reason: "stopped")))
        return nil
    }

    /// Publishes the refusal and counts it.
    func reject(_ fault: ErrorReport.Fault, _ detail: String, about sender: String?, topic: String?, interval: Int? = nil) throws(BusError) {
        let count = control.count(fault)
        logger.warning("refused a message", metadata: ["fault": "\(fault.rawValue)", "detail": "\(detail)", "topic": "\(topic ?? "")"])
        try send(.error(ErrorReport(fault: fault, detail: detail, about: sender, topic: topic, count: count)), interval: interval)
    }
}

/// A participant's handle for the outside: stop it, and read what it refused.
public final class ParticipantControl: Sendable {
    private let stopping = Atomic<Bool>(false)
    private let rejections = Mutex<[ErrorReport.Fault: Int]>([:])

    public init() {}

    /// Asks the participant to end; it says goodbye and returns from `run()` within 50 ms.
    public func stop() { stopping.store(true, ordering: .relaxed) }
    var isStopping: Bool { stopping.load(ordering: .relaxed) }

    /// Messages refused so far, by fault.
    public var rejected: [ErrorReport.Fault: Int] { rejections.withLock { $0 } }

    func count(_ fault: ErrorReport.Fault) -> Int { rejections.withLock { $0[fault, default: 0] += 1; return $0[fault]! } }
}

public struct ParticipantError: Error, Sendable, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}
