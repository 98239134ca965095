import Agents
import Bus
import Emulators
package import Messages
import Modbus
import Physics
import Rigs
package import Run

/// Everything an assertion may look at, decoded once from the three truths: the bus capture (every message, by
/// the interval the conductor opened), the emulators' write logs, and the physics series. Every assertion, the
/// fault windows and the report read it; a fault window judges a slice of it, never decoding again.
package struct RunView: Sendable {
    let rig: Rig
    let physics: PhysicsSeries
    /// Accepted and refused writes, in arrival order.
    let writes: [LoggedWrite]
    /// When each device answered reads and turned them away, by device name.
    let reads: [String: ReadLog.Times]
    let households: [HouseID]
    /// Every participant of the run: the conductor, the market, the households, the grid and the scripted bidders
    /// the conductor bids for.
    let participants: Set<String>
    /// The intervals the conductor opened, in order; messages stamped with any other interval are not judged.
    /// When the capture filled up, only the intervals it holds whole.
    package let intervals: [IntervalView]
    /// Every captured message that decodes, in arrival order; the lockstep clock's grants and time requests by
    /// their headers alone.
    let bus: DecodedBus
    /// Every captured message that decodes but the clock's grants and time requests, with its arrival (wall clock),
    /// in arrival order.
    var messages: [(message: Message, received: Double)] { bus.messages }
    /// Whether each captured frame (in the capture's order) decoded as a message, and so is JSON; empty for a slice.
    package let decodedCapture: [Bool]
    /// The simulated span judged: the whole run, or a fault window.
    let span: ClosedRange<Double>
    /// The rig's fault windows, unjudged (`FaultWindow.windows(of:)`).
    let faultWindows: [FaultWindow]
    /// Every followable device against its awards, for devices-follow-awards and the report (`followDevices()`).
    package private(set) var followed: [FollowedDevice] = []
    /// Each house's devices that count in what it drew (not its meters, nor an island's grid-forming battery), with
    /// the sign that makes their energy a draw: found once, where each interval's settlement scanned every device of
    /// the rig for each house.
    let householdDevices: [HouseID: [(name: String, drawSign: Double)]]
    /// The accepted writes to each device, in wall-clock order.
    let acceptedWrites: [String: DeviceWrites]
    /// Messages no interval of the run accounts for: stamped with an interval the conductor never opened, or sent
    /// by no participant of the run. Each is a protocol violation by its sender, never an interval of its own.
    /// The report reads the whole run's.
    package let strays: [StrayMessages]
    /// Captured messages that are not protocol v1 (not JSON, a missing or mistyped field, a topic that does not fit),
    /// counted by the sender they name; empty for a slice.
    let malformed: [String: Int]
    /// Every message a bus fault duplicated, delayed or reordered: it may arrive twice or out of order through no
    /// fault of its sender.
    let faultTouched: Set<SentMessage>

    /// A message as its sender numbered it.
    struct SentMessage: Hashable {
        let sender: String, sequence: UInt64
        init(_ header: Message.Header) { (sender, sequence) = (header.sender, header.sequence) }
    }
    /// Bids messages the market refused as invalid, and rightly so, by household.
    let invalidBids: [String: Int]
    /// When the conductor said goodbye (wall clock), and each participant's first goodbye after it.
    let goodbyes: (conductor: Double?, answers: [String: Double])

    /// Some of the run's writes, in an order of their own, by their place in the run's log: a 1,000-house day
    /// logs over a million writes, which a copy per device would hold twice.
    struct DeviceWrites: RandomAccessCollection {
        let log: [LoggedWrite]
        let order: [Int]
        /// Each write's wall-clock time, in the same order: a search by time reads these, not a copy of each write
        /// it passes (a million times over in a 1,000-house day's verdict).
        let times: [Double]
        init(log: [LoggedWrite], order: [Int]) {
            (self.log, self.order) = (log, order)
            times = order.map { log[$0].record.unixTime }
        }
        var startIndex: Int { 0 }
        var endIndex: Int { order.count }
        subscript(index: Int) -> LoggedWrite { log[order[index]] }
        /// The index of the first write at or after `time`, or after it.
        func first(atOrAfter time: Double) -> Int { times.partitionPoint { $0 >= time } }
        func first(after time: Double) -> Int { times.partitionPoint { $0 > time } }
    }

    /// A sender's messages that belong to no interval of the run, summed.
    package struct StrayMessages: Sendable, Equatable {
        package enum Why: String, Sendable { case unopenedInterval = "for an interval the conductor never opened", unknownSender = "from no participant of the run" }
        package var sender: String
        package var why: Why
        package var messages = 0
        /// Wall-clock arrivals of the first and the last.
        package var first = 0.0
        package var last = 0.0
    }

    /// One interval as the conductor opened it and the bus carried it.
    package struct IntervalView: Sendable {
        let record: IntervalRecord
        /// Each household's last bids before gate closure, by sender.
        var bids: [String: Bids] = [:]
        /// When the conductor's `interval` message for it passed the broker.
        var openedAt: Double?
        package var gateAt: Double?
        package var clearing: ClearingResult?
        package var clearedAt: Double?
        /// Each household's awards, with their arrival at the broker.
        var awards: [HouseID: (awards: Awards, at: Double)] = [:]
        var number: Int { record.interval }
        package var start: Double { record.start }
    }

    package init(_ record: RunRecord) {
        // One pass, keeping only what decodes: a 1,000-house day is 3 million messages, and an array of every
        // decoding beside the messages held each of them twice.
        var bus = DecodedBus(capacity: record.capture.count), decoded: [Bool] = [], malformed: [String: Int] = [:]
        decoded.reserveCapacity(record.capture.count)
        for (_, chunk) in record.capture.chunks(of: Self.decodingChunk) {
            for (captured, message) in zip(chunk, Self.decode(chunk)) {
                guard let message else {
                    let payload = captured.payload.first ?? []
                    decoded.append(false)
                    malformed[payload.withUnsafeBytes { Message.sender(of: $0) } ?? "(no sender)", default: 0] += 1
                    continue
                }
                bus.append(message, received: captured.received)
                decoded.append(true)
            }
        }
        // Past the capture's bound the bus is not on record: an interval is judged only if the next one began before.
        let overflow = record.admissions.captureOverflow
        let whole = overflow.messages == 0 ? record.intervals
            : zip(record.intervals, record.intervals.dropFirst()).filter { $1.gateClosedAt < overflow.first }.map(\.0)
        var touched: Set<SentMessage> = []
        for event in record.busFaultEvents where event.action != .forward && event.action != .drop {
            if let message = try? Message.decode(topic: event.topic, payload: event.payload.first ?? []) { touched.insert(SentMessage(message.header)) }
        }
        self.init(rig: record.rig, physics: record.physics, writes: record.writes, households: record.households,
                  records: whole, opened: Set(record.intervals.map(\.interval)), bus: bus, decodedCapture: decoded,
                  reads: record.reads, malformed: malformed, faultTouched: touched, span: (record.physics.times.first ?? 0)...(record.physics.times.last ?? 0))
    }

    /// Captured messages decoded at a time, each chunk read from the capture's file in order and decoded on every core.
    private static let decodingChunk = 1 << 16

    /// The messages of `chunk` decoded, in order (nil for one that is not protocol v1), on every core: parsing the
    /// JSON is most of the view's making (3 million messages at 1,000 houses).
    private static func decode(_ chunk: [CapturedMessage]) -> [Message?] {
        onEveryCore(chunk.count, minimum: 1_024) { range in
            chunk[range].map { try? Message.decode(topic: $0.topic, payload: $0.payload.first ?? []) }
        }
    }

    /// `records` are the intervals judged; `opened`, every interval the conductor opened.
    private init(rig: Rig, physics: PhysicsSeries, writes: [LoggedWrite], households: [HouseID], records: [IntervalRecord], opened: Set<Int>,
                 bus: DecodedBus, decodedCapture: [Bool] = [], reads: [String: ReadLog.Times] = [:],
                 malformed: [String: Int] = [:],
                 faultTouched: Set<SentMessage> = [], span: ClosedRange<Double>) {
        self.decodedCapture = decodedCapture
        self.malformed = malformed
        self.reads = reads
        self.faultTouched = faultTouched
        faultWindows = FaultWindow.windows(of: rig)
        self.rig = rig
        self.physics = physics
        self.writes = writes
        self.households = households
        self.bus = bus
        self.span = span
        participants = Set((households + rig.marketHouseholds).map(\.name) + [ParticipantName.conductor, ParticipantName.market, ParticipantName.grid])
        let read = Self.read(bus, of: records, opened: opened, participants: participants, priceCap: rig.run.priceCap)
        intervals = records.compactMap { read.views[$0.interval] }
        goodbyes = read.goodbyes
        invalidBids = read.invalidBids
        strays = read.strays.values.sorted { ($0.first, $0.sender) < ($1.first, $1.sender) }
        var householdDevices: [HouseID: [(name: String, drawSign: Double)]] = [:]
        for spec in rig.devices where spec.profile.kind != .meter && !spec.isGridForming {
            if let house = spec.house { householdDevices[house, default: []].append((spec.name, spec.profile.kind.drawSign)) }
        }
        self.householdDevices = householdDevices
        var accepted: [String: [Int]] = [:]
        for (index, write) in writes.enumerated() where write.record.exception == nil { accepted[write.device, default: []].append(index) }
        acceptedWrites = accepted.mapValues { order in
            DeviceWrites(log: writes, order: order.sorted { writes[$0].record.unixTime < writes[$1].record.unixTime })
        }
        followed = followDevices()
    }

    /// What the bus carried, read in one pass: each judged interval's view, the messages no interval accounts for
    /// (by sender and why), the bids the market rightly refused, and the goodbyes.
    private static func read(_ bus: DecodedBus, of records: [IntervalRecord], opened: Set<Int>,
                             participants: Set<String>, priceCap: Double)
        -> (views: [Int: IntervalView], strays: [String: StrayMessages], invalidBids: [String: Int], goodbyes: (conductor: Double?, answers: [String: Double])) {
        var views = Dictionary(records.map { ($0.interval, IntervalView(record: $0)) }, uniquingKeysWith: { first, _ in first })
        var strays: [String: StrayMessages] = [:]
        // Per interval and household: the bids a later message replaced (so that the market's refusal of the later
        // one restores them, as the market does), and whether the market stopped taking its bids as a flood.
        var superseded: [String: Bids] = [:], flooded: Set<String> = [], invalidBids: [String: Int] = [:]
        var goodbyes: (conductor: Double?, answers: [String: Double]) = (nil, [:])
        bus.forEach { header, _, body, received in
            let sender = header.sender
            if body is Goodbye {
                if sender == ParticipantName.conductor { goodbyes.conductor = received } else if goodbyes.conductor != nil, goodbyes.answers[sender] == nil {
                    goodbyes.answers[sender] = received
                }
            }
            // An error carries the interval of the message it refuses, which may be one never opened.
            let why: StrayMessages.Why? = !participants.contains(sender) ? .unknownSender
                : body is ErrorReport ? nil
                : header.interval.map { opened.contains($0) ? nil : .unopenedInterval } ?? nil
            if let why {
                strays["\(sender)\u{0}\(why.rawValue)", default: StrayMessages(sender: sender, why: why, first: received)].messages += 1
                strays["\(sender)\u{0}\(why.rawValue)"]!.last = received
            }
            guard why == nil, let number = header.interval, views[number] != nil else { return }
            switch body {
            case let bids as Bids where views[number]!.gateAt == nil:
                guard !flooded.contains("\(number)/\(sender)") else { return }
                superseded["\(number)/\(sender)"] = views[number]!.bids[sender]
                views[number]!.bids[sender] = bids
            case let refusal as ErrorReport where sender == ParticipantName.market && views[number]!.clearing == nil:
                // Before the clearing: the market refuses bids that reached it before the gate, even when its error
                // passes the broker after the gate did.
                // Bids the market rightly refused are the household's fault, not the market's work: it is judged on the
                // bids it kept. A refusal of valid bids is the market's fault, and they stay.
                guard let about = refusal.about, let house = try? HouseID(parsing: about), refusal.topic == Topic.of(.bids, house).description,
                      let refused = views[number]!.bids[about] else { return }
                switch refusal.fault {
                case .flood: flooded.insert("\(number)/\(about)")
                case .invalidBid where (try? MarketAgent.accept(refused, from: house, priceCap: priceCap)) == nil:
                    invalidBids[about, default: 0] += 1
                default: return
                }
                views[number]!.bids[about] = superseded.removeValue(forKey: "\(number)/\(about)")
            case is IntervalStart where sender == ParticipantName.conductor: views[number]!.openedAt = received
            case is Gate: views[number]!.gateAt = received
            case let clearing as ClearingResult:
                views[number]!.clearing = clearing
                views[number]!.clearedAt = received
            case let awards as Awards: views[number]!.awards[awards.house] = (awards, received)
            default: return
            }
        }
        return (views, strays, invalidBids, goodbyes)
    }

    /// The first accepted write to `device` at or after `time` (wall clock), if any.
    func firstWrite(to device: String, atOrAfter time: Double) -> Double? {
        guard let writes = acceptedWrites[device] else { return nil }
        let index = writes.first(atOrAfter: time)
        return index < writes.count ? writes.times[index] : nil
    }

    /// The run from `start` to `end` (simulated): the intervals that overlap it, their messages, the writes and
    /// the physics samples within it.
    func during(_ start: Double, _ end: Double) -> RunView {
        let records = intervals.map(\.record).filter { $0.start + rig.run.interval > start && $0.start < end }
        let numbers = Set(records.map(\.interval))
        return RunView(rig: rig, physics: physics.during(start, end), writes: writes.filter { $0.simulatedTime >= start && $0.simulatedTime < end },
                       households: households, records: records, opened: numbers,
                       bus: bus.filter(intervals: numbers), reads: reads,
                       faultTouched: faultTouched, span: start...max(start, end))
    }

    /// The length of every interval, s.
    package var intervalLength: Double { rig.run.interval }

    /// The index of the last sample at or before `time`.
    func sample(atOrBefore time: Double) -> Int? {
        let after = physics.times.partitionPoint { $0 > time + 1e-6 }
        return after > 0 ? after - 1 : nil
    }

    /// kWh a device's power series gives from `start` to `end` (its sign: + consumed by a load, + produced by PV,
    /// + discharged by a battery, + imported at a meter); nil when the series does not cover the span. Summed when
    /// asked: a running sum of every device kept beside the series took 180 MB at 1,000 houses.
    package func energy(of device: String, from start: Double, to end: Double) -> Double? {
        let times = physics.times
        guard let power = physics.values[SeriesKey(device, .power)], let from = sample(atOrBefore: start), let to = sample(atOrBefore: end),
              to > from, to < power.count, times[to] >= end - 1e-6 else { return nil }
        var total = 0.0
        for index in from + 1 ... to where power[index].isFinite { total += power[index] * (times[index] - times[index - 1]) / 3600 }
        return total
    }

    /// The PCC's meter: a meter of no house.
    var pccMeter: DeviceSpec? { rig.devices.first { $0.profile.kind == .meter && $0.house == nil } }

    /// Whether the neighborhood is an island at `time`: the whole run, or during a grid outage.
    func isIslanded(at time: Double) -> Bool { rig.run.grid == nil || rig.run.faults.outages.contains { $0.contains(time) } }

    /// The spans of scheduled faults that concern `device` of `house`: its own device faults, the household's or
    /// the market's crash, a bus fault on the way the household learns and follows its award (a stall is one),
    /// and grid outages. What a controller does there is a fault scenario's business, not a failure to follow the
    /// market.
    func faultSpans(house: HouseID?, device: String) -> [ClosedRange<Double>] {
        faultWindows.filter { window in
            if case .device(let name) = window.concerns { name == device } else { window.excusesEveryDevice(of: house) }
        }.map { $0.start...$0.end }
    }

    /// The spans of every fault window that can change what the devices do: any device's fault, a bus fault on
    /// any household's way to its award, any participant's, the grid's, and every device's replay of the field.
    var allFaultSpans: [ClosedRange<Double>] {
        faultWindows.filter { window in window.excuses && (window.bus?.reachesControl(of: nil) ?? true) }.map { $0.start...$0.end }
    }
}

extension BusFault {
    /// The topics by which a household learns and follows its award: its bids and awards, the interval and gate
    /// announcements, the lockstep clock and its time requests and grants, its hello and ready.
    private static func controlTopics(of house: HouseID?) -> [String] {
        let shared: [Topic] = [.interval, .gate, .clock, .grants], own: [Topic.Kind] = [.bids, .awards, .time, .grant, .hello, .ready]
        return shared.map(\.description) + own.map { kind in house.map { Topic.of(kind, $0).description } ?? TopicFilter.every(kind).prefix }
    }

    /// Whether the fault can touch the way `house` (nil: any household) learns and follows its award. One only on
    /// the clearing, telemetry, dispatch reports or errors changes what others see, not what the devices do.
    func reachesControl(of house: HouseID?) -> Bool {
        Self.controlTopics(of: house).contains { path in path.hasPrefix(topic) || (house == nil && topic.hasPrefix(path)) }
    }
}
