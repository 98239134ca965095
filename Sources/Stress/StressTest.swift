import Agents
import Bus
import Dispatch
import Foundation
public import Logging
import Market
import Messages
import Physics
import Reports
public import Rigs
public import Run
import Synchronization

/// What `gridrig stress` runs (docs/STRESS.md): a market under test, and the load steps it is ramped through.
public struct StressOptions: Sendable {
    /// The market: `builtin`, a `command` GridRig starts for each step, or an `endpoint` running elsewhere.
    public var market: RunSettings.Role = .builtin
    public var seed: UInt64 = 1
    /// Bidders per interval, step by step (ascending).
    public var bidders: [Int] = [100, 1_000, 10_000, 100_000, 1_000_000]
    /// Interval lengths, s; every length is ramped through every bidder count.
    public var lengths: [Double] = [300, 1]
    /// Intervals per step.
    public var intervals = 3
    /// The clearing's deadline after gate closure; nil: half the interval, at most 1 s.
    public var deadline: Duration?
    /// For intervals longer than 10 s: how long the market has to read its bids after the broker has forwarded the
    /// last one, before the gate closes (their real bid window of minutes would make a step take minutes).
    public var bidWindow: Duration = .seconds(2)
    /// Connections the bidders share: each speaks for its slice of the households.
    public var connections = 4
    public var priceCap = 1.0
    /// Simulated time of day of the first interval, s after midnight.
    public var start: Double = 12 * 3600
    public var host = "127.0.0.1"
    public var publishPort: UInt16 = 0
    public var subscribePort: UInt16 = 0
    /// How long a market has to say ready at each step.
    public var readyTimeout: Duration = .seconds(30)
    /// Where the households file goes (a market told every household through GRIDRIG_HOUSEHOLDS_FILE).
    public var folder: String

    public init(folder: String) { self.folder = folder }

    func deadline(length: Double) -> Duration { deadline ?? min(.seconds(1), .seconds(length / 2)) }
}

/// One interval of a step, as measured and checked.
public struct StressInterval: Sendable, Equatable {
    public var number: Int
    public var bids: Int
    /// The reference clearing on the same bids (GridRig's market core): deterministic under the seed.
    public var referencePrice: Double
    public var referenceQuantity: Double
    /// What the market published; nil when no clearing came.
    public var price: Double?
    public var quantity: Double?
    /// The bids the market says it kept (`bid_count`).
    public var bidCount: Int?
    /// From gate closure to the clearing, and to the last household's awards, ms.
    public var clearingLatency: Double?
    public var awardsLatency: Double?
    /// The clearing came after the deadline (or not at all), or some households' awards had not come when the
    /// window closed (the deadline, and as long again, at least 1 s).
    public var missedDeadline: Bool
    public var missingAwards = 0
    /// Why the market's result is not the reference's on the same bids; empty when it is (or when it lost bids,
    /// which makes the comparison moot).
    public var wrong: [String]
    public var lostBids: Int
}

/// One load step: an interval length and a number of bidders, over a few intervals.
public struct StressStep: Sendable, Equatable {
    public var length: Double
    public var bidders: Int
    public var intervals: [StressInterval]
    public var deadlineMs: Double
    /// The tool's own costs: drawing and encoding the bids, publishing them, reading and checking the answers, s.
    public var generationSeconds: Double
    public var publishSeconds: Double
    public var checkSeconds: Double

    public var missedDeadlines: Int { intervals.filter(\.missedDeadline).count }
    public var wrongResults: Int { intervals.filter { !$0.wrong.isEmpty }.count }
    public var lostBids: Int { intervals.map(\.lostBids).reduce(0, +) }
    public var saturated: Bool { missedDeadlines > 0 || wrongResults > 0 || lostBids > 0 }
    public var bids: Int { intervals.map(\.bids).reduce(0, +) }
    /// Bids drawn and encoded per second of generation.
    public var generationRate: Double { generationSeconds > 0 ? Double(bids) / generationSeconds : 0 }

    public func clearingLatency(_ percentile: Double) -> Double? {
        Figures.percentile(sorted: intervals.compactMap(\.clearingLatency).sorted(), percentile)
    }

