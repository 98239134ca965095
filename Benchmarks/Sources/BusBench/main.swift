// Bus benchmarks (docs/PERFORMANCE.md).
//   BusBench broker N [rules|curve] N small messages through GridRig's broker (capture on); prints msgs/s. With
//                                  "rules" the broker admits each as a run's does (a JSON payload whose sender is
//                                  bound to its connection); "curve" adds CURVE authentication on every connection
//   BusBench dispatch HOUSES K [full]  K lockstep intervals of HOUSES households (thermostat + EV charger each; with
//                                  "full" also PV and a battery) with the
//                                  reference market and agents; latency from the clearing's arrival at the broker to
//                                  each setpoint landing in its device's write log, p50/p99/max
import Agents
import Bus
import Dispatch
import Emulators
import Foundation
import Logging
import Messages
import Modbus
import Physics
import RigFiles
import Rigs
import Run

let arguments = CommandLine.arguments
guard arguments.count >= 3, let first = Int(arguments[2]) else {
    FileHandle.standardError.write(Data("usage: BusBench broker N [rules|curve] | dispatch HOUSES INTERVALS\n".utf8))
    exit(2)
}
var logger = Logger(label: "bench")
logger.logLevel = .critical

func percentile(_ sorted: [Double], _ p: Double) -> Double { sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))] }

