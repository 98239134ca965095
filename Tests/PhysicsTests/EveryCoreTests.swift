import Foundation
import Physics
import Synchronization
import Testing

/// Work split over the cores comes back whole and in order, whatever order the cores finish in.
@Suite("Work on every core")
struct EveryCoreTests {
    @Test("Contiguous ranges cover every item once, joined in order; under the minimum, one range", arguments: [0, 1, 5, 1_000])
    func ranges(count: Int) {
        let calls = Mutex(0)
        let squares: [Int] = onEveryCore(count, minimum: 10) { range in
            calls.withLock { $0 += 1 }
            return range.map { $0 * $0 }
        }
        #expect(squares == (0..<count).map { $0 * $0 })
        #expect(calls.withLock { $0 } == (count >= 10 ? ProcessInfo.processInfo.activeProcessorCount : 1))
    }

    @Test("Items taken one at a time run once each and come back in item order, a slow first item notwithstanding", arguments: [0, 1, 19])
    func oneAtATime(count: Int) {
        let runs = Mutex([Int: Int]())
        let names: [String] = eachOnAnyCore(count) { index in
            if index == 0 { Thread.sleep(forTimeInterval: 0.05) }  // the others finish first
            runs.withLock { $0[index, default: 0] += 1 }
            return "item \(index)"
        }
        #expect(names == (0..<count).map { "item \($0)" })
        #expect(runs.withLock { $0 } == Dictionary(uniqueKeysWithValues: (0..<count).map { ($0, 1) }))
    }

    private struct Refused: Error, Equatable { let why: String }

    @Test("Work in the background runs beside the caller, on a thread of its own, and gives every wait its value or its error", .timeLimit(.minutes(1)))
    func background() {
        // The work waits for the caller to go on past starting it: run on the caller's thread, it would time out.
        let callerWent = DispatchSemaphore(value: 0)
        let work = Background { () throws(Never) -> Bool in callerWent.wait(timeout: .now() + 10) == .success }
        callerWent.signal()
        #expect(work.wait())
        #expect(work.wait(), "a second wait gets the same")
        let failing = Background { () throws(Refused) -> Int in throw Refused(why: "no") }
        #expect(throws: Refused(why: "no")) { try failing.wait() }
        #expect(throws: Refused(why: "no")) { try failing.wait() }
    }
}