    public func awardsLatency(_ percentile: Double) -> Double? { Figures.percentile(sorted: intervals.compactMap(\.awardsLatency).sorted(), percentile) }
}

/// A whole stress test: every step, and per interval length the saturation point.
public struct StressResult: Sendable {
    public var market: String
    public var seed: UInt64
    public var steps: [StressStep]
    public var wallSeconds: Double

    /// Per length, the first step that missed its deadline, cleared wrongly or lost bids; nil: none did.
    public func saturation(length: Double) -> StressStep? { steps.first { $0.length == length && $0.saturated } }
    public var lengths: [Double] { steps.map(\.length).reduce(into: []) { if !$0.contains($1) { $0.append($1) } } }
    public var passed: Bool { !steps.contains(where: \.saturated) }
    /// Bids drawn and encoded per second over every step (the tool's own ceiling; it must stay far above the load).
    public var generationRate: Double {
        let seconds = steps.map(\.generationSeconds).reduce(0, +)
        return seconds > 0 ? Double(steps.map(\.bids).reduce(0, +)) / seconds : 0
    }
}

/// Runs a stress test: GridRig's broker on the real bus, synthetic bidders speaking for many households over a few
/// connections, a conductor that opens intervals and closes gates, and a checker that reads every clearing and
/// award and compares them with GridRig's market core on the same bids.
public enum StressTest {
    public static func run(_ options: StressOptions, logger: Logger, progress: (StressStep) -> Void = { _ in }) throws(RunError) -> StressResult {
        let started = ContinuousClock.now
        guard let most = options.bidders.max(), most > 0 else { throw RunError(message: "no load steps", isBadInput: true) }
        let households = (0..<most).map(SyntheticBidders.name)
        try? FileManager.default.createDirectory(atPath: options.folder, withIntermediateDirectories: true)
        let householdsFile = "\(options.folder)/households.txt"
        let context: BusContext, broker: Broker
        do {
            context = try BusContext()
            var rules = BusRules()
            rules.rateLimit = 1 << 40  // the market's capacity is under test, not the broker's limits
            rules.captureLimit = 0
            broker = try Broker(context: context, host: options.host, publishPort: options.publishPort, subscribePort: options.subscribePort,
                                highWater: 0, rules: rules)
        } catch {
            throw RunError(message: "the broker could not start: \(error)")
        }
        defer { broker.stop() }
        let session: Session
        do {
            session = try Session(options: options, context: context, broker: broker, logger: logger)
        } catch {
            throw RunError(message: "the bus could not be joined: \(error)")
        }
        defer { session.finish() }
        var steps: [StressStep] = []
        var interval = 0
        let endpoint = options.market == .endpoint ? try session.startMarket(households: households, file: householdsFile) : nil
        defer { endpoint?.stop() }
        for length in options.lengths {
            for bidders in options.bidders.sorted() {
                let market = endpoint == nil ? try session.startMarket(households: Array(households[..<bidders]), file: householdsFile) : nil
                defer { market?.stop() }
                let step = try session.step(bidders: bidders, length: length, firstInterval: interval + 1)
                interval += step.intervals.count
                steps.append(step)
                progress(step)
                if step.saturated { break }
            }
        }
        let market = switch options.market {
        case .builtin, .mutant: "builtin"
        case .command(let command): command.joined(separator: " ")
        case .endpoint: "endpoint at \(broker.endpoints.publish)"
        }
        return StressResult(market: market, seed: options.seed, steps: steps, wallSeconds: (ContinuousClock.now - started) / .seconds(1))
    }

    /// A market started for a step (or for the whole test, at an endpoint), and how it is stopped.
    struct StartedMarket {
        let stop: () -> Void
    }

    /// The bus side of a stress test: the conductor's and checker's connection, and the bidders' connections.
    final class Session {
        let options: StressOptions
        let context: BusContext
        let broker: Broker
        let logger: Logger
        let conductor: BusClient
        let bidders: [BidderConnection]
        var writer = MessageWriter(sender: ParticipantName.conductor)
        let generator: SyntheticBidders
        var marketLoop: ParticipantLoop?

