/// One message of the GridRig bus protocol (docs/PROTOCOL.md): a header every message carries and a body by type,
/// sent as two ZeroMQ frames, the topic and one UTF-8 JSON object with the header's and the body's fields.
public struct Message: Sendable, Equatable {
    public var header: Header
    public var body: Body

    public init(header: Header, body: Body) {
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

    public enum Body: Sendable, Equatable {
        case hello(Hello)
        case ready
        case goodbye(Goodbye)
        case tick(Tick)
        case interval(IntervalStart)
        case gate
        case telemetry(Telemetry)
        case bids(Bids)
        case clearing(ClearingResult)
        case awards(Awards)
        case dispatch(DispatchReport)
        case timeRequest(TimeRequest)
        case grant(TimeGrant)
        case error(ErrorReport)

        /// The one participant entitled to send this message, if only one is: the conductor runs the clock and the
        /// intervals, the market clears them.
        public var soleSender: String? {
            switch self {
            case .tick, .interval, .gate, .grant: ParticipantName.conductor
            case .clearing, .awards: ParticipantName.market
            default: nil
            }
        }

        public var type: MessageType {
            switch self {
            case .hello: .hello
            case .ready: .ready
            case .goodbye: .goodbye
            case .tick: .tick
            case .interval: .interval
            case .gate: .gate
            case .telemetry: .telemetry
            case .bids: .bids
            case .clearing: .clearing
            case .awards: .awards
            case .dispatch: .dispatch
            case .timeRequest: .timeRequest
            case .grant: .grant
            case .error: .error
            }
        }
    }

    /// The topic the message travels on: per-sender for participants' own messages, per-household for what
    /// concerns one household, shared for the conductor's and the market's announcements.
    public var topic: Topic {
        switch body {
        case .hello: .of(.hello, header.sender)
        case .ready: .of(.ready, header.sender)
        case .goodbye: .of(.goodbye, header.sender)
        case .tick: .clock
        case .interval: .interval
        case .gate: .gate
        case .telemetry(let body): .of(.telemetry, body.house)
        case .bids(let body): .of(.bids, body.house)
        case .clearing: .clearing
        case .awards(let body): .of(.awards, body.house)
        case .dispatch(let body): .of(.dispatch, body.house)
        case .timeRequest: .of(.time, header.sender)
        case .grant(let body): .of(.grant, body.participant)
        case .error: .of(.error, header.sender)
        }
    }
}

/// Numbers each message of one sender.
public struct MessageWriter: Sendable {
    public let sender: String
    public private(set) var sequence: UInt64 = 0

    public init(sender: String) { self.sender = sender }

    public mutating func message(_ body: Message.Body, interval: Int? = nil) -> Message {
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

/// The `type` of a message on the wire (docs/PROTOCOL.md): the one table of the names the writer writes and the
/// reader accepts.
public enum MessageType: String, Sendable, CaseIterable, CustomStringConvertible {
    case hello, ready, goodbye, tick, interval, gate, telemetry, bids, clearing, awards, dispatch
    case timeRequest = "time-request"
    case grant, error

    public var description: String { rawValue }
}
