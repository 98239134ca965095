public import Physics

/// A participant announcing itself; its join handshake publishes this on `hello/<sender>`.
public struct Hello: Sendable, Equatable {
    public var role: Role
    /// What the participant runs, e.g. "gridrig 0.3 reference household".
    public var software: String?

    public init(role: Role, software: String? = nil) {
        self.role = role
        self.software = software
    }
}

extension Hello: MessageBody {
    public static let type = "hello"
    public func topic(sender: String) -> Topic { .of(.hello, sender) }

    public func write(into writer: inout JSONWriter) {
        writer.field("role", role.rawValue)
        writer.fieldIfPresent("software", software)
    }

    public init(reading fields: MessageFields) throws(MessageError) {
        self.init(role: try fields.choice("role", of: Role.self), software: try fields.optionalString("software"))
    }
}

/// A participant that has joined and is ready for the run: the join handshake's answer, on `ready/<sender>`.
public struct Ready: MessageBody, Equatable {
    /// Where the participant takes its control steps' grants (revision 1.2): each on its own topic, or several at a
    /// time in the conductor's `grants` messages.
    public enum Grants: String, Sendable, CaseIterable {
        case own, shared
    }

    public static let type = "ready"
    public var grants: Grants

    public init(grants: Grants = .own) { self.grants = grants }
    public func topic(sender: String) -> Topic { .of(.ready, sender) }
    public func write(into writer: inout JSONWriter) { if grants != .own { writer.field("grants", grants.rawValue) } }
    public init(reading fields: MessageFields) throws(MessageError) { grants = try fields.optionalChoice("grants", of: Grants.self) ?? .own }
}

public struct Goodbye: Sendable, Equatable {
    public var reason: String
    /// Seconds a participant has to answer the conductor's goodbye with its own (docs/PROTOCOL.md).
    public static let answerWindow = 3.0

    public init(reason: String) { self.reason = reason }
}

extension Goodbye: MessageBody {
    public static let type = "goodbye"
    public func topic(sender: String) -> Topic { .of(.goodbye, sender) }
    public func write(into writer: inout JSONWriter) { writer.field("reason", reason) }
    public init(reading fields: MessageFields) throws(MessageError) { self.init(reason: try fields.string("reason")) }
}

/// Simulated time, published by the conductor.
public struct Tick: Sendable, Equatable {
    /// Simulated seconds since midnight of the run's first day.
    public var time: Double

    public init(time: Double) { self.time = time }
}

extension Tick: MessageBody {
    public static let type = "tick"
    public static var soleSender: String? { ParticipantName.conductor }
    public func topic(sender: String) -> Topic { .clock }
    public func write(into writer: inout JSONWriter) { writer.field("time", time) }
    public init(reading fields: MessageFields) throws(MessageError) { self.init(time: try fields.number("time")) }
}

/// The start of a market interval (its id is the header's `interval`) and its deadlines.
public struct IntervalStart: Sendable, Equatable {
    /// Simulated start, seconds since midnight of the first day, and length, s.
    public var start: Double
    public var length: Double
    public var priceCap: Double
    /// Wall-clock budgets from this message: bids before gate closure, the clearing after it, the setpoints
    /// after the awards.
    public var bidDeadlineMs: Int
    public var clearingDeadlineMs: Int
    public var dispatchDeadlineMs: Int
    /// The device that forms the grid this interval ("h1/battery"), when the neighborhood is an island (for the
    /// whole run, or in an outage): it balances the site on its own, so its household neither bids nor drives it.
    public var gridForming: DeviceID?

    public init(start: Double, length: Double, priceCap: Double, bidDeadlineMs: Int, clearingDeadlineMs: Int, dispatchDeadlineMs: Int,
                gridForming: DeviceID? = nil) {
        self.gridForming = gridForming
        self.start = start
        self.length = length
        self.priceCap = priceCap
        self.bidDeadlineMs = bidDeadlineMs
        self.clearingDeadlineMs = clearingDeadlineMs
        self.dispatchDeadlineMs = dispatchDeadlineMs
    }
}

