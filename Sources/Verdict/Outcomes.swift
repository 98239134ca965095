import Emulators
import Foundation
import Market
import Messages
public import Physics
package import Rigs
package import Run

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
    public var householdCost: [HouseID: Double] = [:]
    /// What each household's imbalance cost, $: every kWh its devices and base load delivered away from its awards,
    /// either way, at the rig's imbalance price (settlement). Empty without a market.
    public var imbalanceCost: [HouseID: Double] = [:]

    /// The energy outcomes of a physics series; costs are left to the caller.
    package init(physics: PhysicsSeries, rig: Rig) {
        let times = physics.times
        let steps = zip(times, [times.first ?? 0] + times).map { ($0 - $1) / 3600 }
        for spec in rig.devices where spec.profile.kind == .inverter {
            solarEnergy += zip(physics.series(spec.name, .power), steps).reduce(0) { $0 + $1.0 * $1.1 }
        }
        if let meter = rig.devices.first(where: { $0.profile.kind == .meter && $0.house == nil }) {
            let power = physics.series(meter.name, .power)
            gridImport = zip(power, steps).reduce(0) { $0 + max($1.0, 0) * $1.1 }
            gridExport = zip(power, steps).reduce(0) { $0 + max(-$1.0, 0) * $1.1 }
            peakImport = max(0, power.max() ?? 0)
            if solarEnergy > 0 { selfConsumption = max(0, solarEnergy - gridExport) / solarEnergy }
        }
    }

    /// Each house's bill at the utility's tariffs, from its own devices and base load (no local market).
    package static func tariffCosts(physics: PhysicsSeries, rig: Rig) -> [HouseID: Double] {
        guard let grid = rig.run.grid else { return [:] }
        var costs: [HouseID: Double] = [:]
        let times = physics.times, byHouse = Dictionary(grouping: rig.devices, by: \.house)
        for (house, load) in rig.baseLoads {
            // Production, and discharge, offset the house's draw.
            let devices = (byHouse[house] ?? []).map { (sign: $0.profile.kind.drawSign, power: physics.series($0.name, .power)) }
            var cost = 0.0
            for index in times.indices.dropFirst() {
                let hours = (times[index] - times[index - 1]) / 3600
                var net = load.power(at: times[index]).inKilo
                for device in devices where index < device.power.count { net += device.sign * device.power[index] }
                cost += (net > 0 ? net * grid.importTariff : net * grid.exportTariff) * hours
            }
            costs[house] = cost
        }
        return costs
    }
}

extension Outcomes {
    /// The outcomes of a run under the market: energy from the physics, each household's market cost from its
    /// awards at the clearing prices, and its imbalance cost from what it delivered against them.
    package init(_ run: RunView) {
        self.init(physics: run.physics, rig: run.rig)
        let prices = run.intervals.compactMap(\.clearing?.price)
        meanPrice = prices.isEmpty ? nil : prices.reduce(0, +) / Double(prices.count)
        let hours = run.intervalLength / 3600
        for view in run.intervals {
            for (house, sent) in view.awards where house != .grid {
                let net = -sent.awards.awards.netSold
                householdCost[house, default: 0] += net * sent.awards.price * hours
                if let delivered = run.householdEnergy(house, from: view.start, to: view.start + run.intervalLength) {
                    imbalanceCost[house, default: 0] += abs(delivered - net * hours) * run.rig.run.imbalancePrice
                }
            }
        }
    }
}

extension RunView {
    /// kWh a household drew from the neighborhood from `start` to `end`: its loads and base load, less its PV and
    /// battery discharge (an island's grid-forming battery is the island's, not the house's); nil if the physics
    /// does not cover the span.
    func householdEnergy(_ house: HouseID, from start: Double, to end: Double) -> Double? {
        guard let load = rig.baseLoads[house], let from = sample(atOrBefore: start), let to = sample(atOrBefore: end), to > from else { return nil }
        let times = physics.times
        var total = (from + 1 ... to).reduce(0) { $0 + load.power(at: times[$1]).inKilo * (times[$1] - times[$1 - 1]) / 3600 }
        for device in householdDevices[house] ?? [] {
            guard let energy = energy(of: device.name, from: start, to: end) else { return nil }
            total += device.drawSign * energy
        }
        return total
    }
}
