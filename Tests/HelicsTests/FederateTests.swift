import Foundation
import Helics
import Synchronization
import TestSupport
import Testing

private let helicsMissing = "HELICS is not built in: `make deps` installs the helics wheel and its pkg-config file (docs/COSIM.md)"

/// The time limit turns a hang into a failure. It also counts the wait for a thread of the test pool to resume the
/// test, which blocking tests of other suites hold on two cores: in a CI run this suite failed at 74 s while quick
/// unit tests of other suites had waited as long. Hence three minutes, beyond the federates' own 20- and 30-s bounds.
@Suite("HELICS federates: time grants and values", .serialized, .enabled(if: Helics.isAvailable, Comment(rawValue: helicsMissing)), .timeLimit(.minutes(3)))
struct FederateTests {
    /// Federates of this process reach their broker in process, away from the ports other tests use (over TCP the
    /// same exchange is every CosimTests run).
    private func settings(_ name: String, broker: HelicsBroker) -> FederateSettings {
        var settings = FederateSettings(name: name, broker: broker.address)
        settings.transport = .inProcess
        return settings
    }

    @Test("Two federates exchange values through a broker: an uninterruptible federate is granted exactly the times it asks, and reads at each grant what the other answered to its last value")
    func exchange() async throws {
        let (granted, seen, echoFailure) = try await offPool { [self] () throws -> ([Double], [Double?], String?) in
            let broker = try HelicsBroker(federates: 2, port: UInt16.random(in: 1...60_000), transport: .inProcess)
            defer { broker.stop() }
            // Both federates join before either enters initialization: HELICS may start a federation while a
            // federate is still joining (GMLC-TDC/HELICS#2556), and then it never assembles.
            let echoJoined = DispatchSemaphore(value: 0), driverJoined = DispatchSemaphore(value: 0)
            let echoFailure = Mutex<String?>(nil)
            // The echo federate doubles what it reads, at the time it reads it.
            let echo = Spawned { [self] in
                do {
                    let federate = try Federate(settings("echo", broker: broker))
                    let input = try federate.subscribe("test/x", unit: "W"), output = try federate.publish("test/twice", unit: "W")
                    echoJoined.signal()
                    guard driverJoined.wait(timeout: .now() + 20) == .success else { return echoFailure.withLock { $0 = "the driver never joined" } }
                    // Bounded like the driver's: should the driver give up assembling, this one gives up too, never waits on.
                    try federate.enterInitialization(timeout: 30)
                    try federate.enterExecution()
                    while try federate.request(1e9) < 1e8 {
                        if let x = federate.value(input) { try federate.set(output, 2 * x) }
                    }
                    federate.finish()
                } catch {
                    echoFailure.withLock { $0 = "\(error)" }
                }
            }
            guard echoJoined.wait(timeout: .now() + 20) == .success else {
                return ([], [], echoFailure.withLock { $0 } ?? "the echo federate never joined")
            }
            var pacing = settings("driver", broker: broker)
            pacing.isUninterruptible = true
            let federate = try Federate(pacing)
            let x = try federate.publish("test/x", unit: "W"), twice = try federate.subscribe("test/twice", unit: "W")
            driverJoined.signal()
            try federate.enterInitialization(timeout: 20)
            try federate.enterExecution()
            var seen: [Double?] = [], granted: [Double] = []
            for step in 1...5 {
                try federate.set(x, Double(step))
                granted.append(try federate.request(Double(step) * 10))
                seen.append(federate.value(twice))
            }
            federate.finish()
            _ = echo.wait(timeout: .seconds(20))
            return (granted, seen, echoFailure.withLock { $0 })
        }
        #expect(echoFailure == nil, "echo: \(echoFailure ?? "")")
        #expect(granted == [10, 20, 30, 40, 50])
        #expect(seen == [2, 4, 6, 8, 10])
    }

    @Test("A federate whose broker is not there fails within its connect timeout, naming the address")
    func noBroker() async throws {
        var lonely = FederateSettings(name: "lonely", broker: "127.0.0.1:\(freeConsecutivePorts(1))")
        lonely.connectTimeout = 1
        let settings = lonely
        let failure = try await offPool { () -> String? in
            do { _ = try Federate(settings); return nil } catch { return "\(error)" }
        }
        #expect(failure?.contains(settings.broker) == true, "\(failure ?? "no error")")
    }
}