extension IntervalStart: MessageBody {
    public static let type = "interval"
    public static var soleSender: String? { ParticipantName.conductor }
    public func topic(sender: String) -> Topic { .interval }

    public func write(into writer: inout JSONWriter) {
        writer.field("start", start)
        writer.field("length", length)
        writer.field("price_cap", priceCap)
        writer.field("bid_deadline_ms", bidDeadlineMs)
        writer.field("clearing_deadline_ms", clearingDeadlineMs)
        writer.field("dispatch_deadline_ms", dispatchDeadlineMs)
        writer.fieldIfPresent("grid_forming", gridForming?.description)
    }

    public init(reading fields: MessageFields) throws(MessageError) {
        self.init(start: try fields.number("start"), length: try fields.number("length"), priceCap: try fields.number("price_cap"),
                  bidDeadlineMs: try fields.int("bid_deadline_ms"), clearingDeadlineMs: try fields.int("clearing_deadline_ms"),
                  dispatchDeadlineMs: try fields.int("dispatch_deadline_ms"), gridForming: try fields.optionalDeviceID("grid_forming"))
    }
}

/// The gate closure of the interval the header names: bids after it are late.
public struct Gate: MessageBody, Equatable {
    public static let type = "gate"
    public static var soleSender: String? { ParticipantName.conductor }
    public init() {}
    public func topic(sender: String) -> Topic { .gate }
    public func write(into writer: inout JSONWriter) {}
    public init(reading fields: MessageFields) {}
}

/// What a household's agent read from its devices.
public struct Telemetry: Sendable, Equatable {
    public struct Device: Sendable, Equatable {
        public var id: DeviceID
        /// Readings by name, in the units docs/PROTOCOL.md lists (kW, kWh, %, °C, A).
        public var values: [String: Double]

        public init(id: DeviceID, values: [String: Double]) {
            self.id = id
            self.values = values
        }
    }

    public var house: HouseID
    public var devices: [Device]

    public init(house: HouseID, devices: [Device]) {
        self.house = house
        self.devices = devices
    }
}

extension Telemetry: MessageBody {
    public static let type = "telemetry"
    public func topic(sender: String) -> Topic { .of(.telemetry, house) }

    public func write(into writer: inout JSONWriter) {
        writer.field("house", house.name)
        writer.field("devices", objects: devices.map { device in
            var item = JSONWriter()
            item.field("id", device.id.description)
            var values = JSONWriter()
            for name in device.values.keys.sorted() { values.field(name, device.values[name]!) }
            item.field("values", json: values.json)
            return item
        })
    }

    public init(reading fields: MessageFields) throws(MessageError) {
        self.init(house: try fields.house("house"), devices: try fields.objects("devices").map { device throws(MessageError) in
            Device(id: try device.deviceID("id"), values: try device.numbers("values"))
        })
    }
}

/// One bid on the wire.
/// Which side of the market a bid or an award is on; any other value on the wire is refused.
public enum BidSide: String, Sendable, Equatable, CaseIterable {
    case buy, sell
}

/// How a clearing's price was set (docs/MARKET.md); any other value on the wire is refused.
public enum ClearingKind: String, Sendable, Equatable, CaseIterable {
    case buyer, seller, exact, price, failure, null
}

public struct WireBid: Sendable, Equatable {
    /// "<household>/<device>": the household's name, then what the bid is for (docs/PROTOCOL.md, "bids").
    public var id: String
    public var side: BidSide
    /// $/kWh and kW.
    public var price: Double
    public var quantity: Double

    public init(id: String, side: BidSide, price: Double, quantity: Double) {
        self.id = id
        self.side = side
        self.price = price
        self.quantity = quantity
    }
}

/// A household's bids for the interval; a later message for the same interval replaces an earlier one.
public struct Bids: Sendable, Equatable {
    public var house: HouseID
    public var bids: [WireBid]

    public init(house: HouseID, bids: [WireBid]) {
        self.house = house
        self.bids = bids
    }
}

extension Bids: MessageBody {
    public static let type = "bids"
    public func topic(sender: String) -> Topic { .of(.bids, house) }

