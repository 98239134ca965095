public import Agents
public import Bus
public import Emulators
public import Files
import Foundation
public import Market
import Messages
import Modbus
public import Physics

/// What the reference controller gets from a rig: each household's devices as Modbus addresses and register
/// points (resolved from their profiles, as firmware knows its products' maps), and its strategies; and the
/// environment GridRig gives a controller process (docs/PROTOCOL.md).
public enum ControllerSetup {
    /// One device as a controller process learns it from `GRIDRIG_DEVICES`.
    public struct DeviceAddress: Codable, Sendable, Equatable {
        public var id: DeviceID
        public var kind: DeviceSetup.Kind
        public var profile: String
        public var host: String
        public var port: UInt16
        /// The unit id the rig serves it under; nil: each block's own (the profile's).
        public var unit: UInt8?
        public var ratings: [Rating: Double]
        public var vehicle: VehiclePlan?
        /// A thermostat's comfort setting, as the occupant entered it.
        public var comfort: Comfort?
    }

    /// A thermostat's comfort in `GRIDRIG_DEVICES`: season ("heating" or "cooling"; another is refused),
    /// preferred setpoint, and how far below and above it the room may go, °C.
    public struct Comfort: Codable, Sendable, Equatable {
        public var season: ThermostatStrategy.Season
        public var setpoint: Double
        public var below: Double
        public var above: Double

        /// The reference strategy for this comfort.
        public var strategy: ThermostatStrategy {
            ThermostatStrategy(season: season, setpoint: setpoint, comfortBelow: below, comfortAbove: above)
        }
    }

    /// One setup per house of the rig, in the rig's order. `places` are where each of `specs` is served, in the
    /// same order (a fleet knows the ports it bound; a split run's shards serve at the rig's ports).
    /// `exportLimit` is the connection's (nil on an island): with 0 no surplus may leave, so PV is limited to what it sold.
    public static func households(specs: [DeviceSpec], places: [(host: String, port: UInt16)], baseLoads: [HouseID: BaseLoad],
                                  comfort: [String: ThermostatStrategy] = [:], prior: PriceForecast? = nil, exportLimit: Double? = nil) -> [HouseholdSetup] {
        var order: [HouseID] = []
        var devices: [HouseID: [DeviceSetup]] = [:]
        for (address, spec) in served(specs: specs, places: places) {
            let house = address.id.house
            if devices[house] == nil { order.append(house) }
            devices[house, default: []].append(setup(address, profile: spec.profile))
        }
        return order.map { house in
            let thermostat = devices[house, default: []].first { $0.kind == .thermostat }.flatMap { comfort[$0.id.description] }
            var setup = household(house, devices: devices[house, default: []], baseLoad: (baseLoads[house]?.mean ?? 0).inKilo, thermostat: thermostat,
                                  exportLimit: exportLimit)
            setup.baseLoadProfile = baseLoads[house].map(baseLoadProfile) ?? []
            if let prior { setup.prior = prior }
            return setup
        }
    }

    /// The reference strategies for the kinds a house has; a thermostat without a comfort setting heats at 21 °C ±2.
    public static func household(_ house: HouseID, devices: [DeviceSetup], baseLoad: Double, thermostat: ThermostatStrategy? = nil,
                                 exportLimit: Double? = nil) -> HouseholdSetup {
        let kinds = Set(devices.map(\.kind))
        let strategies = Household(id: house,
                                   thermostat: kinds.contains(.thermostat) ? thermostat ?? ThermostatStrategy(season: .heating, setpoint: 21) : nil,
                                   ev: kinds.contains(.evCharger) ? EVStrategy() : nil,
                                   battery: kinds.contains(.battery) ? BatteryStrategy() : nil,
                                   solar: kinds.contains(.inverter) ? SolarStrategy(mayExport: exportLimit.map { $0 > 0 } ?? true) : nil)
        return HouseholdSetup(house: house, devices: devices, strategies: strategies, baseLoad: baseLoad)
    }

    /// A house's base load as a household learns it from its history: the mean of each quarter-hour of the day, kW.
    public static func baseLoadProfile(_ load: BaseLoad) -> [Double] {
        (0..<96).map { (quarter: Int) -> Double in
            let minutes = (0..<15).map { (minute: Int) -> Double in load.power(at: Double(quarter * 900 + minute * 60 + 30)) }
            return (minutes.reduce(0, +) / 15).inKilo
        }
    }

    /// Every household device of the rig as served: the content of `GRIDRIG_DEVICES`.
    /// `places` are where each spec is served, in the same order.
    public static func addresses(specs: [DeviceSpec], places: [(host: String, port: UInt16)], comfort: [String: ThermostatStrategy] = [:]) -> [DeviceAddress] {
        served(specs: specs, places: places, comfort: comfort).map(\.address)
    }

    /// The houses with a device a household's agent drives, in the order of `specs`: a run's households.
    public static func householdNames(of specs: [DeviceSpec]) -> [HouseID] {
        var seen: Set<HouseID> = []
        return specs.compactMap { spec in spec.house.flatMap { agentKind(of: spec) != nil && seen.insert($0).inserted ? $0 : nil } }
    }

    /// The agent's kind of a device a household's agent drives; nil for one it does not: a meter, or the grid-forming
    /// battery, which is the island's grid.
    private static func agentKind(of spec: DeviceSpec) -> DeviceSetup.Kind? {
        spec.house != nil && !spec.isGridForming ? DeviceSetup.Kind(spec.profile.kind) : nil
    }

