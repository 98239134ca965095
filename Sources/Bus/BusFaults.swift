/// What the broker does with one message on a faulty link (docs/FAULTS.md, "Bus faults").
public enum BusFaultAction: Sendable, Equatable {
    case forward
    case drop
    /// Forward it twice.
    case duplicate
    /// Forward it after this much wall-clock time; messages behind it are not held up.
    case delay(Duration)
    /// Hold it until the next message on the same topic has been forwarded, then forward it (at most `limit`
    /// later, when nothing follows).
    case reorder(limit: Duration)
}

/// Decides, message by message, what the broker does: the rig's bus faults. Called on the broker's thread with
/// each message as it arrives.
public protocol BusFaultPolicy: Sendable {
    func action(topic: String, payload: [[UInt8]]) -> BusFaultAction
}

/// What a bus fault did to one message, for the report.
public struct BusFaultEvent: Sendable {
    public let topic: String
    public let payload: [[UInt8]]
    public let action: BusFaultAction
    /// Wall-clock arrival at the broker, seconds since the Unix epoch.
    public let received: Double
}

/// Messages a fault holds back, each with the moment it is due.
struct HeldMessages {
    struct Held {
        var message: ReceivedMessage
        var topic: String
        var due: ContinuousClock.Instant
        /// Released as soon as the next message on its topic has gone (a reorder).
        var afterNext: Bool
    }
    private(set) var held: [Held] = []

    mutating func hold(_ message: ReceivedMessage, topic: String, for delay: Duration, afterNext: Bool) {
        held.append(Held(message: message, topic: topic, due: .now + delay, afterNext: afterNext))
    }

    /// Takes the messages that are due, or that were waiting for a message on `passed` to go first.
    mutating func release(passed topic: String? = nil) -> [Held] {
        let now = ContinuousClock.now
        let due = held.filter { $0.due <= now || ($0.afterNext && $0.topic == topic) }
        held.removeAll { $0.due <= now || ($0.afterNext && $0.topic == topic) }
        return due
    }

    /// How long until the next held message is due.
    var nextDue: Duration? { held.map(\.due).min().map { ContinuousClock.now.duration(to: $0) } }
}
