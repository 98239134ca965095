import Bus
import Messages
import Physics
import Rigs
import Synchronization

/// The rig's bus faults as the broker applies them. A message's fate is a pure function of the seed, the fault
/// and the message's identity (topic, sender, interval, and how many such messages came before), not of the
/// order in which threads happened to send, so a seed replays the same losses.
final class BusFaultPlan: BusFaultPolicy {
    private let faults: [BusFault]
    private let seed: UInt64
    /// Simulated seconds now.
    private let clock: @Sendable () -> Double
    private struct State {
        var applied: [Int]
        var seen: [String: UInt64] = [:]
    }
    private let state: Mutex<State>

    init(_ faults: [BusFault], seed: UInt64, clock: @escaping @Sendable () -> Double) {
        self.faults = faults
        self.seed = seed
        self.clock = clock
        state = Mutex(State(applied: Array(repeating: 0, count: faults.count)))
    }

    func action(topic: String, payload: [[UInt8]]) -> BusFaultAction {
        let time = clock()
        let header = try? Message.decode(topic: topic, payload: payload.first ?? []).header
        let sender = header?.sender ?? ""
        return state.withLock { state in
            let identity = "\(topic)\u{0}\(sender)\u{0}\(header?.interval ?? -1)"
            let occurrence = state.seen[identity, default: 0]
            state.seen[identity] = occurrence + 1
            for (index, fault) in faults.enumerated() where time >= fault.start && time < fault.end && topic.hasPrefix(fault.topic)
                && fault.sender.map({ $0 == sender }) ?? true && state.applied[index] < (fault.count ?? .max) {
                var draws = SplitMix64(seed: seed, name: "\(index)\u{0}\(identity)\u{0}\(occurrence)")
                guard Double.random(in: 0..<1, using: &draws) < fault.probability else { continue }
                state.applied[index] += 1
                switch fault.kind {
                case .drop: return .drop
                case .duplicate: return .duplicate
                case .reorder: return .reorder(limit: .seconds(1))
                case .delay(let milliseconds, let jitter):
                    return .delay(.milliseconds(milliseconds + (jitter > 0 ? Double.random(in: 0...jitter, using: &draws) : 0)))
                }
            }
            return .forward
        }
    }
}