        init(options: StressOptions, context: BusContext, broker: Broker, logger: Logger) throws {
            self.options = options
            self.context = context
            self.broker = broker
            self.logger = logger
            generator = SyntheticBidders(seed: options.seed)
            conductor = try BusClient(context: context, endpoints: broker.localEndpoints, topics: [TopicFilter.every(.ready), .only(.clearing), .every(.awards), .every(.error)].map(\.prefix), highWater: 0)
            bidders = try (0..<max(1, options.connections)).map { _ in
                BidderConnection(try BusClient(context: context, endpoints: broker.endpoints, topics: [TopicFilter.only(.interval).prefix], highWater: 0))
            }
            let hello = writer.message(Hello(role: .conductor, software: "gridrig stress"))
            guard try conductor.join(topic: hello.topic.description, payload: hello.encoded(), timeout: .seconds(10)) else {
                throw RunError(message: "the broker did not echo the conductor's hello")
            }
            for (index, bidder) in bidders.map(\.client).enumerated() {
                let probe = Message(header: .init(interval: nil, sender: "stress-bidder-\(index + 1)", sequence: 1),
                                    body: Hello(role: .household, software: "gridrig stress"))
                guard try bidder.join(topic: probe.topic.description, payload: probe.encoded(), timeout: .seconds(10)) else {
                    throw RunError(message: "the broker did not echo bidder connection \(index + 1)")
                }
            }
        }

        /// Starts the market for `households` and waits until it says ready.
        func startMarket(households: [HouseID], file: String) throws(RunError) -> StartedMarket {
            // This step's households (every step's, for an endpoint): a market told more publishes awards to them all.
            if options.market != .builtin { try writeFiles(["households.txt": households.map(\.name).joined(separator: "\n")], to: options.folder, what: "the households") }
            let started: StartedMarket
            switch options.market {
            case .builtin, .mutant:
                let loop = marketLoop ?? ParticipantLoop(context: context, endpoints: broker.endpoints)
                if marketLoop == nil {
                    loop.start()
                    marketLoop = loop
                }
                let handle = loop.add(MarketAgent(setup: MarketSetup(households: households, messageLimit: 1), context: context,
                                                  endpoints: broker.endpoints, logger: logger))
                started = StartedMarket {
                    handle.control.stop()
                    _ = handle.wait(timeout: .seconds(10))
                }
            case .command(let command):
                var environment = ["GRIDRIG_PARTICIPANT": ParticipantName.market, "GRIDRIG_BUS_PUBLISH": broker.endpoints.publish,
                                   "GRIDRIG_BUS_SUBSCRIBE": broker.endpoints.subscribe, "GRIDRIG_HOUSEHOLDS_FILE": file]
                let list = households.map(\.name).joined(separator: ",")
                if list.utf8.count < 100_000 { environment["GRIDRIG_HOUSEHOLDS"] = list }  // one variable holds at most 128 kB
                let process = try ControllerProcess(role: ParticipantName.market, command: command, environment: environment)
                started = StartedMarket { process.stop() }
                do {
                    try awaitReady { process.failure }
                } catch {
                    process.stop()
                    throw error
                }
                return started
            case .endpoint:
                logger.notice("waiting for the market to join", metadata: ["publish": "\(broker.endpoints.publish)",
                                                                            "subscribe": "\(broker.endpoints.subscribe)", "households": "\(file)"])
                started = StartedMarket {}
            }
            try awaitReady { nil }
            return started
        }

        /// Waits for the market's ready (it repeats it until the first interval).
        private func awaitReady(failure: () -> String?) throws(RunError) {
            let deadline = ContinuousClock.now + options.readyTimeout
            while ContinuousClock.now < deadline {
                if let failed = failure() { throw RunError(message: "the market failed: \(failed)") }
                guard let raw = try? conductor.receive(timeout: .milliseconds(100)) else { continue }
                if raw.topic == Topic.of(.ready, ParticipantName.market).description { return }
            }
            throw RunError(message: "the market never became ready within \(options.readyTimeout)")
        }

