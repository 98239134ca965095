public import Bus
import Foundation
import Logging
public import Messages
import Physics
import Synchronization

/// One participant's own logic: what it does with each acceptable message, through its participant.
protocol ParticipantLogic: AnyObject {
    /// Plans the Modbus reads `message` will need, to go out with the rest of the loop's ahead of the messages.
    func readAhead(for message: Message)
    func handle(_ message: Message, via participant: Participant) throws(BusError)
}

extension ParticipantLogic {
    func readAhead(for message: Message) {}
}

/// An agent a loop can serve: its name and role on the bus, what it reads, and its logic for one stay on the bus.
protocol LoopAgent: Sendable {
    var name: String { get }
    var control: ParticipantControl { get }
    var role: Role { get }
    /// What it reads besides the interval starts and the conductor's goodbye.
    var topics: [TopicFilter] { get }
    var logger: Logger { get }
    /// Its logic; the Modbus requests it plans go out with `batch`.
    func makeLogic(batch: ModbusBatch) -> any ParticipantLogic
}

/// What every participant does around its own logic: say hello until the broker echoes it, say ready until the run
/// starts, refuse bad messages with an error on the bus, and leave on request or on the conductor's goodbye.
/// Its loop delivers the messages and publishes for it.
final class Participant {
    let name: String
    let logger: Logger
    let control: ParticipantControl
    let handle: ParticipantHandle
    fileprivate let logic: any ParticipantLogic
    /// What it reads: its agent's topics, the interval starts, the conductor's goodbye, and its own hello (the
    /// broker's echo of it says the participant has joined).
    fileprivate let filters: [TopicFilter]
    fileprivate let hello: (topic: String, payload: [UInt8])
    /// Its ready: it takes its grants shared when it reads the `grants` topic.
    private let ready: Ready
    private let client: BusClient
    private let batch: ModbusBatch
    private let answers: SharedAnswers
    private var writer: MessageWriter
    fileprivate var joined = false
    fileprivate var started = false
    fileprivate var lastSaid = ContinuousClock.now
    fileprivate let joinDeadline = ContinuousClock.now + .seconds(10)

    /// The conductor's name on the bus.
    static let conductor = ParticipantName.conductor

    fileprivate init(_ agent: any LoopAgent, handle: ParticipantHandle, client: BusClient, batch: ModbusBatch, answers: SharedAnswers) {
        name = agent.name
        logger = agent.logger
        control = agent.control
        self.handle = handle
        self.client = client
        self.batch = batch
        self.answers = answers
        logic = agent.makeLogic(batch: batch)
        writer = MessageWriter(sender: agent.name)
        let message = writer.message(Hello(role: agent.role, software: "gridrig reference \(agent.role.rawValue)"))
        hello = (message.topic.description, message.encoded())
        filters = agent.topics + [.only(.interval), .only(.of(.goodbye, Self.conductor)), .only(message.topic)]
        ready = Ready(grants: agent.topics.contains(.only(.grants)) ? .shared : .own)
    }

    func send(_ body: any MessageBody, interval: Int? = nil) throws(BusError) {
        try send([body], interval: interval)
    }

    /// Encodes every message first, then publishes them back to back, so that no receiver waits behind the encoding
    /// of another's message.
    func send(_ bodies: [any MessageBody], interval: Int?) throws(BusError) {
        let frames = bodies.map { body in
            let message = writer.message(body, interval: interval)
            return (message.topic.description, message.encoded())
        }
        for (topic, payload) in frames { try client.publish(topic, payload) }
    }

    /// Runs `body` once the Modbus writes planned so far are answered (its loop sends them together): what reports
    /// them waits for them.
    func afterWrites(_ body: @escaping () throws(BusError) -> Void) {
        batch.then(self, body)
    }

    /// Answers a grant with the next simulated time it needs: a shared grant together with the loop's other answers to
    /// it (one `time-requests` message), its own grant on its own.
    func answer(_ grant: Message, next time: Double?, interval: Int) throws(BusError) {
        if grant.body is TimeGrants { answers.add(self, time, interval: interval) } else { try send(TimeRequest(time: time), interval: interval) }
    }

