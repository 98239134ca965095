public import Emulators
import Physics

/// A rig's scheduled faults beyond its devices' own (docs/FAULTS.md): the bus, the participants, the grid.
public struct RigFaults: Sendable {
    public var bus: [BusFault] = []
    public var crashes: [Crash] = []
    public var outages: [GridOutage] = []
    /// Scripted voltage and frequency levels.
    public var gridEvents: [GridEvent] = []

    public init() {}

    var isEmpty: Bool { bus.isEmpty && crashes.isEmpty && outages.isEmpty && gridEvents.isEmpty }
}

/// What the broker does to messages on a topic, or from a participant: a lossy or slow link.
public struct BusFault: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        case drop
        case duplicate
        /// Delivered `milliseconds` late, plus up to `jitter` more (seeded).
        case delay(milliseconds: Double, jitter: Double)
        /// Delivered after the next message on the same topic.
        case reorder
    }

    /// Topic prefix ("" for every topic), and the sender (nil: anyone).
    public var topic: String
    public var sender: String?
    public var kind: Kind
    /// Simulated seconds: from `start`, until `end`.
    public var start: Double
    public var end: Double
    public var count: Int?
    public var probability: Double

    package init(topic: String, sender: String?, kind: Kind, start: Double, end: Double, count: Int?, probability: Double) {
        (self.topic, self.sender, self.kind, self.start, self.end, self.count, self.probability) = (topic, sender, kind, start, end, count, probability)
    }
}

/// A participant that crashes at `time` (simulated) and, if the rig says so, is started again `restart` seconds later.
public struct Crash: Sendable, Equatable {
    public var participant: String
    public var time: Double
    public var restart: Double?

    package init(participant: String, time: Double, restart: Double?) {
        (self.participant, self.time, self.restart) = (participant, time, restart)
    }
}
