import Emulators
import Foundation
import Market
import Messages
import Modbus
import Physics

/// One assertion's verdict: what was measured against what the rig allows.
public struct AssertionResult: Sendable {
    public var kind: AssertionSpec.Kind
    public var passed: Bool
    /// The measured value, as a person reads it ("p99 3.2 ms", "0 of 288 intervals").
    public var measured: String
    public var threshold: String
    /// Why it failed, naming the interval, device or bid; empty when it passed.
    public var detail: String
}

/// What the run achieved, reported whether or not it is asserted.
public struct Outcomes: Sendable {
    /// kWh over the run.
    public var solarEnergy = 0.0
    public var gridImport = 0.0
    public var gridExport = 0.0
    /// kW, the highest import at the PCC.
    public var peakImport = 0.0
    /// Share of the solar energy used inside the neighborhood, 0...1 (nil without solar or a PCC meter).
    public var selfConsumption: Double?
    /// Mean clearing price, $/kWh.
    public var meanPrice: Double?
    /// What each household paid, $: under the market, its awards at the clearing prices; without a controller,
    /// its net import at the import tariff less its net export at the export tariff.
    public var householdCost: [String: Double] = [:]

    /// The energy outcomes of a physics series; costs are left to the caller.
    init(physics: PhysicsSeries, rig: Rig) {
        let times = physics.times
        let steps = zip(times, [times.first ?? 0] + times).map { ($0 - $1) / 3600 }
        for spec in rig.devices where spec.profile.kind == .inverter {
            solarEnergy += zip(physics.series("\(spec.name)/power"), steps).reduce(0) { $0 + $1.0 * $1.1 }
        }
        if let meter = rig.devices.first(where: { $0.profile.kind == .meter && $0.house == nil }) {
            let power = physics.series("\(meter.name)/power")
            gridImport = zip(power, steps).reduce(0) { $0 + max($1.0, 0) * $1.1 }
            gridExport = zip(power, steps).reduce(0) { $0 + max(-$1.0, 0) * $1.1 }
            peakImport = max(0, power.max() ?? 0)
            if solarEnergy > 0 { selfConsumption = max(0, solarEnergy - gridExport) / solarEnergy }
        }
    }

    /// Each house's bill at the utility's tariffs, from its own devices and base load (no local market).
    static func tariffCosts(physics: PhysicsSeries, rig: Rig) -> [String: Double] {
        guard let grid = rig.run.grid else { return [:] }
        var costs: [String: Double] = [:]
        let times = physics.times
        for (house, load) in rig.baseLoads {
            let devices = rig.devices.filter { $0.house == house }
            var cost = 0.0
            for index in times.indices.dropFirst() {
                let hours = (times[index] - times[index - 1]) / 3600
                var net = load.power(at: times[index]) / 1000
                for device in devices {
                    let power = physics.series("\(device.name)/power")[index]
                    switch device.profile.kind {
                    case .inverter, .battery: net -= power  // production, and discharge, offset the house's draw
                    case .thermostat, .evCharger: net += power
                    case .meter: break
                    }
                }
                cost += (net > 0 ? net * grid.importTariff : net * grid.exportTariff) * hours
            }
            costs[house] = cost
        }
        return costs
    }
}

/// The assertions of docs/RIGS.md, computed from the three truths (physics series, bus capture, write logs),
/// never from what the controller claims of itself.
public enum Assertions {
    /// One interval as the bus saw it.
    struct IntervalView {
        var bids: [String: Bids] = [:]
        var gateAt: Double?
        var clearing: ClearingResult?
        var clearedAt: Double?
        var awards: [String: (awards: Awards, at: Double)] = [:]
    }

