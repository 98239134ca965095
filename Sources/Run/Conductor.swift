import Agents
public import Bus
public import Emulators
import Files
import Foundation
public import Logging
public import Market
public import Messages
public import Physics
public import Rigs

/// The deadlines and shape of each interval the conductor runs.
public struct IntervalTiming: Sendable {
    /// Simulated length of an interval, s; the longest control step within it (the conductor publishes the
    /// simulated time at least this often), and the physics step, s.
    public var length: Double
    public var controlPeriod: Double
    public var physicsStep: Double
    public var priceCap: Double
    /// Wall-clock budgets: bids after the interval starts, the clearing after gate closure, the dispatch
    /// reports after the clearing; the dispatch deadline also bounds each answer to a granted control step.
    public var bidDeadline: Duration
    public var clearingDeadline: Duration
    public var dispatchDeadline: Duration
    /// Simulated seconds per wall second while the physics runs the interval; nil runs it at once (lockstep).
    public var pace: Double?

    public init(length: Double = 300, controlPeriod: Double = 10, physicsStep: Double = 10, priceCap: Double = 1.0, bidDeadline: Duration = .seconds(2),
                clearingDeadline: Duration = .seconds(2), dispatchDeadline: Duration = .seconds(2), pace: Double? = nil) {
        self.pace = pace
        self.length = length
        self.controlPeriod = controlPeriod
        self.physicsStep = physicsStep
        self.priceCap = priceCap
        self.bidDeadline = bidDeadline
        self.clearingDeadline = clearingDeadline
        self.dispatchDeadline = dispatchDeadline
    }
}

/// What the conductor saw of one interval.
public struct IntervalRecord: Sendable {
    public let interval: Int
    /// Simulated start, s.
    public let start: Double
    /// Households whose bids arrived before gate closure, and those whose dispatch report arrived in time.
    public var bidders: Set<String> = []
    public var dispatched: Set<String> = []
    public var clearing: ClearingResult?
    /// Wall clock, seconds since the Unix epoch: gate closure, and the clearing's arrival.
    public var gateClosedAt: Double = 0
    public var clearedAt: Double?
    /// Control steps published within the interval, and those at which a participant that asked for the time
    /// did not answer within the dispatch deadline.
    public var steps = 0
    public var silentSteps: [(time: Double, participants: [String])] = []
    /// Paced runs: how late each physics step ended behind the wall-clock time it was due, s.
    public var lags: [Double] = []
}

public struct ConductorError: Error, Sendable, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}

/// Runs intervals in lockstep: it publishes each interval's start, closes the gate once every household has bid
/// (or the bid deadline passed), waits for the clearing and the households' dispatch reports (or their
/// deadlines), then advances the emulators' physics through the interval in control steps, granting each
/// participant the times it asked for (docs/PROTOCOL.md, "Control steps"). The same seed gives the same run.
public final class Conductor {
    public static let name = ParticipantName.conductor
    /// The participant name under which the conductor bids for the utility behind the PCC.
    public static let gridName = ParticipantName.grid
    private let client: BusClient
    private var writer = MessageWriter(sender: Conductor.name)
    private var gridWriter = MessageWriter(sender: Conductor.gridName)
    private let grid: GridSource?
    private let script: BidScript?
    /// Each scripted bidder's messages count up on their own, as a household's would.
    private var scriptWriters: [HouseID: MessageWriter] = [:]
    private let outages: [GridOutage]
    /// The households as they send: their participant names.
    private let households: Set<String>
    private let fleet: Fleet
    private let timing: IntervalTiming
    private let logger: Logger
    private var interval = 0
    /// A HELICS federation that shares the clock (docs/COSIM.md): the physics never passes the time it granted.
    var cosimulation: Cosimulation?
    /// Participants that said ready, and error reports seen, by sender.
    public private(set) var ready: Set<String> = []
    public private(set) var errorReports: [Message] = []
    /// Participants that said they take their grants in `grants` messages (revision 1.2), as their last ready said.
    private var sharingGrants: Set<String> = []

