import Emulators
import Market
import Physics
import Rigs

/// A rig's `neighborhood:` key (docs/RIGS.md, "Generated neighborhoods"): the rig's own houses are the mix, repeated
/// in order until there are `houses` of them. Each copy varies under the rig's seed: its base load, its array, its
/// battery's starting charge, its room and comfort setpoint, its vehicle's visit. The listed houses themselves stay
/// as written, so a neighborhood of as many houses as the rig lists is the rig itself; fewer keeps the first ones.
/// The grid's import and export limits scale with the number of houses.
struct Neighborhood {
    var houses: Int
    /// The relative spread of each varied quantity: 0.1 gives base loads and arrays within ±10 %, starting charges
    /// within ±10 points, rooms and setpoints within ±0.5 K, arrivals and departures within ±36 min.
    var variation = 0.1

    /// Adds the copies to `rig`, whose houses (in `order`) are the mix. Devices of copies take ports from
    /// `nextPort` on (0: free ports).
    func grow(_ rig: inout Rig, houseOrder order: [HouseID], nextPort: inout Int) {
        if houses < order.count {
            let dropped = Set(order[houses...])
            for device in rig.devices where device.house.map(dropped.contains) ?? false { rig.run.comfort[device.name] = nil }
            rig.devices.removeAll { $0.house.map(dropped.contains) ?? false }
            for house in dropped { rig.baseLoads[house] = nil }
            return
        }
        let templates = Dictionary(grouping: rig.devices.filter { $0.house != nil }, by: { $0.house! })
        for number in order.count..<houses {
            let template = order[number % order.count], copy = HouseID(checked: "\(template.name)-\(number / order.count + 1)")
            var random = SplitMix64(seed: rig.seed, name: copy.name)
            func spread(_ scale: Double) -> Double { random.symmetric() * variation * scale }
            rig.baseLoads[copy] = BaseLoad(mean: max(0, (rig.baseLoads[template]?.mean ?? 400) * (1 + spread(1))))
            for device in templates[template] ?? [] {
                var spec = device
                spec.house = copy
                spec.id = DeviceID(house: copy, name: device.id.name)
                spec.parameters.seed = rig.seed &+ UInt64(rig.devices.count) &* 0x9E37_79B9
                spec.port = UInt16(clamping: nextPort)
                if nextPort != 0 { nextPort += 1 }
                switch spec.profile.kind {
                case .inverter:
                    let size = 1 + spread(1)
                    for rating in [Rating.arrayPeakPower, .ratedPower] { spec.profile.ratings[rating] = spec.profile.ratings[rating].map { $0 * size } }
                case .battery:
                    spec.parameters.initialSoC = spec.parameters.initialSoC.map { min(max($0 + spread(100), 0), 100) }
                case .thermostat:
                    spec.parameters.roomTemperature = spec.parameters.roomTemperature.map { $0 + spread(5) }
                    if var comfort = rig.run.comfort[device.name] {
                        comfort.setpoint += spread(5)
                        rig.run.comfort[spec.name] = comfort
                    }
                case .evCharger:
                    if var vehicle = spec.parameters.vehicle {
                        vehicle.arrival += spread(6 * 3600)
                        vehicle.departure = max(vehicle.arrival + 3600, vehicle.departure + spread(6 * 3600))
                        vehicle.initialSoC = min(max(vehicle.initialSoC + spread(1), 0.05), vehicle.targetSoC)
                        spec.parameters.vehicle = vehicle
                    }
                case .meter:
                    break
                }
                rig.devices.append(spec)
            }
        }
    }

    /// The grid connection grows with the neighborhood: its import and export limits scale with the houses, so that
    /// a thousand houses made from a twenty-house rig meet the grid as those twenty did.
    func scale(_ tie: inout GridTie?, listed: Int) {
        guard listed > 0, tie != nil else { return }
        let factor = Double(houses) / Double(listed)
        tie!.importLimit *= factor
        tie!.exportLimit *= factor
    }
}