    static func intervals(_ record: RunRecord) -> [Int: IntervalView] {
        var views: [Int: IntervalView] = [:]
        for (message, received) in record.messages {
            guard let interval = message.header.interval else { continue }
            switch message.body {
            case .bids(let bids) where views[interval]?.gateAt == nil: views[interval, default: .init()].bids[message.header.sender] = bids
            case .gate: views[interval, default: .init()].gateAt = received
            case .clearing(let clearing):
                views[interval, default: .init()].clearing = clearing
                views[interval, default: .init()].clearedAt = received
            case .awards(let awards): views[interval, default: .init()].awards[awards.house] = (awards, received)
            default: continue
            }
        }
        return views
    }

    public static func evaluate(_ record: RunRecord) -> (results: [AssertionResult], outcomes: Outcomes) {
        let views = intervals(record)
        let outcomes = outcomes(record, views: views)
        let results = record.rig.run.assertions.map { spec in evaluate(spec, record, views: views, outcomes: outcomes) }
        return (results, outcomes)
    }

    private static func percentile(_ values: [Double], _ p: Double) -> Double {
        let sorted = values.sorted()
        return sorted.isEmpty ? 0 : sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))]
    }

    private static func format(_ value: Double, _ digits: Int = 2) -> String { String(format: "%.\(digits)f", value) }

    static func evaluate(_ spec: AssertionSpec, _ record: RunRecord, views: [Int: IntervalView], outcomes: Outcomes) -> AssertionResult {
        let threshold = spec.threshold ?? 0
        func result(_ passed: Bool, _ measured: String, _ limit: String, _ detail: String) -> AssertionResult {
            AssertionResult(kind: spec.kind, passed: passed, measured: measured, threshold: limit, detail: passed ? "" : detail)
        }
        let numbers = views.keys.sorted()
        switch spec.kind {
        case .supplyEqualsDemand, .individualRationality, .awardsAddUp, .clearingMatchesReference:
            let rule: MarketViolation.Rule? = switch spec.kind {
            case .supplyEqualsDemand: .supplyEqualsDemand
            case .individualRationality: .individualRationality
            case .awardsAddUp: .awardsAddUp
            default: nil
            }
            var failures: [String] = []
            for number in numbers {
                guard let view = views[number], let published = view.clearing else { continue }
                let book = OrderBook(priceCap: record.rig.run.priceCap, bids: view.bids.keys.sorted().flatMap { house in
                    view.bids[house]!.bids.compactMap { wire in Side(rawValue: wire.side).map { Bid(id: wire.id, side: $0, price: wire.price, quantity: wire.quantity) } }
                })
                if let rule {
                    // The market's own result, checked against the bids it was sent: awards as published, per bid.
                    let awarded = Dictionary(view.awards.values.flatMap { $0.awards.awards }.map { (BidKey(id: $0.id, side: Side(rawValue: $0.side) ?? .buy), $0.quantity) },
                                             uniquingKeysWith: +)
                    let clearing = Clearing(price: published.price, quantity: published.quantity, type: ClearingType(rawValue: published.clearingType) ?? .null,
                                            marginalQuantity: published.marginalQuantity, marginalFraction: published.marginalFraction,
                                            unservedDemand: published.unservedDemand,
                                            awards: book.bids.map { Award(bid: $0, quantity: awarded[BidKey(id: $0.id, side: $0.side)] ?? 0) })
                    failures += clearing.violations(of: book).filter { $0.rule == rule }.map { "interval \(number): \($0.detail)" }
                } else {
                    let reference = book.clear()
                    let tolerance = 1e-9 * max(1, reference.quantity)
                    if abs(reference.price - published.price) > 1e-9 || abs(reference.quantity - published.quantity) > tolerance {
                        failures.append("interval \(number): published \(published.quantity) kW at \(published.price), GridRig's market core clears the same bids at \(reference.quantity) kW, \(reference.price)")
                    }
                }
            }
            return result(failures.isEmpty, "\(failures.count) of \(numbers.count) intervals", "0", failures.prefix(3).joined(separator: "; "))
        case .everyIntervalCleared:
            let missing = record.intervals.filter { $0.clearing == nil || $0.bidders.count < record.households.count || $0.dispatched.count < record.households.count }
            let detail = missing.prefix(3).map { interval in
                var parts: [String] = []
                if interval.clearing == nil { parts.append("no clearing") }
                let silent = Set(record.households).subtracting(interval.bidders)
                if !silent.isEmpty { parts.append("no bids from \(silent.sorted().joined(separator: ", "))") }
                let undispatched = Set(record.households).subtracting(interval.dispatched)
                if interval.clearing != nil, !undispatched.isEmpty { parts.append("no dispatch report from \(undispatched.sorted().joined(separator: ", "))") }
                return "interval \(interval.interval): \(parts.joined(separator: ", "))"
            }
            return result(Double(missing.count) <= threshold, "\(missing.count) of \(record.intervals.count) incomplete", "≤ \(format(threshold, 0))",
                          detail.joined(separator: "; "))
        case .clearingLatency:
            let latencies = numbers.compactMap { number -> Double? in
                guard let view = views[number], let gate = view.gateAt, let cleared = view.clearedAt else { return nil }
                return (cleared - gate) * 1000
            }
            let p99 = percentile(latencies, 0.99)
            return result(p99 <= threshold, "p50 \(format(percentile(latencies, 0.5), 1)) p99 \(format(p99, 1)) max \(format(latencies.max() ?? 0, 1)) ms",
                          "p99 ≤ \(format(threshold, 0)) ms", "clearing p99 \(format(p99)) ms after gate closure")
        case .dispatchLatency:
            var latencies: [Double] = []
            let writes = record.writes.filter { $0.record.exception == nil }.sorted { $0.record.unixTime < $1.record.unixTime }
            for (index, number) in numbers.enumerated() {
                guard let view = views[number] else { continue }
                let end = index + 1 < numbers.count ? views[numbers[index + 1]]?.gateAt ?? .infinity : .infinity
                for (house, sent) in view.awards {
                    let first = writes.first { $0.device.hasPrefix("\(house)/") && $0.record.unixTime >= sent.at && $0.record.unixTime < end }
                    if let first { latencies.append((first.record.unixTime - sent.at) * 1000) }
                }
            }
            let p99 = percentile(latencies, 0.99)
            return result(p99 <= threshold, "p50 \(format(percentile(latencies, 0.5), 1)) p99 \(format(p99, 1)) max \(format(latencies.max() ?? 0, 1)) ms",
                          "p99 ≤ \(format(threshold, 0)) ms", "first setpoint p99 \(format(p99)) ms after the awards")
        case .dispatchReportsTruthful:
            // Every setpoint a household reports as landed has an accepted write to that device in the write log,
            // between its awards and its report.
            var claims = 0, failures: [String] = []
            let writes = record.writes.filter { $0.record.exception == nil }
            var awardsAt: [String: Double] = [:]
            for (message, received) in record.messages {
                switch message.body {
                case .awards(let awards): awardsAt[awards.house] = received
                case .dispatch(let report):
                    let from = awardsAt[report.house] ?? 0
                    for setpoint in report.setpoints where setpoint.landedAt != nil {
                        claims += 1
                        if !writes.contains(where: { $0.device == setpoint.id && $0.record.unixTime >= from - 0.001 && $0.record.unixTime <= received + 0.001 }) {
                            failures.append("interval \(message.header.interval ?? 0): \(setpoint.id) \(setpoint.name) reported landed, but no accepted write reached it")
                        }
                    }
                default: continue
                }
            }
            return result(failures.isEmpty, "\(failures.count) of \(claims) claims false", "0", failures.prefix(3).joined(separator: "; "))
        case .socWithinLimits:
            var worst = 0.0, detail = ""
            for spec in record.rig.devices where spec.profile.kind == .battery {
                let low = spec.profile.rating("minimum-soc"), high = spec.profile.rating("maximum-soc")
                for (time, soc) in zip(record.physics.times, record.physics.series("\(spec.name)/soc")) {
                    let beyond = max(low - soc, soc - high, 0)
                    if beyond > worst { worst = beyond; detail = "\(spec.name) at \(format(soc, 1)) % at \(clockTime(time)), window \(format(low, 0))–\(format(high, 0)) %" }
                }
            }
            return result(worst <= 0.5, "\(format(worst)) % beyond window", "≤ 0.5 %", detail)
        case .evEnergyByDeparture:
            var worst = 0.0, detail = "", checked = 0
            for spec in record.rig.devices where spec.profile.kind == .evCharger {
                // A vehicle that came before the run began is not judged: its visit started unseen.
                guard let vehicle = spec.parameters.vehicle, vehicle.arrival >= record.physics.times.first ?? 0 else { continue }
                let socs = record.physics.series("\(spec.name)/vehicle-soc")
                // The last sample while the vehicle is still plugged in.
                guard let index = record.physics.times.lastIndex(where: { $0 <= vehicle.departure && $0 > vehicle.arrival }),
                      record.physics.times.last ?? 0 >= vehicle.departure else { continue }
                checked += 1
                let shortfall = vehicle.targetSoC * 100 - socs[index]
                if shortfall > worst { worst = shortfall; detail = "\(spec.name) left at \(format(socs[index], 1)) %, target \(format(vehicle.targetSoC * 100, 0)) %" }
            }
            return result(worst <= threshold, "\(checked) left, worst \(format(max(worst, 0), 1)) % short", "≤ \(format(threshold, 1)) % short", detail)
        case .comfortBand:
            var worst = 0.0, detail = ""
            for spec in record.rig.devices where spec.profile.kind == .thermostat {
                let comfort = record.rig.run.comfort[spec.name] ?? ThermostatStrategy(season: .heating, setpoint: 21)
                let low = comfort.setpoint - comfort.comfortBelow, high = comfort.setpoint + comfort.comfortAbove
                for (time, room) in zip(record.physics.times, record.physics.series("\(spec.name)/room")) {
                    let beyond = max(low - room, room - high, 0)
                    if beyond > worst { worst = beyond; detail = "\(spec.name) at \(format(room, 1)) °C at \(clockTime(time)), band \(format(low, 1))–\(format(high, 1)) °C" }
                }
            }
            return result(worst <= threshold, "\(format(worst)) K beyond band", "≤ \(format(threshold, 1)) K", detail)
        case .exportLimit:
            guard let grid = record.rig.run.grid, let meter = record.rig.devices.first(where: { $0.profile.kind == .meter && $0.house == nil }) else {
                return result(true, "no PCC meter or islanded", "-", "")
            }
            let worstExport = -(record.physics.series("\(meter.name)/power").min() ?? 0)
            return result(worstExport <= grid.exportLimit + threshold, "peak export \(format(max(worstExport, 0))) kW",
                          "≤ \(format(grid.exportLimit + threshold, 1)) kW", "export reached \(format(worstExport)) kW, limit \(format(grid.exportLimit, 1)) kW")
        case .balance:
            guard let meter = record.rig.devices.first(where: { $0.profile.kind == .meter && $0.house == nil }) else {
                return result(true, "no PCC meter", "-", "")
            }
            // Islanded (the whole run, or during an outage): nothing may cross the PCC. A step where something
            // does is a frequency excursion the inverters answer in the next step; two in a row is imbalance the
            // grid-forming battery could not hold (its power or state of charge at a limit): a blackout.
            let outages = record.rig.run.faults.outages
            func islanded(_ time: Double) -> Bool { record.rig.run.grid == nil || outages.contains { $0.contains(time - 1e-6) } }
            let power = record.physics.series("\(meter.name)/power"), times = record.physics.times
            var blackouts: [(time: Double, power: Double)] = [], excursions = 0
            for index in power.indices.dropFirst() where islanded(times[index]) && abs(power[index]) > threshold {
                excursions += 1
                if islanded(times[index - 1]), abs(power[index - 1]) > threshold { blackouts.append((times[index], power[index])) }
            }
            let island = "\(blackouts.count) blackouts, \(excursions) excursions"
            let blackout = blackouts.first.map { first in
                let former = outages.first { $0.contains(first.time - 1e-6) }?.gridForming ?? record.rig.run.gridForming ?? "no battery"
                return "\(format(first.power)) kW unbalanced at \(clockTime(first.time)): \(former) could not hold the island"
            }
            if record.rig.run.grid == nil {
                return result(blackouts.isEmpty, island, "≤ \(format(threshold, 1)) kW", blackout ?? "")
            }
            // Grid-connected: the metered PCC energy per interval against the utility's cleared schedule, outside outages.
            let imported = record.physics.series("\(meter.name)/imported"), exported = record.physics.series("\(meter.name)/exported")
            let length = record.rig.run.interval
            var deviations: [Double] = []
            for interval in record.intervals where !outages.contains(where: { $0.start < interval.start + length && interval.start < $0.end }) {
                // The schedule: what the utility was awarded (imports sold minus exports bought) over the interval.
                guard let awards = views[interval.interval]?.awards[Conductor.gridName]?.awards,
                      let from = times.lastIndex(where: { $0 <= interval.start }), let to = times.lastIndex(where: { $0 <= interval.start + length }),
                      to > from else { continue }
                let scheduled = awards.awards.reduce(0) { $0 + ($1.side == "sell" ? $1.quantity : -$1.quantity) } * length / 3600
                let metered = (imported[to] - imported[from]) - (exported[to] - exported[from])
                deviations.append(abs(metered - scheduled))
            }
            let mean = deviations.isEmpty ? 0 : deviations.reduce(0, +) / Double(deviations.count)
            return result(mean <= threshold && blackouts.isEmpty,
                          "mean \(format(mean)), max \(format(deviations.max() ?? 0)) kWh" + (outages.isEmpty ? "" : "; outages: \(island)"),
                          "mean ≤ \(format(threshold, 1)) kWh" + (outages.isEmpty ? "" : ", kW"),
                          blackout ?? "metered PCC energy differs from the cleared schedule by \(format(mean)) kWh per interval on average")
        case .selfConsumption:
            let share = (outcomes.selfConsumption ?? 0) * 100
            return result(share >= threshold, "\(format(share, 1)) %", "≥ \(format(threshold, 1)) %", "self-consumption \(format(share, 1)) %")
        }
    }

    static func outcomes(_ record: RunRecord, views: [Int: IntervalView]) -> Outcomes {
        var outcomes = Outcomes(physics: record.physics, rig: record.rig)
        let prices = views.values.compactMap(\.clearing?.price)
        outcomes.meanPrice = prices.isEmpty ? nil : prices.reduce(0, +) / Double(prices.count)
        let hours = record.rig.run.interval / 3600
        for view in views.values {
            for (house, sent) in view.awards where house != Conductor.gridName {
                let net = sent.awards.awards.reduce(0) { $0 + ($1.side == "buy" ? $1.quantity : -$1.quantity) }
                outcomes.householdCost[house, default: 0] += net * sent.awards.price * hours
            }
        }
        return outcomes
    }
}

/// "HH:MM" of a simulated time, with the day when past the first.
func clockTime(_ seconds: Double) -> String {
    let total = Int(seconds.rounded())
    let day = total / 86_400, rest = total % 86_400
    let text = (rest / 3600 < 10 ? "0" : "") + "\(rest / 3600):" + (rest / 60 % 60 < 10 ? "0" : "") + "\(rest / 60 % 60)"
    return day > 0 ? "day \(day + 1) \(text)" : text
}
