import Agents
import Bus
import Emulators
import Foundation
import Messages
import Modbus
import Physics
import Reports
import Rigs
import Run
import Synchronization
import TestSupport
import Testing

/// The shared clock within an interval (docs/PROTOCOL.md, "Control steps"): a participant asks for a simulated
/// time, the conductor advances the physics to it and grants it, and does not go on until that participant has
/// answered; a participant that asks for nothing costs the conductor nothing.
@Suite("Control steps: time requests and grants", .serialized, .timeLimit(.minutes(2)))
struct ControlStepTests {
    /// What the probe household saw at each grant: the time granted, and the physics' time then and 0.3 s later.
    struct Seen: Sendable { let granted: Double, physics: Double, later: Double }

    @Test("The conductor grants the time asked for, holds the physics there until the answer, and records a participant that never answers; a participant that takes its grants shared gets them in the grants messages, and no grant of its own",
          arguments: [Ready.Grants.own, .shared])
    func grants(taken: Ready.Grants) throws {
        let world = try World()
        defer { world.stop() }
        let market = MarketAgent(setup: MarketSetup(households: ["h1", "h2", "h3"]), context: world.context, endpoints: world.broker.endpoints,
                                 logger: world.logger)
        let agents = world.households.filter { $0.house != "h3" }
            .map { HouseholdAgent(setup: $0, context: world.context, endpoints: world.broker.endpoints, logger: world.logger) }
        let threads = [Spawned { try? market.run() }] + agents.map { agent in Spawned { try? agent.run() } }
        // h3 is a probe: it bids nothing, asks for start + 37 s in its dispatch report, then for start + 123 s, and in
        // the second interval never answers its grant. It takes its grants as `taken` says.
        let seen = Mutex<[Seen]>([]), fleet = world.fleet, endpoints = world.broker.endpoints, context = world.context
        let probe = Spawned {
            do {
                let client = try BusClient(context: context, endpoints: endpoints,
                                           topics: ["interval", "awards/h3", taken == .shared ? "grants" : "grant/h3", "goodbye/conductor"])
                var writer = MessageWriter(sender: "h3")
                let hello = writer.message(Hello(role: .household))
                guard try client.join(topic: hello.topic.description, payload: hello.encoded(), timeout: .seconds(10)) else { return }
                func send(_ body: any MessageBody, _ interval: Int?) throws {
                    let message = writer.message(body, interval: interval)
                    try client.publish(message.topic.description, message.encoded())
                }
                try send(Ready(grants: taken), nil)
                var start = 0.0
                while true {
                    guard let raw = try client.receive(timeout: .milliseconds(100)),
                          let message = try? Message.decode(topic: raw.topic, payload: raw.payload.first ?? []) else { continue }
                    let interval = message.header.interval
                    switch message.body {
                    case let body as IntervalStart:
                        start = body.start
                        try send(Bids(house: "h3", bids: []), interval)
                    case is Awards:
                        try send(DispatchReport(house: "h3", awardsReceivedAt: unixTime(), setpoints: [], nextTime: start + 37), interval)
                    case is TimeGrant, is TimeGrants:
                        let time = (message.body as? TimeGrant)?.time ?? (message.body as? TimeGrants).flatMap { $0.participants.contains("h3") ? $0.time : nil }
                        guard let time else { continue }
                        let physics = fleet.time
                        Thread.sleep(forTimeInterval: 0.3)
                        seen.withLock { $0.append(Seen(granted: time, physics: physics, later: fleet.time)) }
                        if interval == 1 { try send(TimeRequest(time: time < start + 100 ? start + 123 : nil), interval) }
                    case is Goodbye: return
                    default: continue
                    }
                }
            } catch {}
        }
        let conductor = try world.conductor(timing: IntervalTiming(bidDeadline: .seconds(10), clearingDeadline: .seconds(10), dispatchDeadline: .seconds(2)))
        try conductor.waitUntilReady(["h1", "h2", "h3", "market"], timeout: .seconds(30))
        let start = world.fleet.time
        let first = try conductor.runInterval(), second = try conductor.runInterval()
        try conductor.finish()
        #expect(probe.wait() && threads.allSatisfy { $0.wait() })
        let grants = seen.withLock { $0 }
        #expect(grants.map(\.granted) == [start + 37, start + 123, start + 300 + 37], "\(grants.map(\.granted))")
        for grant in grants { #expect(grant.physics == grant.granted && grant.later == grant.granted, "the physics moved past \(grant.granted)") }
        #expect(first.silentSteps.isEmpty && first.steps >= 30, "a step at least every 10 s: \(first.steps)")
        #expect(second.silentSteps.map(\.time) == [start + 337] && second.silentSteps.first?.participants == ["h3"])
        // The interval still ends where it should, and every tick of it was published.
        #expect(world.fleet.time == start + 600)
        let ticks = world.messages.filter { if $0.message.body is Tick { true } else { false } }
        #expect(ticks.count == 2 + first.steps + second.steps)
        // The reference agents take theirs shared; the probe's come as it asked, and only so.
        let own = Set(world.messages.compactMap { ($0.message.body as? TimeGrant)?.participant })
        let shared = world.messages.compactMap { $0.message.body as? TimeGrants }
        #expect(own == (taken == .own ? ["h3"] : []), "grants of their own went to \(own.sorted())")
        #expect(shared.contains { $0.participants.contains("h3") } == (taken == .shared))
        #expect(shared.contains { $0.participants.contains("h1") } && shared.contains { $0.participants.contains("h2") })
        #expect(shared.allSatisfy { !$0.participants.isEmpty })
        // An agent answers the grants that name it, and only those, together with its loop's other answers.
        let answered = world.messages.compactMap { $0.message.body as? TimeRequests }
        for house in ["h1", "h2"] {
            let named = shared.filter { $0.participants.contains(house) }.count
            let answers = answered.filter { $0.requests.keys.contains(house) }.count
                + world.messages.filter { $0.message.body is TimeRequest && $0.message.header.sender == house }.count
            #expect(answers == named, "\(house) answered \(answers) grants of the \(named) naming it")
        }
        #expect(!answered.isEmpty && answered.allSatisfy { !$0.requests.keys.contains("h3") })
    }

    @Test("Between interval starts the reference agent writes a setpoint again only when it changes, or to re-arm the product's watchdog: the Intesis (none) never twice with one value, the Alfen (60 s) at least every 45 s")
    func writesOnChangeOrHeartbeat() async throws {
        // Midday: the heat pumps cycle and the vehicles charge, so every household acts at control steps.
        let report = try await run(rig(hours: 1, replacing: [("start: \"00:00\"", "start: \"10:00\"")]))
        #expect(report.passed, "\(report.table)")
        let interval = report.record.rig.run.interval
        let watchdogs = Dictionary(report.record.rig.devices.map { ($0.name, $0.profile.watchdog?.timeout != nil) }, uniquingKeysWith: { first, _ in first })
        var last: [String: (time: Double, values: [UInt16])] = [:]
        var repeatsWithout = 0, heartbeats = 0, longestGap = 0.0
        for logged in report.record.writes where logged.record.exception == nil {
            guard case .write(_, let address, let values, _) = logged.record.request, let watchdog = watchdogs[logged.device] else { continue }
            let register = "\(logged.device) \(logged.record.address.unit) \(address)"
            let atStep = logged.simulatedTime.truncatingRemainder(dividingBy: interval) != 0
            if let previous = last[register] {
                if watchdog { longestGap = max(longestGap, logged.simulatedTime - previous.time) }
                if atStep, previous.values == values { if watchdog { heartbeats += 1 } else { repeatsWithout += 1 } }
            }
            last[register] = (logged.simulatedTime, values)
        }
        #expect(repeatsWithout == 0, "\(repeatsWithout) unchanged setpoints written again at control steps to products without a watchdog")
        #expect(heartbeats > 0, "no Alfen current was written again unchanged: its watchdog would expire")
        #expect(longestGap <= 45 + 1e-6, "an Alfen went \(longestGap) s without a write")
    }
}