    /// What stands behind the PCC in the market: the utility, or an island's grid-forming battery.
    public enum GridSource: Sendable {
        case utility(GridTie)
        /// The battery (a device of the fleet, by name) that balances the island.
        case gridForming(DeviceID)
    }

    /// - Parameter grid: what balances the neighborhood; the conductor bids for it each interval as participant
    ///   `grid` (docs/PROTOCOL.md), so the market must count `grid` among its households.
    /// - Parameter outages: while one is in force, `grid` bids for its grid-forming battery instead of the utility.
    /// - Parameter script: bids the conductor sends for scripted bidders, whom the market must also count among its
    ///   households.
    public init(context: BusContext, endpoints: BusEndpoints, households: [HouseID], fleet: Fleet, timing: IntervalTiming,
                grid: GridSource? = nil, outages: [GridOutage] = [], script: BidScript? = nil, logger: Logger) throws(ConductorError) {
        self.grid = grid
        self.script = script
        self.outages = outages
        self.households = Set(households.map(\.name))
        self.fleet = fleet
        self.timing = timing
        self.logger = logger
        let joined: Bool
        do {
            client = try BusClient(context: context, endpoints: endpoints, topics: [TopicFilter.every(.ready), .every(.bids), .only(.clearing), .every(.dispatch), .every(.time), .every(.error)].map(\.prefix))
            let hello = writer.message(Hello(role: .conductor, software: "gridrig conductor"))
            joined = try client.join(topic: hello.topic.description, payload: hello.encoded(), timeout: .seconds(10))
        } catch {
            throw ConductorError(message: "conductor: \(error)")
        }
        guard joined else { throw ConductorError(message: "conductor: no answer from the broker at \(endpoints.publish) within 10 s") }
    }

    private func send(_ body: any MessageBody, interval: Int? = nil) throws(ConductorError) {
        let message = writer.message(body, interval: interval)
        do { try client.publish(message.topic.description, message.encoded()) } catch { throw ConductorError(message: "conductor: \(error)") }
    }

    /// Receives until `done` holds or `deadline` passes, handing every message to `handle`.
    private func collect(until deadline: ContinuousClock.Instant, handle: (Message) -> Void, done: () -> Bool) throws(ConductorError) {
        while !done(), ContinuousClock.now < deadline {
            let raw: BusMessage?
            do { raw = try client.receive(timeout: ContinuousClock.now.duration(to: deadline)) } catch { throw ConductorError(message: "conductor: \(error)") }
            guard let raw, let message = try? Message.decode(topic: raw.topic, payload: raw.payload.first ?? []) else { continue }
            switch message.body {
            case let said as Ready:
                ready.insert(message.header.sender)
                if said.grants == .shared { sharingGrants.insert(message.header.sender) } else { sharingGrants.remove(message.header.sender) }
            case is ErrorReport: errorReports.append(message)
            default: handle(message)
            }
        }
    }

    /// Forgets that `participant` said ready: it is about to start again and must say so anew.
    public func forget(_ participant: String) {
        ready.remove(participant)
        sharingGrants.remove(participant)
    }

    /// Waits until every named participant has said ready; throws naming those that did not.
    public func waitUntilReady(_ participants: Set<String>, timeout: Duration) throws(ConductorError) {
        try collect(until: .now + timeout, handle: { _ in }, done: { participants.isSubset(of: ready) })
        let missing = participants.subtracting(ready)
        guard missing.isEmpty else { throw ConductorError(message: "never became ready within \(timeout): \(missing.sorted().joined(separator: ", "))") }
    }

