public import Agents
public import Emulators
import Market
import Physics
import Modbus

/// What the reference controller gets from a rig: each household's devices as Modbus addresses and register
/// points (resolved from their profiles, as firmware knows its products' maps), and its strategies.
public enum ControllerSetup {
    /// One setup per house of the rig, in the rig's order. `specs` and `served` are the rig's devices and the
    /// fleet's, in the same order (the fleet knows the ports it bound).
    public static func households(specs: [DeviceSpec], served: [ServedDevice], baseLoads: [String: Double]) -> [HouseholdSetup] {
        var order: [String] = []
        var devices: [String: [DeviceSetup]] = [:]
        for (spec, device) in zip(specs, served) {
            guard let house = spec.house, let kind = DeviceSetup.Kind(spec.profile.kind) else { continue }
            if devices[house] == nil { order.append(house) }
            let plan = spec.parameters.vehicle.map { vehicle in
                VehiclePlan(arrival: vehicle.arrival, departure: vehicle.departure,
                            energyNeeded: vehicle.energyNeeded / vehicle.chargingEfficiency / 1000,
                            maxCurrent: vehicle.maxCurrent, phases: vehicle.phases)
            }
            devices[house, default: []].append(DeviceSetup(id: spec.name, kind: kind, map: map(spec.profile, host: device.host, port: device.port, unit: spec.unit),
                                                           ratings: spec.profile.kind.ratingDefaults.merging(spec.profile.ratings) { $1 },
                                                           vehicle: plan))
        }
        return order.map { house in
            let kinds = Set(devices[house, default: []].map(\.kind))
            let strategies = Household(id: house,
                                       thermostat: kinds.contains(.thermostat) ? ThermostatStrategy(season: .heating, setpoint: 21) : nil,
                                       ev: kinds.contains(.evCharger) ? EVStrategy() : nil,
                                       battery: kinds.contains(.battery) ? BatteryStrategy() : nil,
                                       solar: kinds.contains(.inverter) ? SolarStrategy() : nil)
            return HouseholdSetup(house: house, devices: devices[house, default: []], strategies: strategies,
                                  baseLoad: (baseLoads[house] ?? 0) / 1000)
        }
    }

    /// The points an agent uses, found by the quantity or control each profile point is bound to.
    public static func map(_ profile: DeviceProfile, host: String, port: UInt16, unit: UInt8?) -> DeviceMap {
        var points: [AgentPoint: RegisterPoint] = [:]
        for block in profile.blocks {
            for point in block.points {
                let name: String
                switch point.binding {
                case .quantity(let quantity): name = quantity.rawValue
                case .control(let control, _): name = control.rawValue
                default: continue
                }
                guard let agentPoint = AgentPoint(rawValue: name), points[agentPoint] == nil else { continue }
                points[agentPoint] = RegisterPoint(unit: unit ?? block.unit, table: block.table, address: point.address, type: point.type,
                                                   scale: point.scale, labels: point.labels)
            }
        }
        return DeviceMap(host: host, port: port, wordOrder: profile.wordOrder, points: points)
    }
}

extension DeviceSetup.Kind {
    /// The agent's kind for an emulated one; a meter has no agent-side driver.
    init?(_ kind: DeviceKind) {
        switch kind {
        case .inverter: self = .inverter
        case .battery: self = .battery
        case .thermostat: self = .thermostat
        case .evCharger: self = .evCharger
        case .meter: return nil
        }
    }
}
