package import Bus
import Emulators
import Foundation
import Messages
import Modbus
package import Physics
public import Rigs
import Run

/// One scheduled fault as the report shows it: what, when, what the bus faults did in it, and which assertions
/// fail when judged on that stretch of the run alone.
public struct FaultWindow: Sendable {
    public var label: String
    /// Simulated seconds, clipped to the run.
    public var start: Double
    public var end: Double
    /// What the broker did to messages in the window under this fault, by action ("dropped", "duplicated", ...).
    public var busEffects: [String: Int] = [:]
    public var failed: [AssertionSpec.Kind] = []
    /// What the fault touches.
    var concerns: Concern
    /// The bus fault behind the window, if it is one.
    var bus: BusFault?

    enum Concern: Sendable, Equatable {
        /// The grid of one house, or of every house (nil).
        case device(String), bus, participant(String), grid(house: HouseID?), replay(String)
        /// The device changed how it encodes its values (a new scale factor): SunSpec lets a device do that, so a
        /// controller reads the factor with its values, and nothing in the window is excused.
        case encoding(String)
    }

    /// Whether what a controller does in the window is excused (every fault but a change of encoding).
    var excuses: Bool {
        if case .encoding = concerns { return false }
        return true
    }

    /// Whether the window excuses every device of `house`: a bus fault on the way it learns and follows its awards,
    /// a crash of it or of the market, an outage of its grid.
    package func excusesEveryDevice(of house: HouseID?) -> Bool {
        switch concerns {
        case .bus: bus?.reachesControl(of: house) ?? true
        case .participant(let name): name == house?.name || name == ParticipantName.market
        case .grid(let place): place == nil || place == house
        case .device, .replay, .encoding: false
        }
    }

    /// `busEffects` for people: "61 dropped".
    package var busSummary: String { busEffects.keys.sorted().map { "\(busEffects[$0]!) \($0)" }.joined(separator: ", ") }

    /// Every fault of the rig, and every replay's recorded span, in time order, unclipped and not judged: what the
    /// run view leaves to the windows' own verdicts.
    package static func windows(of rig: Rig) -> [FaultWindow] {
        func percent(_ probability: Double) -> String { probability < 1 ? " \(Int((probability * 100).rounded())) %" : "" }
        var windows: [FaultWindow] = rig.faults.map { fault in
            FaultWindow(label: "\(fault.device) \(fault.kind.name)\(fault.functions.isEmpty ? "" : " on FC \(fault.functions.sorted().map(String.init).joined(separator: ","))")"
                        + (fault.unit.map { " unit \($0)" } ?? "") + (fault.addresses.map { " at \($0.lowerBound)-\($0.upperBound)" } ?? "")
                        + percent(fault.probability) + (fault.count.map { " (\($0) requests)" } ?? ""),
                        start: fault.start, end: fault.end, concerns: { if case .scaleFactor = fault.kind { .encoding(fault.device) } else { .device(fault.device) } }())
        }
        windows += rig.run.faults.bus.map { fault in
            FaultWindow(label: "bus \(fault.topic.isEmpty ? "all topics" : fault.topic)\(fault.sender.map { " from \($0)" } ?? "") \(fault.kind.name)" + percent(fault.probability),
                        start: fault.start, end: fault.end, concerns: .bus, bus: fault)
        }
        windows += rig.run.faults.crashes.map { crash in
            FaultWindow(label: "\(crash.participant) crash" + (crash.restart.map { ", restart after \(Int($0)) s" } ?? ""),
                        start: crash.time, end: crash.restart.map { crash.time + $0 } ?? .infinity, concerns: .participant(crash.participant))
        }
        windows += rig.devices.compactMap { spec in
            switch spec.replay {
            case .measurements(let trace)?:
                trace.times.first.map { FaultWindow(label: "\(spec.name) replays recorded measurements", start: $0, end: trace.end, concerns: .replay(spec.name)) }
            case .traffic(let trace)?:
                trace.exchanges.first.map { FaultWindow(label: "\(spec.name) replays recorded Modbus answers", start: $0.time, end: trace.exchanges.last!.time + 1,
                                                        concerns: .replay(spec.name)) }
            case nil: nil
            }
        }
        windows += rig.run.faults.outages.map {
            FaultWindow(label: "grid outage, island formed by \($0.gridForming)", start: $0.start, end: $0.end, concerns: .grid(house: nil))
        }
        windows += rig.run.faults.gridEvents.map { event in
            let level = switch event.level {
            case .voltage(let perUnit): "voltage at \(Figures.format(perUnit * 100, 1)) %"
            case .frequency(let hertz): "frequency at \(Figures.format(hertz, 2)) Hz"
            }
            return FaultWindow(label: "grid \(level)" + (event.house.map { " at \($0)" } ?? ""), start: event.start, end: event.end,
                               concerns: .grid(house: event.house))
        }
        return windows.sorted { $0.start < $1.start }
    }

