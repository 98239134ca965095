import Foundation
import Synchronization

/// The cores this process may run on, read once: Foundation reads it from the cgroup files at every call, which cost
/// a lockstep step of 100 houses as much as some of its physics.
public let processorCount = ProcessInfo.processInfo.activeProcessorCount

/// From how many devices a lockstep step's per-device work (the physics, the series' sample) repays handing half of
/// it to another core. Waking a worker costs about 0.1 ms on a virtual machine and a device's physics about 0.45 µs:
/// at 100 houses (251 devices) the split made each step slower, at 1,000 (2,500 devices) it saves 0.6 ms a step.
public let devicesWorthSplitting = 1_024

/// Runs `part` over `0..<count` split into one contiguous range a core, and joins what the ranges give in their
/// order; one range when `count` is under `minimum`, where handing the parts over costs more than it saves. For
/// many small items of about the same cost (devices, messages).
public func onEveryCore<T: Sendable>(_ count: Int, minimum: Int, _ part: @Sendable (Range<Int>) -> [T]) -> [T] {
    let parts = count >= minimum ? processorCount : 1
    guard parts > 1 else { return part(0..<count) }
    let results = Mutex<[Int: [T]]>([:])
    DispatchQueue.concurrentPerform(iterations: parts) { index in
        let result = part(count * index / parts ..< count * (index + 1) / parts)
        results.withLock { $0[index] = result }
    }
    return results.withLock { results in (0..<parts).flatMap { results[$0] ?? [] } }
}

/// Runs `item` for each of `0..<count`, each core taking the next item as it finishes one, and gives the results in
/// item order. For a few items of uneven cost (a verdict's assertions), which contiguous ranges would leave one
/// core with the heavy ones.
public func eachOnAnyCore<T: Sendable>(_ count: Int, _ item: @Sendable (Int) -> T) -> [T] {
    let next = Atomic<Int>(0)
    let results = Mutex<[Int: T]>([:])
    DispatchQueue.concurrentPerform(iterations: min(count, processorCount)) { _ in
        while true {
            let index = next.add(1, ordering: .relaxed).oldValue
            guard index < count else { return }
            let result = item(index)
            results.withLock { $0[index] = result }
        }
    }
    return results.withLock { results in (0..<count).compactMap { results[$0] } }
}

/// Work on a thread of its own beside the caller's, waited for. Not on Dispatch's pool: when the work and what the
/// caller does meanwhile each spread their parts over that pool, the pool runs the nested parts on one thread only.
public final class Background<Value: Sendable, Failure: Error>: Sendable {
    private let done = DispatchSemaphore(value: 0)
    private let outcome = Mutex<Result<Value, Failure>?>(nil)

    public init(_ work: @escaping @Sendable () throws(Failure) -> Value) {
        Thread { [self] in
            let result = Result(catching: work)
            outcome.withLock { $0 = result }
            done.signal()
        }.start()
    }

    /// What the work gave, once it is done (the same to every wait).
    public func wait() throws(Failure) -> Value {
        done.wait()
        done.signal()
        return try outcome.withLock { $0! }.get()
    }
}