switch arguments[1] {
case "broker":
    // One context each, as separate processes would have: a context's single I/O thread would otherwise carry all
    // three connections.
    let mode = arguments.count > 3 ? arguments[3] : "bare"
    let context = try BusContext(), publisherContext = try BusContext(), subscriberContext = try BusContext()
    // A bus message's shape: the JSON header a participant sends, and a small body.
    let message = Array(#"{"v":1,"type":"bids","interval":12,"sender":"bench","seq":1,"house":"bench","bids":[]}"#.utf8)
    var rules = BusRules()
    if mode != "bare" {
        rules.roster = BusRoster(names: ["bench", "listener"]) { Message.claims(of: $0) }
        rules.rateLimit = .max
    }
    let server = try BusKeyPair.generate(), publisherKeys = try BusKeyPair.generate(), subscriberKeys = try BusKeyPair.generate()
    if mode == "curve" {
        rules.authentication = BusAuthentication(server: server, participants: [publisherKeys.publicKey: ["bench"], subscriberKeys.publicKey: ["listener"]])
    }
    let credentials = mode == "curve" ? (publisher: BusCredentials(keys: publisherKeys, serverKey: server.publicKey),
                                         subscriber: BusCredentials(keys: subscriberKeys, serverKey: server.publicKey)) : nil
    // Unbounded queues, as libzmq's own throughput tests use: nothing is dropped, so every message is counted.
    let broker = try Broker(context: context, highWater: 0, rules: rules)
    let subscriber = try BusClient(context: subscriberContext, endpoints: broker.endpoints, topics: ["bench"], credentials: credentials?.subscriber,
                                   highWater: 0)
    let hello = Array(#"{"v":1,"type":"hello","sender":"listener","seq":1,"role":"observer"}"#.utf8)
    guard try subscriber.join(topic: "hello/sub", payload: hello, timeout: .seconds(5)) else { fatalError("no broker") }
    let endpoints = broker.endpoints
    let done = DispatchSemaphore(value: 0), drained = DispatchSemaphore(value: 0)
    let start = ContinuousClock.now
    Thread {
        let publisher = try! BusClient(context: publisherContext, endpoints: endpoints, topics: [], credentials: credentials?.publisher, highWater: 0)
        _ = try! publisher.join(topic: "hello/pub", payload: message, timeout: .seconds(5))
        let payload = mode == "bare" ? Array("0123456789abcdef".utf8) : message
        for _ in 0..<first { try! publisher.publish("bench", payload) }
        drained.wait()  // closing sooner would discard what is still queued after the linger
        done.signal()
    }.start()
    var count = 0, began: ContinuousClock.Instant?
    while count < first, let message = try subscriber.receive(timeout: .seconds(10)) {
        guard message.topic == "bench" else { continue }
        if began == nil { began = .now }
        count += 1
    }
    let finished = ContinuousClock.now
    drained.signal()
    done.wait()
    let seconds = (finished - (began ?? start)) / .seconds(1)
    print(String(format: "broker (%@) %.0f msgs/s (%d of %d delivered, %d captured, %d refused)", mode, Double(count) / seconds, count, first,
                 broker.capture.count, broker.refusals.map(\.messages).reduce(0, +)))
    broker.stop()

case "dispatch":
    let intervals = arguments.count > 3 ? Int(arguments[3]) ?? 20 : 20
    // "full": each house also has PV and a battery (4 devices), else a thermostat and a charger (2).
    let full = arguments.count > 4 && arguments[4] == "full"
    var rig = "name: bench\nstart: \"12:00\"\nhouses:\n"
    for house in 1...first {
        rig += """
              - name: h\(house)
                base-load: 400
                devices:\(full ? "\n      - {name: pv, profile: sunspec-inverter}\n      - {name: battery, profile: sunspec-battery, initial-soc: 50}" : "")
                  - {name: thermostat, profile: intesis-thermostat, room-temperature: 20}
                  - name: ev
                    profile: alfen-ng9xx
                    vehicle: {arrival: "06:00", departure: "23:00", capacity: 60000, initial-soc: 20, target-soc: 90, max-current: 16, phases: 3}

            """
    }
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("bench-\(first).yaml").path
    _ = FileManager.default.createFile(atPath: path, contents: Data(rig.utf8))
    let profiles = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Profiles").path
    let loaded = try RigLoader.load(file: path, profiles: profiles, firstPort: 0)
    let fleet = try Fleet(loaded.devices, weather: loaded.weather, baseLoads: loaded.baseLoads, startTime: loaded.start ?? 43_200, logger: logger)
    let context = try BusContext()
    let broker = try Broker(context: context)
    let households = ControllerSetup.households(specs: loaded.devices, places: fleet.devices.map { ($0.host, $0.port) },
                                                baseLoads: loaded.baseLoads)
    // As in a run: the market on a loop of its own, the households spread over a few loops per core (over TCP here).
    let marketLoop = ParticipantLoop(context: try BusContext(), endpoints: broker.endpoints)
    let loops = (0..<ParticipantLoop.count(for: households.count)).map { _ in ParticipantLoop(context: context, endpoints: broker.endpoints) }
    _ = marketLoop.add(MarketAgent(setup: MarketSetup(households: households.map(\.house)), context: context, endpoints: broker.endpoints, logger: logger))
    for (index, household) in households.enumerated() {
        _ = loops[index % loops.count].add(HouseholdAgent(setup: household, context: context, endpoints: broker.endpoints, logger: logger))
    }
    for loop in loops + [marketLoop] { loop.start() }
    let conductor = try Conductor(context: try BusContext(), endpoints: broker.endpoints, households: households.map(\.house), fleet: fleet,
                                  timing: IntervalTiming(bidDeadline: .seconds(10), clearingDeadline: .seconds(10), dispatchDeadline: .seconds(10)),
                                  logger: logger)
    try conductor.waitUntilReady(Set(households.map(\.house.name) + ["market"]), timeout: .seconds(60))
    for _ in 0..<intervals { _ = try conductor.runInterval() }
    try conductor.finish()
    // Latency: the clearing's arrival at the broker to each setpoint of the dispatch that answers the awards landing
    // (its landed_at, which dispatch-reports-truthful holds to the emulators' write log). The control steps' later
    // writes follow simulated time, not the awards, and are left out.
    let clearings = broker.capture.all.filter { $0.topic == "clearing" }.map(\.received)
    var latencies: [Double] = []
    // Where the time goes: awards published after the clearing, and awards received by the agents.
    let captured = broker.capture.all
    var awardsLag: [Double] = [], receiveLag: [Double] = [], agentTime: [Double] = []
    for (k, cleared) in clearings.enumerated() {
        let next = k + 1 < clearings.count ? clearings[k + 1] : .infinity
        awardsLag += captured.filter { $0.topic.hasPrefix("awards/") && $0.received >= cleared && $0.received < next }.map { ($0.received - cleared) * 1000 }
        for message in captured where message.topic.hasPrefix("dispatch/") && message.received >= cleared && message.received < next {
            if let decoded = try? Message.decode(topic: message.topic, payload: message.payload.first ?? []), let report = decoded.body as? DispatchReport {
                receiveLag.append((report.awardsReceivedAt - cleared) * 1000)
                agentTime += report.setpoints.compactMap(\.landedAt).map { ($0 - report.awardsReceivedAt) * 1000 }
                latencies += report.setpoints.compactMap(\.landedAt).map { ($0 - cleared) * 1000 }
            }
        }
    }
    awardsLag.sort(); receiveLag.sort(); agentTime.sort(); latencies.sort()
    print(String(format: "awards on the bus after the clearing: p50 %.2f p99 %.2f ms; awards received by agents: p50 %.2f p99 %.2f ms; received to landed: p50 %.2f p99 %.2f ms",
                 percentile(awardsLag, 0.5), percentile(awardsLag, 0.99), percentile(receiveLag, 0.5), percentile(receiveLag, 0.99),
                 percentile(agentTime, 0.5), percentile(agentTime, 0.99)))
    print(String(format: "dispatch %d devices, %d intervals, %d setpoint writes: p50 %.2f ms p99 %.2f ms max %.2f ms",
                 fleet.devices.count, clearings.count, latencies.count,
                 percentile(latencies, 0.5), percentile(latencies, 0.99), latencies.last ?? 0))
    broker.stop()
    fleet.stop()

default:
    FileHandle.standardError.write(Data("usage: BusBench broker N | dispatch HOUSES INTERVALS\n".utf8))
    exit(2)
}