    /// Every fault window that falls within the run, clipped to it, with the assertions that fail within it.
    package static func all(_ run: RunView, busFaultEvents events: [BusFaultEvent]) -> [FaultWindow] {
        let runEnd = run.physics.times.last ?? 0
        return run.faultWindows.filter { $0.start < runEnd }.map { window in
            var window = window
            window.end = min(window.end, runEnd)
            let slice = run.during(window.start, window.end)
            window.failed = slice.verdict().filter { !$0.passed && $0.judged }.map(\.kind)
            if let fault = window.bus {
                for event in events where event.topic.hasPrefix(fault.topic) && fault.kind.yields(event.action) {
                    guard let header = try? Message.decode(topic: event.topic, payload: event.payload.first ?? []).header,
                          fault.sender.map({ $0 == header.sender }) ?? true,
                          let interval = header.interval, slice.intervals.contains(where: { $0.number == interval }) else { continue }
                    window.busEffects[event.action.name, default: 0] += 1
                }
            }
            return window
        }
    }
}

extension BusFaultAction {
    var name: String {
        switch self {
        case .forward: "forwarded"
        case .drop: "dropped"
        case .duplicate: "duplicated"
        case .delay: "delayed"
        case .reorder: "reordered"
        }
    }
}

extension BusFault.Kind {
    /// Whether the broker takes `action` under this kind of fault.
    func yields(_ action: BusFaultAction) -> Bool {
        switch (self, action) {
        case (.drop, .drop), (.duplicate, .duplicate), (.delay, .delay), (.reorder, .reorder): true
        default: false
        }
    }

    var name: String {
        switch self {
        case .drop: "drop"
        case .duplicate: "duplicate"
        case .delay(let milliseconds, let jitter): latencyName(milliseconds, jitter)
        case .reorder: "reorder"
        }
    }
}

/// "latency 50+100 ms".
private func latencyName(_ milliseconds: Double, _ jitter: Double) -> String {
    "latency \(Int(milliseconds))" + (jitter > 0 ? "+\(Int(jitter))" : "") + " ms"
}

extension DeviceFault.Kind {
    var name: String {
        switch self {
        case .exception(let code): "exception \(code.rawValue)"
        case .noResponse: "timeout"
        case .delay(let milliseconds, let jitter): latencyName(milliseconds, jitter)
        case .drop: "drop"
        case .frozen: "frozen"
        case .distortion(let offset, let drift, let noise, let quantity):
            (offset != 0 ? "offset \(offset)" : drift != 0 ? "drift \(drift)/h" : "noise σ \(noise)") + (quantity.map { " on \($0.rawValue)" } ?? "")
        case .outOfService: "out of service"
        case .shade(let share): "shade to \(Int((share * 100).rounded())) %"
        case .minimumGap(let milliseconds, let code): "min-gap \(Int(milliseconds)) ms (exception \(code.rawValue))"
        case .partialFrame: "partial frames"
        case .slowFrame(let milliseconds): "slow frames (\(Int(milliseconds)) ms)"
        case .refused: "connections refused"
        case .singleClient: "one client only"
        case .reboot: "reboot"
        case .wordSwap: "word order swapped"
        case .scaleFactor(let point, let exponent): "\(point) reads \(exponent)"
        case .departure: "departs early"
        case .arrivalSoC(let percent): "arrives at \(Int(percent.rounded())) %"
        }
    }
}

extension PhysicsSeries {
    /// The samples from `start` to `end`, both included.
    func during(_ start: Double, _ end: Double) -> PhysicsSeries {
        let indices = times.indices.filter { times[$0] >= start && times[$0] <= end }
        return PhysicsSeries(times: indices.map { times[$0] }, values: values.mapValues { series in indices.map { series[$0] } })
    }
}
