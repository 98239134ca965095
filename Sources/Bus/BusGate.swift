/// What the broker lets onto the bus (docs/PROTOCOL.md, "Security"): who may connect, who may say they sent
/// a message, how big a message and how fast a sender may be, and how much of it all the capture keeps.
public struct BusRules: Sendable {
    /// The run's participants and how a message names its sender; nil: any sender (a bare bus, as in tests of
    /// the transport).
    public var roster: BusRoster?
    /// CURVE on both endpoints; nil: connections are not authenticated.
    public var authentication: BusAuthentication?
    /// A message (all its frames) above this many bytes is refused; a frame 4 times as large cuts the connection
    /// before it is read.
    public var maxMessageBytes = 65_536
    /// Messages a second one connection may publish, sustained and as a burst; the excess is dropped.
    public var rateLimit = 20_000
    /// Senders that speak only on the broker's local endpoints (GridRig's own participants, in its process): a
    /// network connection that claims one is an impostor. Local connections are GridRig's code, and trusted.
    public var local: Set<String> = []
    /// Bytes of messages the capture keeps; what follows is counted, not kept.
    public var captureLimit = 1 << 30

    public init(roster: BusRoster? = nil, authentication: BusAuthentication? = nil) {
        self.roster = roster
        self.authentication = authentication
    }
}

/// The participants a bus carries, and how to read whom a message speaks for.
public struct BusRoster: Sendable {
    /// Whom a payload frame speaks for: the sender it claims and any participants it also answers for; nil when it
    /// names no sender.
    public typealias Claims = @Sendable (_ payload: UnsafeRawBufferPointer) -> (sender: String, alsoFor: [String])?

    public var names: Set<String>
    public var claims: Claims

    public init(names: Set<String>, claims: @escaping Claims) {
        self.names = names
        self.claims = claims
    }
}

/// CURVE for the broker: its own key pair, and the participants each accepted public key speaks for.
public struct BusAuthentication: Sendable {
    public var server: BusKeyPair
    /// Participant names by their public keys (Z85); GridRig's conductor, for one, also bids as `grid`.
    public var participants: [String: Set<String>]

    public init(server: BusKeyPair, participants: [String: Set<String>]) {
        self.server = server
        self.participants = participants
    }
}

/// Why the broker refused a message.
public enum BusRefusalReason: String, Sendable, CaseIterable {
    /// Larger than the rules' maximum.
    case oversize
    /// Not a topic and one payload frame naming its sender.
    case unattributable
    /// A sender that is not one of the run's participants.
    case unknownSender = "unknown-sender"
    /// A sender other than the one the connection authenticated as (or, without authentication, a sender another
    /// connection already speaks for).
    case impersonation
    /// Over the connection's rate limit.
    case rateLimit = "rate-limit"
}

/// Messages the broker refused, summed by origin (the authenticated participant with CURVE, else the IP address),
/// claimed sender and reason: what a flood leaves in the record, bounded however often the flooder reconnects.
public struct BusRefusal: Sendable, Equatable {
    /// The connection as the ZAP handler named it: its participants with CURVE (comma-separated), else "peer N"
    /// (the first of the address's connections to be refused so).
    public var connection: String
    /// The connection's IP address.
    public var address: String
    /// The sender the messages claimed, when they named one.
    public var sender: String?
    public var reason: BusRefusalReason
    public var messages = 0
    public var bytes = 0
    /// Wall-clock arrivals of the first and the last, seconds since the Unix epoch.
    public var first = 0.0
    public var last = 0.0
}

/// Connections the broker turned away, summed by address.
public struct RefusedConnection: Sendable, Equatable {
    /// Its IP address, when the refusal knows it.
    public var address: String?
    /// The CURVE public key it presented last (Z85), when it got that far.
    public var key: String?
    /// Why: "unknown CURVE key", or "failed CURVE handshake" (a wrong broker key, or no CURVE at all).
    public var reason: String
    public var attempts = 0
    public var first = 0.0
    public var last = 0.0
}

