import Foundation
import Synchronization

/// Runs `part` over `0..<count` split into one contiguous range a core, and joins what the ranges give in their
/// order; one range when `count` is under `minimum`, where handing the parts over costs more than it saves.
public func onEveryCore<T: Sendable>(_ count: Int, minimum: Int, _ part: @Sendable (Range<Int>) -> [T]) -> [T] {
    let parts = count >= minimum ? ProcessInfo.processInfo.activeProcessorCount : 1
    guard parts > 1 else { return part(0..<count) }
    let results = Mutex<[Int: [T]]>([:])
    DispatchQueue.concurrentPerform(iterations: parts) { index in
        let result = part(count * index / parts ..< count * (index + 1) / parts)
        results.withLock { $0[index] = result }
    }
    return results.withLock { results in (0..<parts).flatMap { results[$0] ?? [] } }
}