    public func write(into writer: inout JSONWriter) {
        writer.field("house", house.name)
        writer.field("bids", objects: bids.map { bid in
            var item = JSONWriter()
            item.field("id", bid.id)
            item.field("side", bid.side.rawValue)
            item.field("price", bid.price)
            item.field("quantity", bid.quantity)
            return item
        })
    }

    public init(reading fields: MessageFields) throws(MessageError) {
        self.init(house: try fields.house("house"), bids: try fields.objects("bids").map { bid throws(MessageError) in
            WireBid(id: try bid.string("id"), side: try bid.choice("side", of: BidSide.self), price: try bid.number("price"),
                    quantity: try bid.number("quantity"))
        })
    }
}

/// The market's result for the interval (docs/MARKET.md).
public struct ClearingResult: Sendable, Equatable {
    public var price: Double
    public var quantity: Double
    /// buyer, seller, exact, price, failure or null (`clearing_type`: `type` is the header's).
    public var clearingType: ClearingKind
    public var marginalQuantity: Double
    public var marginalFraction: Double
    public var unservedDemand: Double
    /// How many bids the clearing took in.
    public var bidCount: Int

    public init(price: Double, quantity: Double, clearingType: ClearingKind, marginalQuantity: Double, marginalFraction: Double,
                unservedDemand: Double, bidCount: Int) {
        self.price = price
        self.quantity = quantity
        self.clearingType = clearingType
        self.marginalQuantity = marginalQuantity
        self.marginalFraction = marginalFraction
        self.unservedDemand = unservedDemand
        self.bidCount = bidCount
    }
}

extension ClearingResult: MessageBody {
    public static let type = "clearing"
    public static var soleSender: String? { ParticipantName.market }
    public func topic(sender: String) -> Topic { .clearing }

    public func write(into writer: inout JSONWriter) {
        writer.field("price", price)
        writer.field("quantity", quantity)
        writer.field("clearing_type", clearingType.rawValue)
        writer.field("marginal_quantity", marginalQuantity)
        writer.field("marginal_fraction", marginalFraction)
        writer.field("unserved_demand", unservedDemand)
        writer.field("bid_count", bidCount)
    }

    public init(reading fields: MessageFields) throws(MessageError) {
        self.init(price: try fields.number("price"), quantity: try fields.number("quantity"),
                  clearingType: try fields.choice("clearing_type", of: ClearingKind.self), marginalQuantity: try fields.number("marginal_quantity"),
                  marginalFraction: try fields.number("marginal_fraction"), unservedDemand: try fields.number("unserved_demand"),
                  bidCount: try fields.int("bid_count"))
    }
}

/// What one household won: every one of its bids with the kW awarded, and the price.
public struct Awards: Sendable, Equatable {
    public struct Award: Sendable, Equatable {
        /// The bid's id.
        public var id: String
        public var side: BidSide
        public var quantity: Double

        public init(id: String, side: BidSide, quantity: Double) {
            self.id = id
            self.side = side
            self.quantity = quantity
        }
    }

    public var house: HouseID
    public var price: Double
    public var awards: [Award]

    public init(house: HouseID, price: Double, awards: [Award]) {
        self.house = house
        self.price = price
        self.awards = awards
    }
}

extension Awards: MessageBody {
    public static let type = "awards"
    public static var soleSender: String? { ParticipantName.market }
    public func topic(sender: String) -> Topic { .of(.awards, house) }

    public func write(into writer: inout JSONWriter) {
        writer.field("house", house.name)
        writer.field("price", price)
        writer.field("awards", objects: awards.map { award in
            var item = JSONWriter()
            item.field("id", award.id)
            item.field("side", award.side.rawValue)
            item.field("quantity", award.quantity)
            return item
        })
    }

    public init(reading fields: MessageFields) throws(MessageError) {
        self.init(house: try fields.house("house"), price: try fields.number("price"), awards: try fields.objects("awards").map { award throws(MessageError) in
            Award(id: try award.string("id"), side: try award.choice("side", of: BidSide.self), quantity: try award.number("quantity"))
        })
    }
}

