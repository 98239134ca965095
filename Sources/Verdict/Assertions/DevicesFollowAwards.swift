import Agents
package import Emulators
import Market
import Messages
import Physics
public import Rigs
import Run

/// Each device delivers, interval by interval, the energy it was awarded: |delivered − awarded| summed over the
/// run, as a share of its awarded energy, within its kind's threshold. Catches a controller whose devices do not
/// do what the market decided (a wrong sign, a current above the award, a charge without one, a thermostat left
/// to itself, a watchdog that took over), judged from the physics, never from what the controller reports.
/// Intervals touched by a scheduled fault of the device, its household, the bus or the grid are not judged.
package struct DevicesFollowAwards: Assertion {
    /// The thresholds by the kind of device they hold, %.
    static let limits = [(kind: DeviceKind.evCharger, threshold: Threshold("ev", default: 10)), (.battery, Threshold("battery", default: 10)),
                         (.thermostat, Threshold("thermostat", default: 35)), (.inverter, Threshold("solar", default: 40))]
    /// %, by device kind.
    let limits: [DeviceKind: Double]

    package func judge(_ run: RunView) -> Judgement {
        let followed = run.followed
        func limit(_ device: FollowedDevice) -> Double { limits[device.kind] ?? 0 }
        guard let closest = followed.max(by: { severity($0) < severity($1) }) else {
            return .nothingToJudge("no device had an interval with its household's awards to judge", threshold: "by kind")
        }
        // The device nearest its kind's limit, so that the console row fits 80 columns; the JSON and the report list
        // every device.
        let failing = followed.filter { $0.share > limit($0) }.sorted { $0.share > $1.share }
        return Judgement(passed: failing.isEmpty, measured: "\(closest.device) \(Figures.format(closest.share, 1)) %",
                         threshold: "≤ \(Figures.format(limit(closest), 0)) %",
                         detail: failing.prefix(3).map(\.description).joined(separator: "; "))
    }

    /// How far a device went towards its kind's threshold: its share of it.
    private func severity(_ device: FollowedDevice) -> Double { device.share / max(limits[device.kind] ?? 0, 1e-9) }

    /// The devices, those that deviated most for their kind first.
    package func ranked(_ followed: [FollowedDevice]) -> [FollowedDevice] { followed.sorted { severity($0) > severity($1) } }
}

/// One device's energy against its awards over the run.
package struct FollowedDevice: CustomStringConvertible {
    package let device: String
    let kind: DeviceKind
    /// kWh, summed over the judged intervals: |awarded|, and |delivered − awarded|.
    package let awarded: Double
    package let deviation: Double
    /// The interval that strayed most: its start, and the energy awarded and delivered in it, kWh.
    let worst: (start: Double, awarded: Double, delivered: Double)
    /// Deviation as a share of the awarded energy, %. A device awarded (next to) nothing that also delivered next
    /// to nothing followed its awards; one that delivered more ran without an award.
    package var share: Double {
        awarded >= Self.negligible ? deviation / awarded * 100 : deviation < Self.negligible ? 0 : .infinity
    }

    /// kWh below which an award or a deviation is nothing.
    static let negligible = 0.05

    package var description: String {
        let base = awarded >= Self.negligible ? "\(device) \(Figures.format(share, 1)) % of \(Figures.format(awarded, 1)) kWh awarded"
            : "\(device) delivered \(Figures.format(deviation, 2)) kWh with no award"
        return base + " (worst \(Figures.clockTime(worst.start)): awarded \(Figures.format(worst.awarded)), delivered \(Figures.format(worst.delivered)) kWh)"
    }
}

extension RunView {
    /// The devices a household's agent drives: not meters, not an island's grid-forming battery, not a device
    /// replaying field data.
    package var followableDevices: [DeviceSpec] {
        rig.devices.filter { $0.house != nil && $0.profile.kind != .meter && !$0.isGridForming && $0.replay == nil }
    }

    /// kWh a device was awarded in an interval, in its series' sign (+ consumed by a load, + produced by PV,
    /// + discharged by a battery); nil when its household got no awards. A household bids under
    /// "<house>/<thermostat|ev|battery|solar>" (docs/PROTOCOL.md), one device of each kind.
    package func awardedEnergy(_ spec: DeviceSpec, in view: IntervalView) -> Double? {
        guard let house = spec.house, let sent = view.awards[house], let id = bidderID(of: spec) else { return nil }
        return -sent.awards.awards.filter { $0.id == id }.netSold * spec.profile.kind.drawSign * intervalLength / 3600
    }

    /// The id a household bids and is awarded under for the device: "<house>/<thermostat|ev|battery|solar>".
    func bidderID(of spec: DeviceSpec) -> String? {
        guard let house = spec.house, let kind = DeviceSetup.Kind(spec.profile.kind) else { return nil }
        return "\(house)/\(kind.bidder.rawValue)"
    }

    /// Every followable device with its awards and deliveries over the judged intervals; a device with no judged
    /// interval is left out. On every core: at 1,000 houses the view waited a second for it on one. A device's sums
    /// over a day take about 0.3 ms, more than handing work to another core costs (0.1 ms), so a few dozen devices
    /// repay the split even over a short run.
    func followDevices() -> [FollowedDevice] {
        let devices = followableDevices
        return onEveryCore(devices.count, minimum: 64) { range in devices[range].compactMap { spec in
            let spans = faultSpans(house: spec.house, device: spec.name)
            var awarded = 0.0, deviation = 0.0, worst: (start: Double, awarded: Double, delivered: Double, off: Double)?
            for view in intervals {
                let end = view.start + intervalLength
                guard !spans.contains(where: { $0.lowerBound < end && view.start < $0.upperBound }),
                      let award = awardedEnergy(spec, in: view), let delivered = energy(of: spec.name, from: view.start, to: end) else { continue }
                awarded += abs(award)
                deviation += abs(delivered - award)
                if worst == nil || abs(delivered - award) > worst!.off { worst = (view.start, award, delivered, abs(delivered - award)) }
            }
            guard let worst else { return nil }
            return FollowedDevice(device: spec.name, kind: spec.profile.kind, awarded: awarded, deviation: deviation,
                                  worst: (worst.start, worst.awarded, worst.delivered))
        } }
    }
}

extension DeviceKind {
    /// The kind as a person names it in a verdict.
    package var label: String {
        switch self {
        case .inverter: "PV"
        case .battery: "battery"
        case .thermostat: "thermostat"
        case .evCharger: "EV"
        case .meter: "meter"
        }
    }
}

extension AssertionSpec.Kind {
    public static let devicesFollowAwards = Self("devices-follow-awards", thresholds: DevicesFollowAwards.limits.map(\.threshold))
}

extension KnownAssertion {
    static let devicesFollowAwards = KnownAssertion(.devicesFollowAwards) { spec in
        DevicesFollowAwards(limits: Dictionary(uniqueKeysWithValues: DevicesFollowAwards.limits.map { ($0.kind, spec[$0.threshold]) }))
    }
}
