public import Physics

/// One message of the GridRig bus protocol (docs/PROTOCOL.md): a header every message carries and a body by type,
/// sent as two ZeroMQ frames, the topic and one UTF-8 JSON object with the header's and the body's fields.
public struct Message: Sendable, Equatable {
    public var header: Header
    public var body: any MessageBody

    public init(header: Header, body: any MessageBody) {
        self.header = header
        self.body = body
    }

    /// The protocol version this code speaks.
    public static let version = 1

    public struct Header: Sendable, Equatable {
        /// Protocol version, `v` on the wire.
        public var version: Int
        /// The market interval the message belongs to; nil for messages outside intervals (hello, ready, goodbye).
        public var interval: Int?
        /// The participant that sent it: a household's id, "market", "conductor", ...
        public var sender: String
        /// Counts up by one per message from this sender, from 1.
        public var sequence: UInt64

        public init(version: Int = Message.version, interval: Int?, sender: String, sequence: UInt64) {
            self.version = version
            self.interval = interval
            self.sender = sender
            self.sequence = sequence
        }
    }

    /// The topic the message travels on: per-sender for participants' own messages, per-household for what
    /// concerns one household, shared for the conductor's and the market's announcements.
    public var topic: Topic { body.topic(sender: header.sender) }

    public static func == (lhs: Message, rhs: Message) -> Bool { lhs.header == rhs.header && lhs.body.isEqual(to: rhs.body) }
}

/// What a message type is: its name on the wire, who may send it, the topic it travels on, and its fields, read
/// and written. Each body in Bodies.swift declares its own; a new message type is a body conforming to this and its
/// line in `MessageBodies.all`, and participants handle it by its type (`case let awards as Awards`).
public protocol MessageBody: Sendable {
    /// Its `type` on the wire.
    static var type: String { get }
    /// The one participant entitled to send it, if only one is: the conductor runs the clock and the intervals,
    /// the market clears them.
    static var soleSender: String? { get }
    /// The participants it is for, when it travels on a topic that others read too (a shared grant names those it
    /// grants); nil: everyone who reads its topic.
    var addressees: Set<String>? { get }
    /// The topic it travels on when `sender` sends it.
    func topic(sender: String) -> Topic
    /// Its fields, after the header's (docs/PROTOCOL.md).
    func write(into writer: inout JSONWriter)
    /// Reads its fields; a missing or mistyped one is refused, naming it.
    init(reading fields: MessageFields) throws(MessageError)
    func isEqual(to other: any MessageBody) -> Bool
}

extension MessageBody {
    public static var soleSender: String? { nil }
    public var addressees: Set<String>? { nil }
    /// Its `type` on the wire.
    public var type: String { Self.type }
}

extension MessageBody where Self: Equatable {
    public func isEqual(to other: any MessageBody) -> Bool { (other as? Self) == self }
}

/// Every message type of the protocol: the one table the reader looks a frame's `type` up in.
public enum MessageBodies {
    public static let all: [any MessageBody.Type] = [
        Hello.self, Ready.self, Goodbye.self, Tick.self, IntervalStart.self, Gate.self, Telemetry.self, Bids.self, ClearingResult.self,
        Awards.self, DispatchReport.self, TimeRequest.self, TimeRequests.self, TimeGrant.self, TimeGrants.self, ErrorReport.self,
    ]
    static let byType = Dictionary(uniqueKeysWithValues: all.map { ($0.type, $0) })
}

/// Numbers each message of one sender.
public struct MessageWriter: Sendable {
    public let sender: String
    public private(set) var sequence: UInt64 = 0

    public init(sender: String) { self.sender = sender }

    public mutating func message(_ body: any MessageBody, interval: Int? = nil) -> Message {
        sequence += 1
        return Message(header: Message.Header(interval: interval, sender: sender, sequence: sequence), body: body)
    }
}

/// The participants every run has, by their names on the bus (docs/PROTOCOL.md, "Participants"); households are
/// named by their house ids.
public enum ParticipantName {
    /// GridRig's harness: the clock, interval starts, gate closures, grants.
    public static let conductor = "conductor"
    /// The market of a run (a rig may give it another name only through `gridrig agent market --name`).
    public static let market = "market"
    /// The utility behind the PCC, or an island's grid-forming battery, for which the conductor bids.
    public static let grid = "grid"
}

extension HouseID {
    /// The utility (or an island's grid-forming battery) as a household of the market: it bids on `bids/grid`.
    public static let grid = HouseID(checked: ParticipantName.grid)
}