    /// Publishes the refusal and counts it.
    func reject(_ fault: ErrorReport.Fault, _ detail: String, about sender: String?, topic: String?, interval: Int? = nil) throws(BusError) {
        let count = control.count(fault)
        logger.warning("refused a message", metadata: ["fault": "\(fault.rawValue)", "detail": "\(detail)", "topic": "\(topic ?? "")"])
        try send(ErrorReport(fault: fault, detail: detail, about: sender, topic: topic, count: count), interval: interval)
    }

    /// Its hello until the broker echoes it (the slow-joiner handshake: from then on the broker holds every
    /// subscription made before), then ready every 200 ms until the first interval. False once it gave up joining.
    fileprivate func greet() throws(BusError) -> Bool {
        let now = ContinuousClock.now
        if !joined {
            guard now < joinDeadline else { return false }
            if lastSaid.duration(to: now) >= .milliseconds(20) {
                try client.publish(hello.topic, hello.payload)
                lastSaid = now
            }
        } else if !started, lastSaid.duration(to: now) >= .milliseconds(200) {
            try send(ready)
            lastSaid = now
        }
        return true
    }

    /// Plans the reads a message its logic will take needs.
    fileprivate func readAhead(_ decoded: Result<Message, MessageError>) {
        if joined, case .success(let message) = decoded, message.header.sender != name { logic.readAhead(for: message) }
    }

    /// Takes one raw message meant for this participant. Returns false when the participant leaves (the conductor
    /// said goodbye).
    fileprivate func take(_ raw: BusMessage, decoded: Result<Message, MessageError>) throws(BusError) -> Bool {
        if !joined {
            if raw.topic == hello.topic, raw.payload.first == hello.payload {
                joined = true
                try send(ready)
                lastSaid = .now
            }
            return true
        }
        let message: Message
        switch decoded {
        case .success(let decoded): message = decoded
        case .failure(let error):
            try reject(error.fault, error.detail, about: error.sender, topic: raw.topic)
            return true
        }
        if message.header.sender == name { return true }  // our own hello and ready echo
        if let entitled = type(of: message.body).soleSender, message.header.sender != entitled {
            try reject(.notEntitled, "only \(entitled) sends \(message.body.type) messages", about: message.header.sender, topic: raw.topic)
            return true
        }
        if message.body is IntervalStart { started = true }
        if message.body is Goodbye, message.header.sender == Self.conductor {
            try send(Goodbye(reason: "the conductor ended the run"))
            return false
        }
        try logic.handle(message, via: self)
        return true
    }
}

/// The outside's view of one participant on a loop: stop it, wait for it to end, and read how it ended.
public final class ParticipantHandle: Sendable {
    public let name: String
    public let control: ParticipantControl
    private let ended = DispatchSemaphore(value: 0)
    private let failure = Mutex<ParticipantError?>(nil)

    init(name: String, control: ParticipantControl) {
        self.name = name
        self.control = control
    }

    /// Waits until the participant has left the bus; false on timeout.
    public func wait(timeout: Duration) -> Bool {
        ended.wait(timeout: .now() + .milliseconds(Int(timeout / .milliseconds(1)))) == .success
    }

    /// The error it ended with, if any.
    public var error: ParticipantError? { failure.withLock { $0 } }

    fileprivate func end(_ error: ParticipantError?) {
        failure.withLock { $0 = error }
        ended.signal()
    }
}

/// One thread, one connection to the broker, and any number of participants: the reference agents of a run share
/// a few loops instead of a thread and two sockets each. Messages are decoded once and handed to each participant
/// whose topics they match. Of every message the loop has drained, the Modbus reads its participants will need go
/// out together first, and the writes they plan together after, before what waits on them (`ModbusBatch`); a
/// participant's logic runs to completion in between. Each batch blocks the loop until it is answered, which is why
/// a run spreads its households over a few loops.
public final class ParticipantLoop: Sendable {
    private let context: BusContext
    private let endpoints: BusEndpoints
    private let credentials: BusCredentials?
    private let arrivals = Mutex<[(agent: any LoopAgent, handle: ParticipantHandle)]>([])
    private let stopping = Atomic<Bool>(false)
    private let finished = DispatchSemaphore(value: 0)

    /// With `credentials`, the loop's connection authenticates with CURVE (every participant on it then speaks
    /// under that key).
    public init(context: BusContext, endpoints: BusEndpoints, credentials: BusCredentials? = nil) {
        self.context = context
        self.endpoints = endpoints
        self.credentials = credentials
    }

