public import Physics

/// Where a message travels on the bus (docs/PROTOCOL.md, "Topics and messages"): a kind, and for the kinds that
/// travel per participant the participant's name (`bids/h2`). The one table of topic names.
public struct Topic: Hashable, Sendable, CustomStringConvertible {
    public enum Kind: String, Sendable, CaseIterable {
        case hello, ready, goodbye, clock, interval, gate, telemetry, bids, clearing, awards, dispatch, time, grant, grants, error

        /// Whether every message of the kind travels on one topic (the conductor's and the market's announcements)
        /// rather than on one per participant.
        public var isShared: Bool {
            switch self {
            case .clock, .interval, .gate, .clearing, .grants: true
            default: false
            }
        }
    }

    public let kind: Kind
    /// The participant a per-participant topic names (the sender, or the household it concerns); nil when shared.
    public let participant: String?

    private init(_ kind: Kind, _ participant: String?) {
        self.kind = kind
        self.participant = participant
    }

    public static let clock = Topic(.clock, nil), interval = Topic(.interval, nil), gate = Topic(.gate, nil), clearing = Topic(.clearing, nil),
        grants = Topic(.grants, nil)

    /// The topic of a per-participant kind for `participant`.
    public static func of(_ kind: Kind, _ participant: String) -> Topic { Topic(kind, kind.isShared ? nil : participant) }

    /// The topic of a per-household kind (`bids/h2`) for `house`.
    public static func of(_ kind: Kind, _ house: HouseID) -> Topic { of(kind, house.name) }

    /// A topic as the wire writes it; nil for text that is none (an unknown kind, a shared kind with a name, a
    /// per-participant kind without one).
    public init?(_ text: some StringProtocol) {
        let slash = text.firstIndex(of: "/")
        guard let kind = Kind(rawValue: String(text[..<(slash ?? text.endIndex)])) else { return nil }
        let participant = slash.map { String(text[text.index(after: $0)...]) }
        guard kind.isShared ? participant == nil : !(participant ?? "").isEmpty else { return nil }
        self.init(kind, participant)
    }

    public var description: String { participant.map { "\(kind.rawValue)/\($0)" } ?? kind.rawValue }
}

/// What a participant subscribes to: one topic, or every topic of a kind. ZeroMQ delivers each message whose topic
/// starts with a subscription's `prefix`.
public enum TopicFilter: Hashable, Sendable {
    case only(Topic)
    case every(Topic.Kind)

    public var prefix: String {
        switch self {
        case .only(let topic): topic.description
        case .every(let kind): kind.isShared ? kind.rawValue : "\(kind.rawValue)/"
        }
    }

    /// Whether the filter takes exactly one topic; ZeroMQ's prefix match would also take `bids/h20` for `bids/h2`.
    public var isExact: Bool {
        switch self {
        case .only: true
        case .every(let kind): kind.isShared
        }
    }
}