    /// Runs the next interval and returns what it saw; `onStep` sees the simulated time after each physics step.
    public func runInterval(onStep: (Double) -> Void = { _ in }) throws(ConductorError) -> IntervalRecord {
        interval += 1
        let number = interval
        var record = IntervalRecord(interval: number, start: fleet.time)
        try send(Tick(time: record.start), interval: number)
        try send(IntervalStart(start: record.start, length: timing.length, priceCap: timing.priceCap,
                                         bidDeadlineMs: Int(timing.bidDeadline / .milliseconds(1)),
                                         clearingDeadlineMs: Int(timing.clearingDeadline / .milliseconds(1)),
                                         dispatchDeadlineMs: Int(timing.dispatchDeadline / .milliseconds(1)),
                                         gridForming: gridFormer), interval: number)
        if let tie = gridTie() {
            let bids = tie.bids(terms: MarketTerms(priceCap: timing.priceCap, interval: timing.length))
                .map(WireBid.init)
            let message = gridWriter.message(Bids(house: .grid, bids: bids), interval: number)
            do { try client.publish(message.topic.description, message.encoded()) } catch { throw ConductorError(message: "conductor: \(error)") }
        }
        // Scripted bids come as a burst: the gate waits for the bid deadline, the window a real gate gives a market to
        // read its bids, so that clearing-latency measures the clearing and not the reading.
        let burst = try sendScripted(.opening, interval: number, start: record.start) > 0
        try collect(until: .now + timing.bidDeadline, handle: { message in
            if message.body is Bids, message.header.interval == number, households.contains(message.header.sender) {
                record.bidders.insert(message.header.sender)
            }
        }, done: { !burst && record.bidders == households })
        try sendScripted(.gate, interval: number, start: record.start)
        record.gateClosedAt = unixTime()
        try send(Gate(), interval: number)
        // A household's next time, from its dispatch report: the first control step it needs.
        var requests: [String: Double] = [:]
        func dispatched(_ message: Message) {
            guard let report = message.body as? DispatchReport, message.header.interval == number, households.contains(message.header.sender) else { return }
            record.dispatched.insert(message.header.sender)
            if let next = report.nextTime { requests[message.header.sender] = next }
        }
        // Dispatch reports can reach the conductor before the clearing does (a bus fault delaying only the
        // clearing): they count all the same.
        try collect(until: .now + timing.clearingDeadline, handle: { message in
            if let result = message.body as? ClearingResult, message.header.interval == number {
                record.clearing = result
                record.clearedAt = unixTime()
            }
            dispatched(message)
        }, done: { record.clearing != nil })
        if record.clearing != nil {
            try collect(until: .now + timing.dispatchDeadline, handle: dispatched, done: { record.dispatched == households })
        }
        try advance(&record, requests: requests, onStep: onStep)
        logger.debug("interval done", metadata: ["interval": "\(number)", "bidders": "\(record.bidders.count)", "dispatched": "\(record.dispatched.count)"])
        return record
    }

    /// Publishes the scripted bids due at `moment`, each in its bidder's name, on the connection the gate goes out on,
    /// so that bids sent at the gate reach the market just before it; returns how many messages it sent.
    @discardableResult
    private func sendScripted(_ moment: BidScript.Moment, interval number: Int, start: Double) throws(ConductorError) -> Int {
        guard let script else { return 0 }
        let due = script.messages(at: moment, intervalStart: start, priceCap: timing.priceCap)
        for bids in due {
            var writer = scriptWriters[bids.house] ?? MessageWriter(sender: bids.house.name)
            let message = writer.message(bids, interval: number)
            scriptWriters[bids.house] = writer
            do { try client.publish(message.topic.description, message.encoded()) } catch { throw ConductorError(message: "conductor: \(error)") }
        }
        return due.count
    }