        /// Runs one step: `options.intervals` intervals of `bidders` bidders.
        func step(bidders count: Int, length: Double, firstInterval: Int) throws(RunError) -> StressStep {
            let deadline = options.deadline(length: length)
            var step = StressStep(length: length, bidders: count, intervals: [], deadlineMs: deadline / .milliseconds(1),
                                  generationSeconds: 0, publishSeconds: 0, checkSeconds: 0)
            let devices = (0..<count).map(generator.devices)
            for offset in 0..<options.intervals {
                let number = firstInterval + offset, time = options.start + Double(number - 1) * length
                let generationStart = ContinuousClock.now
                let batches = draw(devices, interval: number, time: time, length: length)
                step.generationSeconds += (ContinuousClock.now - generationStart) / .seconds(1)
                let allBids = batches.flatMap { batch in batch.flatMap(\.bids) }
                // Open the interval; each bidder connection publishes its households' bids once it has seen it.
                let forwarded = broker.capture.forwarded, opened = ContinuousClock.now
                do {
                    try conductor.publish(Topic.interval.description, writer.message(IntervalStart(start: time, length: length, priceCap: options.priceCap,
                                                                                             bidDeadlineMs: Int(length * 500), clearingDeadlineMs: Int(deadline / .milliseconds(1)),
                                                                                             dispatchDeadlineMs: Int(length * 1000)),
                                                                   interval: number).encoded())
                } catch {
                    throw RunError(message: "the conductor could not publish: \(error)")
                }
                let published = try publish(batches, interval: number, opened: opened)
                step.publishSeconds += (published - opened) / .seconds(1)
                waitForGate(opened: opened, length: length, expected: forwarded + 1 + count)
                let gateSent = ContinuousClock.now
                do {
                    try conductor.publish(Topic.gate.description, writer.message(Gate(), interval: number).encoded())
                } catch {
                    throw RunError(message: "the conductor could not publish: \(error)")
                }
                let reference = OrderBook(priceCap: options.priceCap, bids: allBids).clear()
                let checkStart = ContinuousClock.now
                var checked = collect(interval: number, households: count, gate: gateSent, deadline: deadline, reference: reference,
                                      bids: batches.flatMap { $0.map { ($0.house, $0.bids) } })
                step.checkSeconds += (ContinuousClock.now - checkStart) / .seconds(1)
                checked.number = number
                step.intervals.append(checked)
                if length <= 10 {  // the next interval opens on time, or once this one is settled
                    let next = opened + .seconds(length)
                    if next > .now { Thread.sleep(forTimeInterval: ContinuousClock.now.duration(to: next) / .seconds(1)) }
                }
            }
            return step
        }

        /// One household's bids for an interval, drawn and encoded.
        typealias DrawnBids = (house: HouseID, bids: [Bid], topic: String, payload: [UInt8])

        /// Every household's bids for interval `number`, drawn and encoded over the cores before the interval opens, in
        /// one batch per bidder connection.
        private func draw(_ devices: [SyntheticBidders.Devices], interval number: Int, time: Double, length: Double) -> [[DrawnBids]] {
            let slices = split(devices.count, into: bidders.count), generator = self.generator, priceCap = options.priceCap
            let drawn = Mutex<[[DrawnBids]]>(Array(repeating: [], count: slices.count))
            DispatchQueue.concurrentPerform(iterations: slices.count) { slice in
                var encoded: [DrawnBids] = []
                encoded.reserveCapacity(slices[slice].count)
                for index in slices[slice] {
                    let bids = generator.bids(household: index, devices: devices[index], interval: number, time: time, length: length, priceCap: priceCap)
                    let house = SyntheticBidders.name(index)
                    let message = Message(header: .init(interval: number, sender: house.name, sequence: UInt64(number)),
                                          body: Bids(house: house, bids: bids.map(WireBid.init)))
                    encoded.append((house, bids, message.topic.description, message.encoded()))
                }
                drawn.withLock { $0[slice] = encoded }
            }
            return drawn.withLock { $0 }
        }