    /// Each household device's address, with the spec it serves.
    private static func served(specs: [DeviceSpec], places: [(host: String, port: UInt16)],
                               comfort: [String: ThermostatStrategy] = [:]) -> [(address: DeviceAddress, spec: DeviceSpec)] {
        zip(specs, places).compactMap { spec, device in
            guard let kind = agentKind(of: spec) else { return nil }
            let plan = spec.parameters.vehicle.map { vehicle in
                VehiclePlan(arrival: vehicle.arrival, departure: vehicle.departure,
                            energyNeeded: (vehicle.energyNeeded / vehicle.chargingEfficiency).inKilo,
                            maxCurrent: vehicle.maxCurrent, phases: vehicle.phases)
            }
            let preferred: ThermostatStrategy? = comfort[spec.name]
            let setting: Comfort? = preferred.map { Comfort(season: $0.season, setpoint: $0.setpoint, below: $0.comfortBelow, above: $0.comfortAbove) }
            let ratings: [Rating: Double] = spec.profile.kind.ratingDefaults.merging(spec.profile.ratings) { $1 }
            return (DeviceAddress(id: spec.id, kind: kind, profile: spec.profile.name, host: device.host, port: device.port, unit: spec.unit,
                                  ratings: ratings, vehicle: plan, comfort: setting), spec)
        }
    }

    /// A device setup from its address and its product's profile.
    public static func setup(_ address: DeviceAddress, profile: DeviceProfile) -> DeviceSetup {
        DeviceSetup(id: address.id, kind: address.kind, profile: address.profile,
                    map: map(profile, host: address.host, port: address.port, unit: address.unit),
                    ratings: address.ratings, vehicle: address.vehicle, watchdogTimeout: profile.watchdog?.timeout)
    }

    /// The points an agent uses, found by the quantity or control each profile point is bound to.
    public static func map(_ profile: DeviceProfile, host: String, port: UInt16, unit: UInt8?) -> DeviceMap {
        var map = DeviceMap(host: host, port: port, wordOrder: profile.wordOrder)
        // Each block apart: a device answers a read within one block, and refuses one across two, touching or not.
        map.blocks = profile.blocks.map { ReadableBlock(unit: unit ?? $0.unit, table: $0.table, start: Int($0.start), end: $0.end) }
        for block in profile.blocks {
            for point in block.points {
                func register() -> RegisterPoint {
                    // A model's scale factors follow its values: the first of the name after the point is its own.
                    let factor = point.scaleFactor.flatMap { name in block.points.first { $0.name == name && $0.address > point.address }?.address }
                    return RegisterPoint(unit: unit ?? block.unit, table: block.table, address: point.address, type: point.type,
                                         scale: point.scale, scaleFactor: factor, labels: point.labels)
                }
                switch point.binding {  // the first point of a name is the one a client uses
                case .quantity(let quantity) where DeviceMap.agentReadings.contains(quantity) && map.readings[quantity] == nil:
                    map.readings[quantity] = register()
                case .control(let control, _) where DeviceMap.agentSettings.contains(control) && map.settings[control] == nil:
                    map.settings[control] = register()
                default: continue
                }
            }
        }
        return map
    }

    /// The environment of a controller process GridRig starts (docs/PROTOCOL.md, "Controllers GridRig starts").
    public static func environment(participant: String, endpoints: BusEndpoints, households: [HouseID], devices: [DeviceAddress],
                                   baseLoad: BaseLoad?, profiles: String, prior: PriceForecast? = nil, credentials: BusCredentials? = nil,
                                   exportLimit: Double? = nil) -> [String: String] {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = .sortedKeys
        var environment = [
            "GRIDRIG_PARTICIPANT": participant,
            "GRIDRIG_BUS_PUBLISH": endpoints.publish,
            "GRIDRIG_BUS_SUBSCRIBE": endpoints.subscribe,
            "GRIDRIG_HOUSEHOLDS": households.map(\.name).joined(separator: ","),
            "GRIDRIG_DEVICES": String(decoding: (try? encoder.encode(devices)) ?? Data("[]".utf8), as: UTF8.self),
            "GRIDRIG_PROFILES": profiles,
        ]
        if let prior {
            environment["GRIDRIG_PRICE_MEAN"] = "\(prior.mean)"
            environment["GRIDRIG_PRICE_DEVIATION"] = "\(prior.standardDeviation)"
        }
        if let credentials {
            environment["GRIDRIG_BUS_SERVER_KEY"] = credentials.serverKey
            environment["GRIDRIG_BUS_PUBLIC_KEY"] = credentials.keys.publicKey
            environment["GRIDRIG_BUS_SECRET_KEY"] = credentials.keys.secretKey
        }
        if let baseLoad {
            environment["GRIDRIG_BASE_LOAD_KW"] = "\(baseLoad.mean.inKilo)"
            environment["GRIDRIG_BASE_LOAD_PROFILE"] = baseLoadProfile(baseLoad).map { "\($0)" }.joined(separator: ",")
            if let exportLimit { environment["GRIDRIG_EXPORT_LIMIT_KW"] = "\(exportLimit)" }
        }
        return environment
    }

    /// Reads `GRIDRIG_DEVICES`.
    public static func addresses(json: String) throws(FileError) -> [DeviceAddress] {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        do {
            return try decoder.decode([DeviceAddress].self, from: Data(json.utf8))
        } catch {
            throw FileError(file: "GRIDRIG_DEVICES", line: 1, column: 1, path: "", message: "expected the device list of docs/PROTOCOL.md: \(error)")
        }
    }
}

extension DeviceSetup.Kind {
    /// The agent's kind for an emulated one; a meter has no agent-side driver.
    package init?(_ kind: DeviceKind) {
        switch kind {
        case .inverter: self = .inverter
        case .battery: self = .battery
        case .thermostat: self = .thermostat
        case .evCharger: self = .evCharger
        case .meter: return nil
        }
    }
}