    /// Runs the interval's physics in control steps. Each step ends at the earliest of: the control period from
    /// now, a time some participant asked for, the interval's end. The conductor publishes the step's `tick` for
    /// everyone who watches the clock, a `grant` to each participant whose time it is, and waits until each has
    /// answered with its next `time-request` (or the dispatch deadline has passed), so that a step costs only the
    /// participants that asked for it. Times are granted on whole simulated seconds. Those that take their grants
    /// shared get one `grants` message between them.
    private func advance(_ record: inout IntervalRecord, requests initial: [String: Double], onStep: (Double) -> Void) throws(ConductorError) {
        let number = record.interval, end = record.start + timing.length
        var requests = initial
        let began = ContinuousClock.now
        while fleet.time < end - 1e-9 {
            let now = fleet.time
            let asked = requests.values.min().map { max(($0 - 1e-6).rounded(.up), now + 1) } ?? .infinity
            let next = min(end, now + timing.controlPeriod, asked, cosimulation?.boundary(after: now) ?? .infinity)
            do { try cosimulation?.prepareStep(from: now, to: next) } catch { throw ConductorError(message: error.message) }
            while fleet.time < next - 1e-9 {
                fleet.step(for: min(timing.physicsStep, next - fleet.time))
                onStep(fleet.time)
                if let pace = timing.pace {
                    let early = (began + .seconds((fleet.time - record.start) / pace) - ContinuousClock.now) / .seconds(1)
                    record.lags.append(max(0, -early))
                    Thread.sleep(until: Date(timeIntervalSinceNow: max(0, early)))
                }
            }
            guard next < end - 1e-9 else { break }
            var waiting = Set(requests.filter { $0.value <= next + 1e-6 }.keys)
            for participant in waiting { requests[participant] = nil }
            try send(Tick(time: next), interval: number)
            let shared = waiting.intersection(sharingGrants)
            if !shared.isEmpty { try send(TimeGrants(participants: shared, time: next), interval: number) }
            for participant in waiting.subtracting(shared).sorted() { try send(TimeGrant(participant: participant, time: next), interval: number) }
            record.steps += 1
            try collect(until: .now + timing.dispatchDeadline, handle: { message in
                guard message.header.interval == number else { return }
                let answers: [(participant: String, time: Double?)]
                switch message.body {
                case let request as TimeRequest: answers = [(message.header.sender, request.time)]
                case let shared as TimeRequests: answers = shared.requests.map { ($0.key, $0.value) }
                default: return
                }
                for (participant, time) in answers {
                    waiting.remove(participant)
                    requests[participant] = time.flatMap { $0 < end ? $0 : nil }
                }
            }, done: { waiting.isEmpty })
            if !waiting.isEmpty { record.silentSteps.append((next, waiting.sorted())) }
        }
    }

    /// The battery that forms the grid now: an island's, or the one an outage in force names.
    private var gridFormer: DeviceID? {
        if let outage = outages.first(where: { $0.contains(fleet.time) }) { return outage.gridForming }
        if case .gridForming(let id) = grid { return id }
        return nil
    }

    /// The grid's bids this interval: the utility's tariffs, or the grid-forming battery's offer
    /// (`GridTie.gridForming`), read from the battery as it stands.
    private func gridTie() -> GridTie? {
        switch gridFormer.map({ .gridForming($0) }) ?? grid {
        case .utility(let tie): return tie
        case .gridForming(let id):
            let name = id.description
            guard let battery = fleet.devices.first(where: { $0.emulator.name == name })?.emulator,
                  let soc = battery.reading(.stateOfCharge), let capacity = battery.reading(.capacity),
                  let low = battery.reading(.minimumSoC), let high = battery.reading(.maximumSoC) else { return nil }
            let reading = BatteryReading(stateOfCharge: soc.fromPercent, capacity: capacity.inKilo,
                                         maximumChargePower: (battery.reading(.maxChargePower) ?? 0).inKilo,
                                         maximumDischargePower: (battery.reading(.maxDischargePower) ?? 0).inKilo,
                                         minimumSoC: low.fromPercent, maximumSoC: high.fromPercent)
            return GridTie.gridForming(reading, terms: MarketTerms(priceCap: timing.priceCap, interval: timing.length))
        case nil: return nil
        }
    }

    /// Tells every participant the run is over.
    public func finish() throws(ConductorError) {
        try send(Goodbye(reason: "the run is over"))
    }
}