    /// How many loops to spread `participants` over: four per core, since an agent's Modbus calls block its loop
    /// and several loops overlap those waits; never more than the participants.
    public static func count(for participants: Int) -> Int {
        max(1, min(participants, 4 * processorCount))
    }

    /// Adds a household's agent; it joins the bus on the loop's next turn. Any thread may call this.
    public func add(_ agent: HouseholdAgent) -> ParticipantHandle { add(agent as any LoopAgent) }

    /// Adds a market; it joins the bus on the loop's next turn. Any thread may call this.
    public func add(_ agent: MarketAgent) -> ParticipantHandle { add(agent as any LoopAgent) }

    fileprivate func add(_ agent: any LoopAgent) -> ParticipantHandle {
        let handle = ParticipantHandle(name: agent.name, control: agent.control)
        arrivals.withLock { $0.append((agent, handle)) }
        return handle
    }

    private func takeArrivals() -> [(agent: any LoopAgent, handle: ParticipantHandle)] {
        arrivals.withLock { list in
            let taken = list
            list = []
            return taken
        }
    }

    /// Serves its participants on the calling thread until `stop()`, or, with `untilEmpty`, until every
    /// participant has left. Throws only when the loop's own connection fails (each participant then ends with
    /// that error too).
    public func run(untilEmpty: Bool = false) throws(ParticipantError) {
        defer { finished.signal() }
        var roster: Roster?
        do {
            // Unbounded queues: a market's awards to a hundred thousand households leave in one burst, and a bounded
            // publisher would drop the tail of it.
            let client = try BusClient(context: context, endpoints: endpoints, topics: [], credentials: credentials, highWater: 0)
            let present = Roster(client: client)
            roster = present
            while !stopping.load(ordering: .relaxed) {
                for (agent, handle) in takeArrivals() { try present.add(agent, handle: handle) }
                for participant in present.participants {
                    if participant.control.isStopping {
                        if participant.joined { try? participant.send(Goodbye(reason: "stopped")) }
                        present.leave(participant, nil)
                    } else if try !participant.greet() {
                        present.leave(participant, ParticipantError(message: "\(participant.name): no answer from the broker at \(endpoints.publish) within 10 s"))
                    }
                }
                if untilEmpty, present.participants.isEmpty, arrivals.withLock({ $0.isEmpty }) { return }
                try present.serveWaiting()
            }
            for participant in present.participants {
                if participant.joined { try? participant.send(Goodbye(reason: "stopped")) }
                present.leave(participant, nil)
            }
        } catch {
            let failed = ParticipantError(message: "the bus connection failed: \(error)")
            for participant in roster?.participants ?? [] { participant.handle.end(ParticipantError(message: "\(participant.name): \(error)")) }
            for (_, handle) in takeArrivals() { handle.end(failed) }
            throw failed
        }
    }

    /// Runs the loop on a thread of its own.
    public func start() {
        Thread { [self] in try? run() }.start()
    }

    /// Ends the loop: every participant still on it says goodbye. Waits up to 10 s for a started loop.
    public func stop() {
        stopping.store(true, ordering: .relaxed)
        _ = finished.wait(timeout: .now() + 10)
    }
}

/// The answers to shared grants a loop's participants gave in one batch: they leave in one `time-requests` message an
/// interval, in the name of the first to answer (the loop's connection speaks for them all).
private final class SharedAnswers {
    private var pending: [(participant: Participant, time: Double?, interval: Int)] = []

    func add(_ participant: Participant, _ time: Double?, interval: Int) { pending.append((participant, time, interval)) }

    /// Sends them; returns the participant whose message failed on the bus, with the error.
    func send() -> (participant: Participant, error: BusError)? {
        let answered = pending
        pending = []
        for interval in Set(answered.map(\.interval)).sorted() {
            let answers = answered.filter { $0.interval == interval }
            let requests = Dictionary(answers.map { ($0.participant.name, $0.time) }, uniquingKeysWith: { _, last in last })
            do { try answers[0].participant.send(TimeRequests(requests: requests), interval: interval) } catch { return (answers[0].participant, error) }
        }
        return nil
    }
}