/// The setpoints a household's agent wrote after its awards, each with when it landed in the device.
public struct DispatchReport: Sendable, Equatable {
    public struct Setpoint: Sendable, Equatable {
        public var id: DeviceID
        /// What was set.
        public var name: SetpointName
        public var value: Double?
        /// Wall clock when the device acknowledged the write, seconds since the Unix epoch.
        public var landedAt: Double?
        /// Why it did not land (a Modbus exception, a timeout), if it did not.
        public var error: String?

        public init(id: DeviceID, name: SetpointName, value: Double?, landedAt: Double?, error: String? = nil) {
            self.id = id
            self.name = name
            self.value = value
            self.landedAt = landedAt
            self.error = error
        }
    }

    public var house: HouseID
    /// Wall clock when the agent received its awards, seconds since the Unix epoch.
    public var awardsReceivedAt: Double
    public var setpoints: [Setpoint]
    /// The next simulated time the household needs to act within the interval (a watchdog refresh, a planned
    /// switch, a re-plan); nil asks for nothing before the next interval (docs/PROTOCOL.md, "Control steps").
    public var nextTime: Double?

    public init(house: HouseID, awardsReceivedAt: Double, setpoints: [Setpoint], nextTime: Double? = nil) {
        self.house = house
        self.awardsReceivedAt = awardsReceivedAt
        self.setpoints = setpoints
        self.nextTime = nextTime
    }
}

extension DispatchReport: MessageBody {
    public static let type = "dispatch"
    public func topic(sender: String) -> Topic { .of(.dispatch, house) }

    public func write(into writer: inout JSONWriter) {
        writer.field("house", house.name)
        writer.field("awards_received_at", awardsReceivedAt)
        writer.field("setpoints", objects: setpoints.map { setpoint in
            var item = JSONWriter()
            item.field("id", setpoint.id.description)
            item.field("name", setpoint.name.rawValue)
            item.fieldIfPresent("value", setpoint.value)
            item.fieldIfPresent("landed_at", setpoint.landedAt)
            item.fieldIfPresent("error", setpoint.error)
            return item
        })
        writer.fieldIfPresent("next_time", nextTime)
    }

    public init(reading fields: MessageFields) throws(MessageError) {
        self.init(house: try fields.house("house"), awardsReceivedAt: try fields.number("awards_received_at"),
                  setpoints: try fields.objects("setpoints").map { setpoint throws(MessageError) in
                      Setpoint(id: try setpoint.deviceID("id"), name: try setpoint.choice("name", of: SetpointName.self),
                               value: try setpoint.optionalNumber("value"), landedAt: try setpoint.optionalNumber("landed_at"),
                               error: try setpoint.optionalString("error"))
                  }, nextTime: try fields.optionalNumber("next_time"))
    }
}

/// The conductor granting a participant the simulated time it asked for: the physics stands at `time`, and the
/// conductor waits for the participant's next `time-request` before it advances further.
public struct TimeGrant: Sendable, Equatable {
    public var participant: String
    /// Simulated seconds since midnight of the run's first day.
    public var time: Double

    public init(participant: String, time: Double) {
        self.participant = participant
        self.time = time
    }
}

extension TimeGrant: MessageBody {
    public static let type = "grant"
    public static var soleSender: String? { ParticipantName.conductor }
    public func topic(sender: String) -> Topic { .of(.grant, participant) }

    public func write(into writer: inout JSONWriter) {
        writer.field("participant", participant)
        writer.field("time", time)
    }

    public init(reading fields: MessageFields) throws(MessageError) {
        self.init(participant: try fields.string("participant"), time: try fields.number("time"))
    }
}

/// The conductor granting one simulated time to several participants at once (revision 1.2): to each of
/// `participants` that said it takes its grants so, in place of a `grant` on its own topic.
public struct TimeGrants: Sendable, Equatable {
    public var participants: Set<String>
    /// Simulated seconds since midnight of the run's first day.
    public var time: Double

    public init(participants: Set<String>, time: Double) {
        self.participants = participants
        self.time = time
    }
}

extension TimeGrants: MessageBody {
    public static let type = "grants"
    public static var soleSender: String? { ParticipantName.conductor }
    public var addressees: Set<String>? { participants }
    public func topic(sender: String) -> Topic { .grants }