        /// Each bidder connection publishes its batch once it has seen interval `number` open; returns when the last
        /// message was sent.
        private func publish(_ batches: [[DrawnBids]], interval number: Int, opened: ContinuousClock.Instant) throws(RunError) -> ContinuousClock.Instant {
            let failures = Mutex<[String]>([])
            let finished = Mutex<ContinuousClock.Instant>(opened)
            let bidders = self.bidders
            DispatchQueue.concurrentPerform(iterations: batches.count) { slice in
                do {
                    let bidder = bidders[slice].client, until = ContinuousClock.now + .seconds(10)
                    var seen = false
                    while !seen, ContinuousClock.now < until {
                        if let raw = try bidder.receive(timeout: .milliseconds(100)), raw.topic == Topic.interval.description { seen = true }
                    }
                    guard seen else { return failures.withLock { $0.append("bidder connection \(slice + 1) never saw interval \(number)") } }
                    for message in batches[slice] { try bidder.publish(message.topic, message.payload) }
                    finished.withLock { $0 = max($0, ContinuousClock.now) }
                } catch {
                    failures.withLock { $0.append("bidder connection \(slice + 1): \(error)") }
                }
            }
            if let failure = failures.withLock({ $0.first }) { throw RunError(message: failure) }
            return finished.withLock { $0 }
        }

        /// Waits for gate closure: at half the interval for intervals of 10 s or less (their real pace). Longer ones
        /// close the bid window after the broker has forwarded `expected` messages in all (every bid; at half the
        /// interval at the latest), so that a 5-minute step does not take 5 minutes.
        private func waitForGate(opened: ContinuousClock.Instant, length: Double, expected: Int) {
            if length <= 10 {
                let gate = opened + .seconds(length / 2)
                if gate > .now { Thread.sleep(forTimeInterval: ContinuousClock.now.duration(to: gate) / .seconds(1)) }
            } else {
                let latest = opened + .seconds(length / 2)
                while broker.capture.forwarded < expected, ContinuousClock.now < latest { Thread.sleep(forTimeInterval: 0.001) }
                let gate = min(ContinuousClock.now + options.bidWindow, latest)
                Thread.sleep(forTimeInterval: ContinuousClock.now.duration(to: gate) / .seconds(1))
            }
        }

        /// Reads the clearing and every household's awards for `interval` until all have come or the deadline (and
        /// as long again for the awards, at least 1 s) has passed, then compares them with `reference`. Messages are
        /// only received in the window and decoded after it, so that the checker's own work never delays what it times.
        private func collect(interval: Int, households: Int, gate: ContinuousClock.Instant, deadline: Duration, reference: Clearing,
                             bids books: [(house: HouseID, bids: [Bid])]) -> StressInterval {
            let bids = books.reduce(0) { $0 + $1.bids.count }
            var result = StressInterval(number: interval, bids: bids, referencePrice: reference.price, referenceQuantity: reference.quantity,
                                        missedDeadline: false, wrong: [], lostBids: 0)
            let received = receiveResults(households: households, until: gate + deadline + max(deadline, .seconds(1)))
            var expected: [HouseID: [String: Double]] = [:]  // house → "id side" → quantity
            var owner: [String: HouseID] = [:]  // bid id → its household
            for (house, bids) in books { for bid in bids { owner[bid.id] = house } }
            for award in reference.awards where award.quantity > 0 {
                guard let house = owner[award.bid.id] else { continue }
                expected[house, default: [:]]["\(award.bid.id) \(award.bid.side.rawValue)"] = award.quantity
            }
            var awarded = Set<HouseID>(), clearing: ClearingResult?, mismatched = 0, example: String?
            for (raw, at) in received {
                guard let message = try? Message.decode(topic: raw.topic, payload: raw.payload.first ?? []),
                      message.header.sender == ParticipantName.market, message.header.interval == interval else { continue }
                let latency = gate.duration(to: at) / .milliseconds(1)
                switch message.body {
                case let body as ClearingResult:
                    clearing = body
                    result.clearingLatency = latency
                case let body as Awards:
                    guard Self.isInStep(body.house.name, households: households), awarded.insert(body.house).inserted else { continue }
                    result.awardsLatency = latency
                    let differences = Self.differences(body, expected: expected[body.house] ?? [:], referencePrice: reference.price)
                    mismatched += differences.count
                    example = example ?? differences.first
                default:
                    continue
                }
            }
            result.price = clearing?.price
            result.quantity = clearing?.quantity
            result.bidCount = clearing?.bidCount
            result.missingAwards = households - awarded.count
            result.missedDeadline = (result.clearingLatency.map { $0 > deadline / .milliseconds(1) } ?? true) || result.missingAwards > 0
            if let kept = clearing?.bidCount, kept < bids {
                result.lostBids = bids - kept
                return result  // the market cleared another book: comparing with the reference says nothing more
            }
            guard let clearing else { return result }
            if abs(clearing.price - reference.price) > 1e-6 { result.wrong.append("price \(clearing.price), the reference \(reference.price) $/kWh") }
            if abs(clearing.quantity - reference.quantity) > 1e-6 * max(1, reference.quantity) {
                result.wrong.append("quantity \(clearing.quantity), the reference \(reference.quantity) kWh")
            }
            if mismatched > 0 { result.wrong.append("\(mismatched) awards differ from the reference" + (example.map { ", e.g. \($0)" } ?? "")) }
            return result
        }