/// The broker's admission of each message under its rules: sizes, rate limits, and senders bound to connections.
/// Pure state, driven by the broker's thread.
struct BusGate {
    let rules: BusRules
    /// Without authentication, which connection speaks for each sender: the first to use the name.
    private var speakers: [String: String] = [:]
    /// With authentication, the senders each connection's key speaks for.
    private var authenticated: [String: Set<String>] = [:]
    private var buckets: [String: (tokens: Double, at: Double)] = [:]
    private var refused: [String: BusRefusal] = [:]
    private(set) var refusedConnections: [String: RefusedConnection] = [:]
    /// Security handshakes that failed before the ZAP handler was asked: a client with the wrong broker key, or
    /// without CURVE.
    private(set) var failedHandshakes = RefusedConnection(reason: "failed CURVE handshake (a wrong broker key, or no CURVE)")
    private var peers = 0

    init(rules: BusRules) { self.rules = rules }

    /// Every refusal so far, oldest first.
    var refusals: [BusRefusal] { refused.values.sorted { ($0.first, $0.connection) < ($1.first, $1.connection) } }

    /// The ZAP handler's answer for a connection: the name it is known by, or nil to refuse it.
    mutating func name(connection address: String, curveKey: String?, at now: Double) -> String? {
        guard let authentication = rules.authentication else {
            peers += 1
            return "peer \(peers)"
        }
        if let key = curveKey, let names = authentication.participants[key] {
            let name = names.sorted().joined(separator: ",")
            authenticated[name] = names
            return name
        }
        refusedConnections[address, default: RefusedConnection(address: address, reason: "unknown CURVE key", first: now)].attempts += 1
        refusedConnections[address]!.key = curveKey
        refusedConnections[address]!.last = now
        return nil
    }

    mutating func handshakesFailed(_ count: Int, at now: Double) {
        guard count > 0 else { return }
        if failedHandshakes.attempts == 0 { failedHandshakes.first = now }
        failedHandshakes.attempts += count
        failedHandshakes.last = now
    }

    /// Forgets which connection speaks for `sender`, so that a restarted participant can speak again on a new one.
    mutating func release(_ sender: String) { speakers[sender] = nil }

    /// Whether a message of `frames` frames and `bytes` bytes from network connection `connection` goes on;
    /// `withPayload` hands its payload frame to a reader, asked only when the senders must be checked, and `address`
    /// is read only for a refusal (an admitted message costs neither). The connection must speak for its sender and
    /// for every participant it also answers for.
    mutating func admit(connection: String, address: @autoclosure () -> String, frames: Int, bytes: Int,
                        withPayload: (_ read: BusRoster.Claims) -> (sender: String, alsoFor: [String])?, at now: Double) -> Bool {
        func refuse(_ reason: BusRefusalReason, _ sender: String? = nil) -> Bool {
            let address = address()
            let key = "\(rules.authentication == nil ? address : connection)\u{0}\(sender ?? "")\u{0}\(reason.rawValue)"
            refused[key, default: BusRefusal(connection: connection, address: address, sender: sender, reason: reason, first: now)].messages += 1
            refused[key]!.bytes += bytes
            refused[key]!.last = now
            return false
        }
        guard bytes <= rules.maxMessageBytes else { return refuse(.oversize) }
        guard take(connection, at: now) else { return refuse(.rateLimit) }
        guard let roster = rules.roster else { return true }
        guard frames == 2, let claims = withPayload(roster.claims) else { return refuse(.unattributable) }
        let senders = [claims.sender] + claims.alsoFor
        for sender in senders {
            guard roster.names.contains(sender) else { return refuse(.unknownSender, sender) }
            guard !rules.local.contains(sender) else { return refuse(.impersonation, sender) }
            if rules.authentication != nil {
                guard authenticated[connection]?.contains(sender) == true else { return refuse(.impersonation, sender) }
            } else {
                guard speakers[sender, default: connection] == connection else { return refuse(.impersonation, sender) }
            }
        }
        if rules.authentication == nil { for sender in senders { speakers[sender] = connection } }
        return true
    }

    /// A token from `connection`'s bucket, refilled at the rate limit up to one second's worth. Buckets idle for a
    /// second are full, and forgotten once there are many, so that reconnecting cannot grow them without bound.
    private mutating func take(_ connection: String, at now: Double) -> Bool {
        let rate = Double(rules.rateLimit)
        if buckets.count > 4_096 { buckets = buckets.filter { now - $0.value.at < 1 } }
        var bucket = buckets[connection] ?? (rate, now)
        bucket.tokens = min(rate, bucket.tokens + max(0, now - bucket.at) * rate)
        bucket.at = now
        let allowed = bucket.tokens >= 1
        if allowed { bucket.tokens -= 1 }
        buckets[connection] = bucket
        return allowed
    }
}