    public func write(into writer: inout JSONWriter) {
        writer.field("participants", strings: participants.sorted())
        writer.field("time", time)
    }

    public init(reading fields: MessageFields) throws(MessageError) {
        self.init(participants: Set(try fields.strings("participants")), time: try fields.number("time"))
    }
}

/// A participant's answer to a control step granted to it: it has acted for the tick's time, and names the next
/// simulated time it needs (nil: nothing before the next interval).
public struct TimeRequest: Sendable, Equatable {
    public var time: Double?

    public init(time: Double?) { self.time = time }
}

extension TimeRequest: MessageBody {
    public static let type = "time-request"
    public func topic(sender: String) -> Topic { .of(.time, sender) }
    public func write(into writer: inout JSONWriter) { writer.fieldIfPresent("time", time) }
    public init(reading fields: MessageFields) throws(MessageError) { self.init(time: try fields.optionalNumber("time")) }
}

/// Several participants' answers to a shared grant in one message (revision 1.2), from a connection that speaks for
/// each of them: the next simulated time each needs (nil: nothing before the next interval). The sender is one of
/// them.
public struct TimeRequests: Sendable, Equatable {
    public var requests: [String: Double?]

    public init(requests: [String: Double?]) { self.requests = requests }
}

extension TimeRequests: MessageBody {
    public static let type = "time-requests"
    public func topic(sender: String) -> Topic { .of(.time, sender) }
    public func write(into writer: inout JSONWriter) { writer.field("requests", optionalNumbers: requests.sorted { $0.key < $1.key }) }
    public init(reading fields: MessageFields) throws(MessageError) { self.init(requests: try fields.optionalNumbers("requests")) }
}

/// A participant refusing a message: what was wrong, with whom, and how many it has refused for that fault.
public struct ErrorReport: Sendable, Equatable {
    public enum Fault: String, Sendable, CaseIterable {
        /// Not JSON, not an object, a missing or mistyped field, or a topic that does not match the message.
        case malformed
        /// A protocol version this participant does not speak.
        case version
        /// A message type this participant does not know.
        case unknownType = "unknown-type"
        /// A bid for an interval that is not open (closed, or not yet started).
        case closedInterval = "closed-interval"
        /// A bid the market rules refuse (quantity, price, id).
        case invalidBid = "invalid-bid"
        /// A sender the participant was not told about.
        case unknownParticipant = "unknown-participant"
        /// A message only another role sends: intervals, gates, ticks and grants come from the conductor alone,
        /// clearings and awards from the market alone.
        case notEntitled = "not-entitled"
        /// More messages from one sender in one interval than the participant accepts.
        case flood
    }

    public var fault: Fault
    public var detail: String
    /// The sender of the refused message, when known.
    public var about: String?
    /// The refused message's topic.
    public var topic: String?
    /// Messages refused for this fault so far by this participant.
    public var count: Int

    public init(fault: Fault, detail: String, about: String?, topic: String?, count: Int) {
        self.fault = fault
        self.detail = detail
        self.about = about
        self.topic = topic
        self.count = count
    }
}

extension ErrorReport: MessageBody {
    public static let type = "error"
    public func topic(sender: String) -> Topic { .of(.error, sender) }

    public func write(into writer: inout JSONWriter) {
        writer.field("fault", fault.rawValue)
        writer.field("detail", detail)
        writer.fieldIfPresent("about", about)
        writer.fieldIfPresent("topic", topic)
        writer.field("count", count)
    }

    public init(reading fields: MessageFields) throws(MessageError) {
        let name = try fields.string("fault")
        guard let fault = Fault(rawValue: name) else { throw fields.mistyped("fault", expected: "a fault of docs/PROTOCOL.md", found: "\"\(name)\"") }
        self.init(fault: fault, detail: try fields.string("detail"), about: try fields.optionalString("about"),
                  topic: try fields.optionalString("topic"), count: try fields.int("count"))
    }
}

extension Sequence where Element == Awards.Award {
    /// kW sold less kW bought over these awards.
    public var netSold: Double { reduce(0) { $0 + ($1.side == .sell ? $1.quantity : -$1.quantity) } }
}