        /// An endpoint market is told every step's households and awards them all: only this step's count.
        private static func isInStep(_ house: some StringProtocol, households: Int) -> Bool {
            SyntheticBidders.index(of: house).map { $0 < households } ?? false
        }

        /// The clearing and this step's awards as they pass, until all have come or `until`; they are only received
        /// here, and decoded after.
        private func receiveResults(households: Int, until: ContinuousClock.Instant) -> [(message: BusMessage, at: ContinuousClock.Instant)] {
            var received: [(message: BusMessage, at: ContinuousClock.Instant)] = []
            var clearingSeen = false, awardsSeen = 0
            // The topics as text, compared in place: this loop is timed, and a market's awards may number 100,000.
            let clearingTopic = Topic.clearing.description, awardsPrefix = TopicFilter.every(.awards).prefix
            while !clearingSeen || awardsSeen < households, ContinuousClock.now < until {
                guard let raw = try? conductor.receive(timeout: ContinuousClock.now.duration(to: until)) else { continue }
                if raw.topic == clearingTopic {
                    clearingSeen = true
                } else if raw.topic.hasPrefix(awardsPrefix), Self.isInStep(raw.topic.dropFirst(awardsPrefix.count), households: households) {
                    awardsSeen += 1
                } else {
                    continue
                }
                received.append((raw, .now))
            }
            return received
        }

        /// How a household's awards differ from the reference's (`expected`: quantity by "id side"), each said.
        private static func differences(_ awards: Awards, expected: [String: Double], referencePrice: Double) -> [String] {
            var want = expected, differences: [String] = []
            for award in awards.awards {
                let key = "\(award.id) \(award.side.rawValue)", quantity = want.removeValue(forKey: key) ?? 0
                if abs(quantity - award.quantity) > 1e-6 * max(1, quantity) {
                    differences.append("\(award.id) \(award.side.rawValue): awarded \(award.quantity), the reference \(quantity) kWh")
                }
            }
            if let missing = want.first(where: { $0.value > 1e-6 }) { differences.append("\(missing.key): no award, the reference \(missing.value) kWh") }
            if abs(awards.price - referencePrice) > 1e-6 {
                differences.append("\(awards.house)'s awards at \(awards.price), the reference \(referencePrice) $/kWh")
            }
            return differences
        }

        /// Says goodbye, and stops the market's loop.
        func finish() {
            let goodbye = writer.message(Goodbye(reason: "the stress test ended"))
            try? conductor.publish(goodbye.topic.description, goodbye.encoded())
            marketLoop?.stop()
        }
    }

    /// One bidder connection, used by one thread at a time (each step hands each connection to one worker).
    final class BidderConnection: @unchecked Sendable {
        let client: BusClient
        init(_ client: BusClient) { self.client = client }
    }

    /// `count` households split into `parts` contiguous ranges.
    static func split(_ count: Int, into parts: Int) -> [Range<Int>] {
        let parts = max(1, min(parts, count))
        return (0..<parts).map { part in (count * part / parts)..<(count * (part + 1) / parts) }
    }
}
