import Foundation
import Helics
import Testing

/// A port below the ephemeral range that nothing listens on now (and the next, which a zmq broker may also take).
func freeBrokerPort() -> UInt16 {
    func isFree(_ port: UInt16) -> Bool {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }
    while true {
        let port = UInt16.random(in: 30_000...32_000)
        if isFree(port), isFree(port + 1) { return port }
    }
}

let helicsMissing = "HELICS is not built in: `make deps` installs the helics wheel and its pkg-config file (docs/COSIM.md)"

@Suite("HELICS federates: time grants and values", .serialized, .enabled(if: Helics.isAvailable, Comment(rawValue: helicsMissing)), .timeLimit(.minutes(1)))
struct FederateTests {
    @Test("Two federates exchange values through a broker: an uninterruptible federate is granted exactly the times it asks, and reads at each grant what the other answered to its last value")
    func exchange() throws {
        let port = freeBrokerPort()
        let broker = try HelicsBroker(federates: 2, port: port)
        defer { broker.stop() }
        // The echo federate doubles what it reads, at the time it reads it.
        let echo = Thread {
            do {
                let federate = try Federate(FederateSettings(name: "echo", broker: broker.address))
                let input = try federate.subscribe("test/x", unit: "W"), output = try federate.publish("test/twice", unit: "W")
                try federate.enterExecution()
                while try federate.request(1e9) < 1e8 {
                    if let x = federate.value(input) { try federate.set(output, 2 * x) }
                }
                federate.finish()
            } catch {
                Issue.record("echo: \(error)")
            }
        }
        echo.start()
        var settings = FederateSettings(name: "driver", broker: broker.address)
        settings.isUninterruptible = true
        let federate = try Federate(settings)
        let x = try federate.publish("test/x", unit: "W"), twice = try federate.subscribe("test/twice", unit: "W")
        try federate.enterExecution()
        var seen: [Double?] = [], granted: [Double] = []
        for step in 1...5 {
            try federate.set(x, Double(step))
            granted.append(try federate.request(Double(step) * 10))
            seen.append(federate.value(twice))
        }
        federate.finish()
        #expect(granted == [10, 20, 30, 40, 50])
        #expect(seen == [2, 4, 6, 8, 10])
    }

    @Test("A federate whose broker is not there fails within its connect timeout, naming the address")
    func noBroker() {
        var settings = FederateSettings(name: "lonely", broker: "127.0.0.1:\(freeBrokerPort())")
        settings.connectTimeout = 1
        #expect {
            _ = try Federate(settings)
        } throws: { error in
            "\(error)".contains(settings.broker)
        }
    }
}