/// A loop's participants on its thread: who reads which topics, and the Modbus requests they plan together.
private final class Roster {
    private(set) var participants: [Participant] = []
    private let client: BusClient
    private let batch = ModbusBatch()
    private let answers = SharedAnswers()
    private var exact: [String: [Participant]] = [:], prefixes: [(String, Participant)] = []
    /// Who left while the messages drained for them were being served: the rest of those are not theirs any more.
    private var departed: Set<ObjectIdentifier> = []

    init(client: BusClient) { self.client = client }

    /// The participant joins on this turn.
    func add(_ agent: any LoopAgent, handle: ParticipantHandle) throws(BusError) {
        let participant = Participant(agent, handle: handle, client: client, batch: batch, answers: answers)
        for filter in participant.filters {
            try client.subscribe(filter.prefix)
            if filter.isExact { exact[filter.prefix, default: []].append(participant) } else { prefixes.append((filter.prefix, participant)) }
        }
        participants.append(participant)
    }

    func leave(_ participant: Participant, _ error: ParticipantError?) {
        departed.insert(ObjectIdentifier(participant))
        participants.removeAll { $0 === participant }
        for filter in participant.filters { exact[filter.prefix]?.removeAll { $0 === participant } }
        prefixes.removeAll { $0.1 === participant }
        batch.forget(participant)
        participant.handle.end(error)
    }

    /// Serves what is waiting (at most 4,096 messages, so that a flood cannot hold off a stop), waiting up to
    /// 20 ms for the first. Its households' reads go out together ahead of the messages, their writes together
    /// after them (`ModbusBatch`).
    func serveWaiting() throws(BusError) {
        var drained: [(raw: BusMessage, receivers: [Participant], decoded: Result<Message, MessageError>)] = [], taken = 0
        while taken < 4_096, let raw = try client.receive(timeout: taken == 0 ? .milliseconds(20) : .zero) {
            taken += 1
            var receivers = (exact[raw.topic] ?? []) + prefixes.filter { raw.topic.hasPrefix($0.0) }.map(\.1)
            guard !receivers.isEmpty else { continue }
            let decoded = Result { () throws(MessageError) in try Message.decode(topic: raw.topic, payload: raw.payload.first ?? []) }
            // A message for some of a topic's readers (a shared grant) goes to those alone: the rest of a loop's
            // hundreds would only look and pass.
            if case .success(let message) = decoded, let addressees = message.body.addressees { receivers.removeAll { !addressees.contains($0.name) } }
            drained.append((raw, receivers, decoded))
        }
        var readingAhead: Set<ObjectIdentifier> = []
        for (_, receivers, decoded) in drained {
            for participant in receivers where readingAhead.insert(ObjectIdentifier(participant)).inserted { participant.readAhead(decoded) }
        }
        send()
        for (raw, receivers, decoded) in drained {
            if receivers.contains(where: batch.awaits) { sendWrites() }  // a participant's messages in order
            for participant in receivers where !departed.contains(ObjectIdentifier(participant)) {
                do {
                    if try !participant.take(raw, decoded: decoded) { leave(participant, nil) }
                } catch {
                    leave(participant, ParticipantError(message: "\(participant.name): \(error)"))
                }
            }
        }
        sendWrites()
        departed = []
    }

    /// Sends the writes and what waits on them; what was read ahead is read again after.
    private func sendWrites() {
        send()
        batch.expireReads()
    }

    private func send() {
        guard !batch.isEmpty else { return }
        for (participant, error) in batch.send() { leave(participant, ParticipantError(message: "\(participant.name): \(error)")) }
        if let (participant, error) = answers.send() { leave(participant, ParticipantError(message: "\(participant.name): \(error)")) }
    }
}

extension LoopAgent {
    /// Serves this one agent on the calling thread until it stops or the conductor says goodbye.
    func serve(context: BusContext, endpoints: BusEndpoints, credentials: BusCredentials?) throws(ParticipantError) {
        let loop = ParticipantLoop(context: context, endpoints: endpoints, credentials: credentials)
        let handle = loop.add(self)
        try loop.run(untilEmpty: true)
        if let error = handle.error { throw error }
    }
}

/// A participant's handle for the outside: stop it, and read what it refused.
public final class ParticipantControl: Sendable {
    private let stopping = Atomic<Bool>(false)
    private let rejections = Mutex<[ErrorReport.Fault: Int]>([:])

    public init() {}

    /// Asks the participant to end; it says goodbye and leaves within 50 ms.
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
