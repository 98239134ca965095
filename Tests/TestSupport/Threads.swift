import Dispatch
import Foundation

/// Runs blocking `body` (a child process to its end, a HELICS wait) on a thread of its own and awaits it: a long test
/// must not hold one of the few threads of Swift Testing's pool, or tests waiting for one run out their time limits.
public func offPool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try body() }) }.start()
    }
}

/// Runs `body` on a thread of its own (agents block in Modbus and ZeroMQ calls); `wait()` joins it.
public final class Spawned: Sendable {
    private let done = DispatchSemaphore(value: 0)

    public init(_ body: @escaping @Sendable () -> Void) {
        let done = self.done
        Thread { body(); done.signal() }.start()
    }

    /// False if the thread did not end within `timeout`.
    public func wait(timeout: Duration = .seconds(10)) -> Bool {
        done.wait(timeout: .now() + .milliseconds(Int(timeout / .milliseconds(1)))) == .success
    }
}
