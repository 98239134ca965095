import Messages

/// The captured messages that decode, in arrival order. The lockstep clock's grants and time requests, two thirds
/// of a lockstep day's messages, are judged by their headers alone (sequence numbers, strays), so they are kept as
/// headers: the 2 million of a 1,000-house day took 190 MB as whole messages, and take 80 MB so. Shared grants and
/// their answers, lists of names, are kept so too.
struct DecodedBus: Sendable {
    /// Every message but the clock's, with its arrival (wall clock).
    private(set) var messages: [(message: Message, received: Double)] = []
    private var clock: [ClockHeader] = []
    private var senders: [String] = [], senderIDs: [String: UInt32] = [:]

    /// The clock's message types kept as headers.
    private static let clockTypes: [any MessageBody.Type] = [TimeGrant.self, TimeGrants.self, TimeRequest.self, TimeRequests.self]

    /// A grant's or a time request's header; `before` counts the messages of `messages` that arrived before it.
    private struct ClockHeader: Sendable {
        let sender: UInt32
        let before: UInt32
        let interval: Int?
        /// Its type, by its place in `clockTypes`.
        let kind: UInt8
        let sequence: UInt64
        let received: Double
    }

    /// Room for `capacity` messages of either kind: what a list does not fill is never touched, so it takes address
    /// space, not memory, and neither list is copied as it grows.
    init(capacity: Int = 0) {
        messages.reserveCapacity(capacity)
        clock.reserveCapacity(capacity)
    }

    mutating func append(_ message: Message, received: Double) {
        guard let kind = Self.clockTypes.firstIndex(where: { $0 == type(of: message.body) }) else { return messages.append((message, received)) }
        let sender = message.header.sender
        let id = senderIDs[sender] ?? {
            senders.append(sender)
            senderIDs[sender] = UInt32(senders.count - 1)
            return UInt32(senders.count - 1)
        }()
        clock.append(ClockHeader(sender: id, before: UInt32(messages.count), interval: message.header.interval, kind: UInt8(kind),
                                 sequence: message.header.sequence, received: received))
    }

    /// Every message in arrival order: its header, its type, its body (nil for a grant or a time request), its arrival.
    func forEach(_ body: (Message.Header, String, (any MessageBody)?, Double) -> Void) {
        walk({ body($0.message.header, $0.message.body.type, $0.message.body, $0.received) }) { entry in
            body(Message.Header(interval: entry.interval, sender: senders[Int(entry.sender)], sequence: entry.sequence),
                 Self.clockTypes[Int(entry.kind)].type, nil, entry.received)
        }
    }

    /// The messages stamped with one of `intervals`, in the same order.
    func filter(intervals: Set<Int>) -> DecodedBus {
        var kept = DecodedBus()
        (kept.senders, kept.senderIDs) = (senders, senderIDs)
        walk({ if $0.message.header.interval.map(intervals.contains) ?? false { kept.messages.append($0) } }) { entry in
            guard entry.interval.map(intervals.contains) ?? false else { return }
            kept.clock.append(ClockHeader(sender: entry.sender, before: UInt32(kept.messages.count), interval: entry.interval,
                                          kind: entry.kind, sequence: entry.sequence, received: entry.received))
        }
        return kept
    }

    /// Hands over both lists merged in arrival order.
    private func walk(_ message: ((message: Message, received: Double)) -> Void, _ clockHeader: (ClockHeader) -> Void) {
        var next = clock.startIndex
        for (index, element) in messages.enumerated() {
            while next < clock.endIndex, Int(clock[next].before) <= index {
                clockHeader(clock[next])
                next += 1
            }
            message(element)
        }
        for entry in clock[next...] { clockHeader(entry) }
    }
}
