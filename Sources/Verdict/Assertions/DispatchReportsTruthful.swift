import Emulators
import Messages
import Modbus
import Physics
public import Rigs

/// Every setpoint a household reports as landed is true to the emulator's write log: an accepted write reached the
/// device between its awards and its report; `landed_at` is on GridRig's wall clock, no earlier than the last of
/// those writes and at most `landedTolerance` after it; and the reported value is what those writes set, after the
/// profile's scaling (a charger's current limit, 0 when charging is disabled; a thermostat's setpoints; the power a
/// battery's writes pin, and a PV inverter's limit, in kW by the product's own physics). Catches an agent that
/// reports what it meant to do rather than what the device took, or stamps the time before the device acknowledged,
/// or on another clock.
struct DispatchReportsTruthful: Assertion {
    /// Seconds `landed_at` may follow the device's acknowledgement of the last write.
    static let landedTolerance = 0.5
    /// Seconds of clock granularity allowed either way (the broker, the emulators and a controller on the same host
    /// read one clock).
    static let slack = 0.0005

    func judge(_ run: RunView) -> Judgement {
        var claims = 0, failures: [String] = []
        var awardsAt: [String: Double] = [:]
        // Each device's controls as its accepted writes left them, up to the report in hand (messages arrive in
        // time order): a report's writes may leave out a register that kept its value, which still counts.
        var state: [String: (settings: Settings, applied: Int)] = [:]
        let devices = Dictionary(run.rig.devices.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        for (message, received) in run.messages {
            switch message.body {
            case let awards as Awards: awardsAt["\(message.header.interval ?? 0)/\(awards.house)"] = received
            case let report as DispatchReport:
                // The writes behind a report come after its interval's awards passed the broker and before the report did.
                let interval = message.header.interval ?? 0, from = awardsAt["\(interval)/\(report.house)"] ?? 0
                for setpoint in report.setpoints {
                    guard let landed = setpoint.landedAt else { continue }
                    let id = setpoint.id.description
                    claims += 1
                    var name: String { "interval \(interval): \(setpoint.id) \(setpoint.name.rawValue)" }  // only for a failure
                    let log = run.acceptedWrites[id] ?? RunView.DeviceWrites(log: [], order: [])
                    let taken = Self.writes(log, from: from, to: received)
                    guard let last = taken.last else {
                        failures.append("\(name) reported landed, but no accepted write reached it")
                        continue
                    }
                    if landed < last.record.unixTime - Self.slack || landed > received + Self.slack {
                        failures.append("\(name): landed_at \(Figures.format(landed, 3)) is not between the device's acknowledgement "
                                        + "(\(Figures.format(last.record.unixTime, 3))) and the report")
                    } else if landed - last.record.unixTime > Self.landedTolerance {
                        failures.append("\(name): landed_at is \(Figures.format(landed - last.record.unixTime, 3)) s after the device acknowledged")
                    }
                    var touched: Settings = [:]
                    for write in taken { touched.merge(write.controls) { _, new in new } }
                    var device = state[id] ?? ([:], 0)
                    let upTo = log.first(after: received)
                    for write in log[min(device.applied, upTo)..<upTo] { device.settings.merge(write.controls) { _, new in new } }
                    device.applied = max(device.applied, upTo)
                    state[id] = device
                    if let value = setpoint.value, Self.written(setpoint.name, touched, device: devices[id]) != nil,
                       let written = Self.written(setpoint.name, device.settings, device: devices[id]),
                       abs(written.value - value) > written.tolerance {
                        failures.append("\(name): reported \(value), the device was written \(written.value)")
                    }
                }
            default: continue
            }
        }
        return Judgement(passed: failures.isEmpty, measured: "\(failures.count) of \(claims) claims false", threshold: "0",
                         detail: failures.prefix(3).joined(separator: "; "))
    }

    /// The accepted writes to one device (in arrival order) that arrived within [from, to].
    static func writes(_ writes: RunView.DeviceWrites, from: Double, to: Double) -> Slice<RunView.DeviceWrites> {
        let first = writes.first(atOrAfter: from)
        return writes[first..<max(first, writes.first(after: to))]
    }

    /// What the writes set of a setpoint, in the protocol's units, and the resolution of the registers behind it;
    /// nil for a setpoint these writes did not touch, or pinned nothing (a battery window left open).
    static func written(_ name: SetpointName, _ controls: Settings, device: DeviceSpec?) -> (value: Double, tolerance: Double)? {
        switch name {
        case .power, .powerLimit:
            // kW; registers hold a percentage to 0.01 % of a rating of a few kW, so 10 W covers their rounding.
            guard let watts = device?.profile.pinnedPower(controls) else { return nil }
            return (watts.inKilo, 0.01)
        case .currentLimit:
            if controls[.chargingEnabled] == 0 { return (0, 0.05) }
            return controls[.maxCurrent].map { ($0, 0.05) }
        case .heatSetpoint: return (controls[.heatSetpoint] ?? controls[.activeSetpoint]).map { ($0, 0.051) }
        case .coolSetpoint: return (controls[.coolSetpoint] ?? controls[.activeSetpoint]).map { ($0, 0.051) }
        }
    }
}

extension AssertionSpec.Kind {
    public static let dispatchReportsTruthful = Self("dispatch-reports-truthful", judgesDeviceLogs: true)
}

extension KnownAssertion {
    static let dispatchReportsTruthful = KnownAssertion(.dispatchReportsTruthful) { _ in DispatchReportsTruthful() }
}
