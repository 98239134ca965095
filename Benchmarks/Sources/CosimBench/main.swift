// The cost of HELICS time grants as GridRig's conductor meets them (docs/PERFORMANCE.md):
//   CosimBench grants STEPS   a broker and two federates in this process; the pacing one (uninterruptible, as the
//                             conductor) publishes a value and asks for the next step, the other is woken by it and
//                             answers; prints the wall time per granted step.
import Foundation
import Helics

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("CosimBench: \(message)\n".utf8))
    exit(2)
}

let arguments = CommandLine.arguments.dropFirst()
guard arguments.first == "grants", let steps = arguments.dropFirst().first.flatMap({ Int($0) }), steps > 0 else {
    fail("usage: CosimBench grants STEPS")
}
guard Helics.isAvailable else { fail("built without HELICS: run `make deps` at the top level") }
let port = UInt16(29_000 + Int.random(in: 0..<500) * 2)
do {
    let broker = try HelicsBroker(federates: 2, port: port)
    let echo = Thread {
        do {
            let federate = try Federate(FederateSettings(name: "echo", broker: broker.address))
            let input = try federate.subscribe("bench/x", unit: "W"), output = try federate.publish("bench/y", unit: "V")
            try federate.enterExecution()
            while try federate.request(1e9) < 1e8 { try federate.set(output, federate.value(input) ?? 0) }
            federate.finish()
        } catch {
            fail("echo: \(error)")
        }
    }
    echo.start()
    var settings = FederateSettings(name: "pacer", broker: broker.address)
    settings.isUninterruptible = true
    let pacer = try Federate(settings)
    let x = try pacer.publish("bench/x", unit: "W")
    _ = try pacer.subscribe("bench/y", unit: "V")
    try pacer.enterExecution()
    var waits: [Double] = []
    waits.reserveCapacity(steps)
    for step in 1...steps {
        try pacer.set(x, Double(step))
        let began = ContinuousClock.now
        _ = try pacer.request(Double(step) * 10)
        waits.append((ContinuousClock.now - began) / .microseconds(1))
    }
    pacer.finish()
    broker.stop()
    waits.sort()
    let mean = waits.reduce(0, +) / Double(steps)
    print(String(format: "HELICS time grant, one value each way: %d steps, mean %.0f µs, p50 %.0f µs, p99 %.0f µs per step",
                 steps, mean, waits[steps / 2], waits[min(steps - 1, steps * 99 / 100)]))
} catch {
    fail("\(error)")
}
