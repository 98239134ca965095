import Agents
import Emulators
public import Files
import Foundation
import Market
import Messages
import Modbus
import Physics
public import Rigs
import Verdict

/// Reads rig files; profiles are looked up by name in a profiles folder.
public enum RigLoader {
    /// - Parameters:
    ///   - profiles: the folder of `<name>.yaml` profiles.
    ///   - firstPort: overrides the rig's `first-port` (0: every device on a free port of its own).
    ///   - faultsFile: a file whose `faults:` list replaces the rig's own (docs/FAULTS.md), so that one rig can be
    ///     run under different fault schedules.
    ///   - seed: replaces the rig's own seed (its weather's clouds and every seeded fault follow it).
    ///   - houseUnderTest: a house whose devices the claims replace (docs/CONFORMANCE.md, "Claims"): each claimed
    ///     device takes the place of the house's device of its kind, keeping its name, port and situation; a kind
    ///     the house lacks is added as the claims describe it; the house's other devices, and their faults, are
    ///     left out.
    public static func load(file: String, profiles: String, firstPort: UInt16? = nil, faultsFile: String? = nil, seed: UInt64? = nil,
                            houseUnderTest: (house: String, claims: Claims)? = nil) throws(FileError) -> Rig {
        var reader = try RigReader(file: file, profiles: profiles, firstPort: firstPort, seed: seed)
        try reader.houses(houseUnderTest: houseUnderTest)
        try reader.pcc()
        let grown = try reader.neighborhood()
        try reader.settings(grown: grown, faultsFile: faultsFile)
        return try reader.finished()
    }

    static let deviceKeys = ["name", "profile", "port", "unit", "initial-soc", "room-temperature", "vehicle", "comfort", "ratings", "replay", "settings"]

    /// A device's profile: a name in the `profiles` folder, or a file (a name ending in `.yaml`) relative to the
    /// folder of the file that names it.
    static func profile(_ value: YAMLValue, profiles: String) throws(FileError) -> DeviceProfile {
        let name = try value.string()
        if name.hasSuffix(".yaml") {
            let path = URL(fileURLWithPath: name, relativeTo: URL(fileURLWithPath: value.file).deletingLastPathComponent()).path
            guard FileManager.default.fileExists(atPath: path) else { throw value.expected("a profile file (\(path) does not exist)") }
            return try ProfileLoader.load(file: path)
        }
        let path = "\(profiles)/\(name).yaml"
        guard FileManager.default.fileExists(atPath: path) else {
            let known = ((try? FileManager.default.contentsOfDirectory(atPath: profiles)) ?? [])
                .filter { $0.hasSuffix(".yaml") }.map { String($0.dropLast(5)) }.sorted()
            throw value.expected("a profile in \(profiles)/ (\(known.joined(separator: ", "))) or a profile file ending in .yaml")
        }
        return try ProfileLoader.load(file: path)
    }

    fileprivate static func session(_ value: YAMLValue) throws(FileError) -> VehicleSession {
        let fields = try value.mapping(allowed: ["arrival", "departure", "capacity", "initial-soc", "target-soc", "max-current", "phases"])
        guard let arrival = fields["arrival"], let departure = fields["departure"] else {
            throw value.error("missing key 'arrival' or 'departure' (HH:MM)")
        }
        let arrives = try arrival.timeOfDay()
        var departs = try departure.timeOfDay()
        if departs <= arrives { departs += 86_400 }  // leaves the next morning
        var session = VehicleSession(arrival: arrives, departure: departs)
        if let capacity = fields["capacity"] { session.batteryCapacity = try capacity.double() }
        func percent(_ key: String) throws(FileError) -> Double? {
            guard let field = fields[key] else { return nil }
            let number = try field.double()
            guard (0...100).contains(number) else { throw field.expected("a percentage in 0...100") }
            return number.fromPercent
        }
        if let soc = try percent("initial-soc") { session.initialSoC = soc }
        if let soc = try percent("target-soc") { session.targetSoC = soc }
        if let current = fields["max-current"] { session.maxCurrent = try current.double() }
        if let phases = fields["phases"] {
            let count = try phases.int(in: 1...3)
            guard count != 2 else { throw phases.expected("1 or 3") }
            session.phases = count
        }
        return session
    }

    /// `builtin`, `endpoint`, `{command: [program, arguments...]}`, or `{mutant: NAME}` (a household only).
    fileprivate static func role(_ value: YAMLValue, household: Bool = false) throws(FileError) -> RunSettings.Role {
        let roles = "builtin, endpoint, {command: [program, arguments...]}" + (household ? " or {mutant: NAME}" : "")
        if value.isScalar {
            switch try value.string() {
            case "builtin": return .builtin
            case "endpoint": return .endpoint
            default: throw value.expected(roles)
            }
        }
        let fields = try value.mapping(allowed: household ? ["command", "mutant"] : ["command"])
        if household, let mutant = fields["mutant"] {
            let name = try mutant.string()
            guard let mutation = HouseholdMutation(rawValue: name) else {
                throw mutant.expected("a mutant of the reference household (\(HouseholdMutation.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            return .mutant(mutation)
        }
        guard let command = fields["command"] else { throw value.expected(roles) }
        let words = try command.list().map { word throws(FileError) in try word.string(allowingEmpty: true) }
        guard let program = words.first, !program.isEmpty else { throw command.expected("a program and its arguments") }
        return .command(words)
    }

    /// `weather: clear` or `cloudy`, `{curve: clear, low: 22, high: 34, peak: 950}` (°C, W/m²), or
    /// `{file: measured.csv}` (relative to the rig's folder).
    fileprivate static func weather(_ value: YAMLValue, seed: UInt64, folder: String) throws(FileError) -> DayCurve {
        let curve: String
        var fields: [String: YAMLValue] = [:]
        if value.isScalar {
            curve = try value.string()
        } else {
            fields = try value.mapping(allowed: ["curve", "low", "high", "peak", "file"])
            if let file = fields["file"] {
                guard fields.count == 1 else { throw value.error("a weather file stands alone: no curve, low, high or peak with it") }
                let name = try file.string()
                return try WeatherFile.load(name.hasPrefix("/") ? name : "\(folder)/\(name)")
            }
            curve = try fields["curve"]?.string() ?? "clear"
        }
        let isCloudy: Bool
        switch curve {
        case "clear": isCloudy = false
        case "cloudy": isCloudy = true
        default: throw (fields["curve"] ?? value).expected("clear or cloudy")
        }
        let peak = try fields["peak"]?.double(where: (0...1400).contains, expected: "a peak irradiance in 0...1400 W/m²") ?? 950
        let low = try fields["low"]?.double() ?? (isCloudy ? 12 : 14)
        let high = try fields["high"]?.double(where: { $0 >= low }, expected: "a high of at least the low (\(low) °C)") ?? (isCloudy ? 20 : 26)
        guard low <= high else { throw (fields["low"] ?? value).expected("a low of at most the high (\(high) °C)") }
        return isCloudy ? .cloudy(seed: seed, peakIrradiance: peak, low: low, high: high) : .clear(peakIrradiance: peak, low: low, high: high)
    }

    /// A thermostat's `comfort: {season: heating, setpoint: 21, below: 2, above: 2, ramp: 2}`.
    fileprivate static func comfort(_ value: YAMLValue) throws(FileError) -> ThermostatStrategy {
        let fields = try value.mapping(allowed: ["season", "setpoint", "below", "above", "ramp"])
        var season = ThermostatStrategy.Season.heating
        if let field = fields["season"] {
            guard let chosen = ThermostatStrategy.Season(rawValue: try field.string()) else { throw field.expected("heating or cooling") }
            season = chosen
        }
        func positive(_ key: String, _ fallback: Double) throws(FileError) -> Double {
            guard let field = fields[key] else { return fallback }
            let number = try field.double()
            guard number >= 0 else { throw field.expected("a number of kelvin, 0 or more") }
            return number
        }
        let setpoint = try fields["setpoint"]?.double(where: (10...35).contains, expected: "a setpoint in 10...35 °C") ?? (season == .heating ? 21 : 24)
        return ThermostatStrategy(season: season, setpoint: setpoint, comfortBelow: try positive("below", 2),
                                  comfortAbove: try positive("above", 2), ramp: try positive("ramp", 2))
    }

    /// `cosim: {helics: {...}}` (docs/COSIM.md).
    private static func cosim(_ value: YAMLValue, houses: Set<String>) throws(FileError) -> CosimSettings {
        guard let helics = try value.mapping(allowed: ["helics"])["helics"] else { throw value.error("expected 'helics:' (the one co-simulation engine GridRig joins)") }
        let fields = try helics.mapping(allowed: ["broker", "name", "period", "start-broker", "voltage", "frequency", "nominal-voltage",
                                                    "federates", "shards", "shard-hosts"])
        var settings = CosimSettings()
        if let broker = fields["broker"] {
            settings.broker = try broker.string()
            guard CosimSettings.endpoint(settings.broker) != nil else { throw broker.expected("host:port, e.g. 127.0.0.1:23404") }
        }
        if let name = fields["name"] {
            settings.name = try name.string()
            guard !settings.name.isEmpty, !settings.name.contains("/") else { throw name.expected("a federate name without '/'") }
        }
        if let period = fields["period"] {
            let seconds = try period.double()
            guard seconds >= 1, seconds == seconds.rounded() else { throw period.expected("whole simulated seconds, 1 or more") }
            settings.period = seconds
        }
        if let count = fields["start-broker"] { settings.startBroker = try count.int(in: 1...10_000) }
        if let template = fields["voltage"] {
            settings.voltage = try template.string()
            guard settings.voltage!.contains("{house}") else { throw template.expected("a key with {house} in it, e.g. feeder/{house}/voltage") }
        }
        if let template = fields["frequency"] {
            settings.frequency = try template.string()
            guard settings.frequency!.contains("{house}") else { throw template.expected("a key with {house} in it, e.g. feeder/{house}/frequency") }
        }
        if let nominal = fields["nominal-voltage"] {
            settings.nominalVoltage = try nominal.double()
            guard settings.nominalVoltage > 0 else { throw nominal.expected("a voltage in V, phase to neutral") }
        }
        for command in try fields["federates"]?.list() ?? [] {
            let words = try command.list().map { word throws(FileError) in try word.string() }
            guard !words.isEmpty else { throw command.expected("a program and its arguments") }
            settings.federates.append(words)
        }
        if let shards = fields["shards"] {
            settings.shards = try shards.int(in: 1...max(1, houses.count))
        }
        for host in try fields["shard-hosts"]?.list() ?? [] { settings.shardHosts.append(try host.string()) }
        if houses.contains(Fleet.pcc) { throw helics.error("a house is named 'pcc', which the co-simulation keeps for the point of common coupling") }
        return settings
    }

    /// The keys of a run: duration, market, clock, grid, assertions.
    fileprivate static func runSettings(_ keys: [String: YAMLValue], into run: inout RunSettings, devices: inout [DeviceSpec]) throws(FileError) {
        run.assertions = AssertionSpec.defaults
        if let duration = keys["duration"] {
            run.duration = try duration.double(where: { $0 > 0 && $0 <= 24 * 14 }, expected: "a number of simulated hours in (0, 336]") * 3600
        }
        if let market = keys["market"] { try self.market(market, into: &run) }
        if let clock = keys["clock"] { run.clock = try self.clock(clock) }
        if let period = keys["control-period"] {
            run.controlPeriod = try period.double(where: (1...10).contains, expected: "a control period in [1, 10] simulated seconds")
        }
        if let grid = keys["grid"] { try self.grid(grid, into: &run, devices: &devices) }
        if let cosim = keys["cosim"] {
            let settings = try Self.cosim(cosim, houses: Set(devices.compactMap(\.house)))
            run.cosim = settings
            run.assertions = settings.voltage == nil ? AssertionSpec.defaults : AssertionSpec.cosimDefaults
            if settings.shards > 1 { run.assertions.removeAll { $0.kind.judgesDeviceLogs } }
        }
        if let assertions = keys["assertions"] {
            run.assertions = try self.assertions(assertions)
            if let shards = run.cosim?.shards, shards > 1, let kind = run.assertions.map(\.kind).first(where: \.judgesDeviceLogs) {
                throw assertions.error("\(kind.name) judges the devices' request logs, which stay with the shards of a split run")
            }
        }
    }

    /// `market: {interval: 300, price-cap: 1, prior-mean: 0.2, prior-deviation: 0.1, deadlines: {bids: ms, clearing: ms, dispatch: ms}}`.
    private static func market(_ value: YAMLValue, into run: inout RunSettings) throws(FileError) {
        let fields = try value.mapping(allowed: ["interval", "price-cap", "prior-mean", "prior-deviation", "deadlines"])
        if let interval = fields["interval"] { run.interval = Double(try interval.int(in: 5...3600)) }
        if let cap = fields["price-cap"] { run.priceCap = try cap.double(where: { $0 > 0 }, expected: "a price cap above 0 $/kWh") }
        run.prior = PriceForecast(mean: try fields["prior-mean"]?.double() ?? run.prior.mean,
                                  standardDeviation: try fields["prior-deviation"]?.double() ?? run.prior.standardDeviation)
        if let deadlines = fields["deadlines"] {
            let limits = try deadlines.mapping(allowed: ["bids", "clearing", "dispatch"])
            func milliseconds(_ key: String, _ current: Duration) throws(FileError) -> Duration {
                try limits[key].map { value throws(FileError) in .milliseconds(try value.int(in: 10...600_000)) } ?? current
            }
            run.deadlines = (bids: try milliseconds("bids", run.deadlines.bids), clearing: try milliseconds("clearing", run.deadlines.clearing),
                             dispatch: try milliseconds("dispatch", run.deadlines.dispatch))
        }
    }

    /// `clock: lockstep`, `realtime` or `{accelerated: N}`.
    private static func clock(_ value: YAMLValue) throws(FileError) -> RunSettings.Clock {
        let expectation = "lockstep, realtime, or {accelerated: N}"
        guard !value.isScalar else {
            switch try value.string() {
            case "lockstep": return .lockstep
            case "realtime": return .paced(speed: 1)
            default: throw value.expected(expectation)
            }
        }
        guard let speed = try value.mapping(allowed: ["accelerated"])["accelerated"] else { throw value.expected(expectation) }
        return .paced(speed: try speed.double(where: { $0 >= 1 }, expected: "a speed of 1 or more simulated seconds per wall second"))
    }

    /// `grid: {mode: connected, ...tariffs and limits}` or `{mode: islanded, grid-forming: <battery>}`.
    private static func grid(_ value: YAMLValue, into run: inout RunSettings, devices: inout [DeviceSpec]) throws(FileError) {
        let fields = try value.mapping(allowed: ["mode", "import-tariff", "export-tariff", "import-limit", "export-limit", "grid-forming",
                                                 "imbalance-price"])
        if let price = fields["imbalance-price"] {
            run.imbalancePrice = try price.double(where: { $0 >= 0 && $0.isFinite }, expected: "a price of 0 $/kWh or more")
        }
        switch try fields["mode"]?.string() ?? "connected" {
        case "islanded":
            run.grid = nil
            guard let battery = fields["grid-forming"] else { throw value.error("an islanded grid needs 'grid-forming': the battery that balances it") }
            let name = try battery.string()
            guard let index = devices.firstIndex(where: { $0.name == name && $0.profile.kind == .battery }) else {
                let batteries = devices.filter { $0.profile.kind == .battery }.map(\.name)
                throw battery.expected("a battery of the rig (\(batteries.joined(separator: ", ")))")
            }
            devices[index].isGridForming = true
            run.gridForming = name
        case "connected":
            var tie = run.grid ?? GridTie(importTariff: 0.30, exportTariff: 0.05, importLimit: 60, exportLimit: 60)
            let cap = run.priceCap
            if let tariff = fields["import-tariff"] {
                tie.importTariff = try tariff.double(where: { $0 >= 0 && $0 < cap }, expected: "a tariff in [0, price cap) $/kWh")
            }
            if let tariff = fields["export-tariff"] {
                tie.exportTariff = try tariff.double(where: { $0 > 0 && $0 <= cap }, expected: "a tariff in (0, price cap] $/kWh")
            }
            if let limit = fields["import-limit"] { tie.importLimit = try limit.double(where: { $0 >= 0 }, expected: "a limit in kW, 0 or more") }
            if let limit = fields["export-limit"] { tie.exportLimit = try limit.double(where: { $0 >= 0 }, expected: "a limit in kW, 0 or more") }
            run.grid = tie
        default: throw (fields["mode"] ?? value).expected("connected or islanded")
        }
        if run.grid != nil, let battery = fields["grid-forming"] {
            throw battery.error("'grid-forming' applies to an islanded grid")
        }
    }

    /// `assertions: {<name>: true, <name>: {<threshold>: N}}`: the ones a rig is held to, in the verdict's order.
    private static func assertions(_ value: YAMLValue) throws(FileError) -> [AssertionSpec] {
        let fields = try value.mapping(allowed: AssertionSpec.Kind.allCases, named: \.name)
        var assertions: [AssertionSpec] = []
        for kind in AssertionSpec.Kind.allCases {
            guard let value = fields[kind] else { continue }
            if value.isScalar {
                if try value.bool() { assertions.append(AssertionSpec(kind)) }
                continue
            }
            guard !kind.thresholds.isEmpty else { throw value.expected("true or false (\(kind.name) has no threshold)") }
            var thresholds: [String: Double] = [:]
            for (key, option) in try value.mapping(allowed: kind.thresholds.map(\.key)) {
                thresholds[key] = try option.double(where: { $0 >= 0 }, expected: "a threshold of 0 or more")
            }
            assertions.append(AssertionSpec(kind, thresholds: thresholds))
        }
        return assertions
    }
}

/// One rig file as it is read: the rig so far, and what its devices share while they are read (the profiles read,
/// the next port, the houses in order, the devices a house under test leaves out).
private struct RigReader {
    let file: String, folder: String, profiles: String
    let root: YAMLValue, keys: [String: YAMLValue]
    let seed: UInt64
    var rig: Rig
    var nextPort: Int
    var profilesRead: [String: DeviceProfile] = [:]
    var houseOrder: [String] = []
    var leftOut: Set<String> = []

    init(file: String, profiles: String, firstPort: UInt16?, seed: UInt64?) throws(FileError) {
        (self.file, self.profiles) = (file, profiles)
        folder = URL(fileURLWithPath: file).deletingLastPathComponent().path
        root = try YAMLValue.load(file: file)
        keys = try root.mapping(allowed: ["name", "seed", "start", "weather", "first-port", "houses", "pcc",
                                          "duration", "market", "clock", "control-period", "grid", "assertions", "controller",
                                          "bus", "faults", "neighborhood", "cosim", "scripted-bids"])
        let ownSeed = UInt64(try keys["seed"]?.int(in: 0...Int.max) ?? 1)  // read even when replaced: a bad one is still bad
        let seed = seed ?? ownSeed
        self.seed = seed
        rig = Rig(name: try keys["name"]?.string() ?? URL(fileURLWithPath: file).deletingPathExtension().lastPathComponent,
                  seed: seed, start: try keys["start"]?.timeOfDay(), weather: .clear(), baseLoads: [:], devices: [])
        if let weather = keys["weather"] { rig.weather = try RigLoader.weather(weather, seed: seed, folder: folder) }
        let rigPort = try keys["first-port"]?.int(in: 0...65535) ?? 1502
        nextPort = firstPort.map(Int.init) ?? rigPort
    }

    /// One device entry, and a thermostat's comfort setting if it gives one. With `takesPort` a device without a
    /// `port` takes the next of the rig's ports.
    mutating func device(_ value: YAMLValue, house: String?, fallbackName: String, index: Int,
                         takesPort: Bool = true) throws(FileError) -> (spec: DeviceSpec, comfort: ThermostatStrategy?) {
        let fields = try value.mapping(allowed: RigLoader.deviceKeys)
        guard let profileValue = fields["profile"] else { throw value.error("missing key 'profile'") }
        var profile = try self.profile(profileValue)
        if let ratings = fields["ratings"] {
            for (name, number) in try ratings.mapping(allowed: profile.kind.ratingDefaults.keys.sorted()) {
                profile.ratings[name] = try number.double(where: { $0 >= 0 }, expected: "a rating of 0 or more")
            }
        }
        var parameters = DeviceParameters(seed: seed &+ UInt64(index) &* 0x9E37_79B9)
        func applies(_ key: String, to kind: DeviceKind, _ what: String) throws(FileError) -> YAMLValue? {
            guard let value = fields[key] else { return nil }
            guard profile.kind == kind else { throw value.error("'\(key)' applies to \(what)") }
            return value
        }
        if let soc = try applies("initial-soc", to: .battery, "a battery, not a \(profile.kind.rawValue)") {
            parameters.initialSoC = try soc.double(where: (0...100).contains, expected: "a percentage in 0...100")
        }
        parameters.roomTemperature = try applies("room-temperature", to: .thermostat, "a thermostat")?.double()
        let comfort = try applies("comfort", to: .thermostat, "a thermostat").map { value throws(FileError) in try RigLoader.comfort(value) }
        if let vehicle = try applies("vehicle", to: .evCharger, "an ev-charger") { parameters.vehicle = try RigLoader.session(vehicle) }
        if let settings = fields["settings"] {  // as the installer commissioned it: a register a client may rewrite
            let known = profile.kind.controls.sorted { $0.rawValue < $1.rawValue }
            for (control, number) in try settings.mapping(allowed: known) { parameters.settings[control] = try number.double() }
        }
        var port: UInt16 = 0
        if let explicit = fields["port"] {
            port = UInt16(try explicit.int(in: 0...65535))
        } else if takesPort {
            port = UInt16(clamping: nextPort)
            if nextPort != 0 { nextPort += 1 }
        }
        let unit = try fields["unit"].map { v throws(FileError) in UInt8(try v.int(in: 0...255)) }
        let name = try fields["name"]?.string() ?? fallbackName
        let id: DeviceID
        if let house {
            id = DeviceID(house: house, name: name)  // an empty name is the house's to give (`add`)
        } else {  // a device outside the houses (the PCC's meter) is named by its whole id
            do { id = try DeviceID(parsing: name) } catch { throw (fields["name"] ?? value).error("\(error)") }
        }
        var spec = DeviceSpec(id: id, house: house, profile: profile, parameters: parameters, port: port, unit: unit)
        spec.replay = try fields["replay"].map { value throws(FileError) in try ReplayFile.load(value, profile: profile, folder: folder) }
        return (spec, comfort)
    }

    /// A device's profile, read once per file and name.
    private mutating func profile(_ value: YAMLValue) throws(FileError) -> DeviceProfile {
        let key = "\(value.file)\u{0}\(try value.string())"
        if let read = profilesRead[key] { return read }
        let profile = try RigLoader.profile(value, profiles: profiles)
        profilesRead[key] = profile
        return profile
    }

    /// Adds a device of `house`, named `<house>/<name>`, with its comfort setting.
    private mutating func add(_ spec: DeviceSpec, named name: String, of house: String, comfort: ThermostatStrategy?) {
        var named = spec
        named.id = DeviceID(house: house, name: name)
        if let comfort { rig.run.comfort[named.name] = comfort }
        rig.devices.append(named)
    }

    /// The `houses:` list; the devices of `houseUnderTest` are the ones its claims describe.
    mutating func houses(houseUnderTest: (house: String, claims: Claims)?) throws(FileError) {
        guard let houses = keys["houses"] else { return }
        for (houseIndex, houseValue) in try houses.list().enumerated() {
            let fields = try houseValue.mapping(allowed: ["name", "base-load", "devices"])
            let house = try fields["name"]?.string() ?? "h\(houseIndex + 1)"
            guard rig.baseLoads[house] == nil else { throw houseValue.error("duplicate house name '\(house)'") }
            rig.baseLoads[house] = BaseLoad(mean: try fields["base-load"]?.double(where: { $0 >= 0 }, expected: "a mean load in W, 0 or more") ?? 400)
            houseOrder.append(house)
            let firstOfHouse = rig.devices.count
            for (index, value) in try (fields["devices"]?.list() ?? []).enumerated() {
                let (spec, comfort) = try device(value, house: house, fallbackName: "", index: rig.devices.count)
                // Bids and awards name a household's devices by kind (`h1/solar`): one of each a household drives.
                if spec.profile.kind != .meter, let twin = rig.devices.first(where: { $0.house == house && $0.profile.kind == spec.profile.kind }) {
                    throw value.error("\(house) already has a device of kind \(spec.profile.kind.rawValue) (\(twin.name)): a household bids and is awarded per kind of device, so a house holds one of each")
                }
                add(spec, named: spec.id.name.isEmpty ? "\(spec.profile.kind.rawValue)\(index + 1)" : spec.id.name, of: house, comfort: comfort)
            }
            if let houseUnderTest, houseUnderTest.house == house { try claim(houseUnderTest.claims, house: house, from: firstOfHouse) }
        }
    }

    /// Replaces the devices of `house` (from `first` on) with those its claims describe: a claimed device takes the
    /// place of the house's device of its kind, keeping its name, port and situation; a kind the house lacks is added;
    /// the house's other devices are left out.
    private mutating func claim(_ claims: Claims, house: String, from first: Int) throws(FileError) {
        let own = Array(rig.devices[first...])
        rig.devices.removeSubrange(first...)
        for claimed in claims.devices {
            if var slot = own.first(where: { $0.profile.kind == claimed.kind }) {
                let product = try device(claimed.entry, house: house, fallbackName: "", index: rig.devices.count, takesPort: false).spec
                slot.profile = product.profile
                slot.unit = product.unit
                slot.parameters.settings = product.parameters.settings
                slot.replay = product.replay
                rig.devices.append(slot)
            } else {
                let (spec, comfort) = try device(claimed.entry, house: house, fallbackName: claimed.kind.rawValue, index: rig.devices.count)
                add(spec, named: spec.id.name, of: house, comfort: comfort)
            }
        }
        for left in own where !rig.devices.contains(where: { $0.name == left.name }) {
            rig.run.comfort[left.name] = nil
            leftOut.insert(left.name)
        }
    }

    /// The meter at the point of common coupling.
    mutating func pcc() throws(FileError) {
        guard let pcc = keys["pcc"], let meter = try pcc.mapping(allowed: ["meter"])["meter"] else { return }
        let spec = try device(meter, house: nil, fallbackName: "pcc/meter", index: rig.devices.count).spec
        guard spec.profile.kind == .meter else { throw meter.error("the PCC device must be a meter, found a \(spec.profile.kind.rawValue)") }
        rig.devices.append(spec)
    }

    /// The listed houses copied up to `neighborhood: {houses: N}`; nil without one.
    mutating func neighborhood() throws(FileError) -> (neighborhood: Neighborhood, listed: Int)? {
        guard let value = keys["neighborhood"] else { return nil }
        let fields = try value.mapping(allowed: ["houses", "variation"])
        guard let count = fields["houses"] else { throw value.error("missing key 'houses' (how many houses the neighborhood has)") }
        guard !houseOrder.isEmpty else { throw value.error("a neighborhood repeats the rig's houses: list at least one under 'houses'") }
        var neighborhood = Neighborhood(houses: try count.int(in: 1...100_000))
        if let variation = fields["variation"] {
            neighborhood.variation = try variation.double(where: (0...0.5).contains, expected: "a relative spread in 0...0.5")
        }
        neighborhood.grow(&rig, houseOrder: houseOrder, nextPort: &nextPort)
        return (neighborhood, houseOrder.count)
    }

    /// Everything but the devices: how the rig runs, its faults, bus, controllers and scripted bids.
    mutating func settings(grown: (neighborhood: Neighborhood, listed: Int)?, faultsFile: String?) throws(FileError) {
        guard !rig.devices.isEmpty else { throw root.error("expected at least one device under 'houses' or 'pcc'") }
        try RigLoader.runSettings(keys, into: &rig.run, devices: &rig.devices)
        if let grown { grown.neighborhood.scale(&rig.run.grid, listed: grown.listed) }
        if let faultsFile {
            let schedule = try YAMLValue.load(file: faultsFile)
            guard let list = try schedule.mapping(allowed: ["faults"])["faults"] else { throw schedule.error("expected a 'faults:' list (docs/FAULTS.md)") }
            (rig.faults, rig.run.faults) = try RigLoader.faults(list, devices: rig.devices, leftOut: leftOut, islanded: rig.run.grid == nil)
        } else if let faults = keys["faults"] {
            (rig.faults, rig.run.faults) = try RigLoader.faults(faults, devices: rig.devices, leftOut: leftOut, islanded: rig.run.grid == nil)
        }
        if let bus = keys["bus"] { try self.bus(bus) }
        if let controller = keys["controller"] { try self.controller(controller) }
        if let cosim = keys["cosim"], let shards = rig.run.cosim?.shards, shards > 1 {
            // Houses meet only at the PCC meter, and a control step (at most 10 s) is one physics step.
            guard rig.run.cosim?.voltage == nil else {
                // A shard would need the feeder's answer within the same time step, which only one HELICS federate may wait for.
                throw cosim.error("a split run cannot take voltages from a feeder model yet: give either shards or voltage")
            }
            guard rig.run.grid != nil, rig.run.faults.outages.isEmpty else {
                throw cosim.error("a split run cannot have an island or a grid outage: its grid-forming battery balances every shard's houses at once")
            }
        }
        if let script = keys["scripted-bids"] {
            rig.run.bidScript = try BidScript.load(script, run: rig.run, start: rig.start ?? 0, seed: seed,
                                                   reserved: Set(rig.houses + [ParticipantName.conductor, ParticipantName.market, ParticipantName.grid]))
        }
    }

    private mutating func bus(_ value: YAMLValue) throws(FileError) {
        let fields = try value.mapping(allowed: ["host", "publish-port", "subscribe-port", "auth", "keys", "max-message-kb", "rate-limit",
                                                 "capture-limit-mb"])
        if let host = fields["host"] { rig.run.bus.host = try host.string() }
        if let port = fields["publish-port"] { rig.run.bus.publishPort = UInt16(try port.int(in: 1...65535)) }
        if let port = fields["subscribe-port"] { rig.run.bus.subscribePort = UInt16(try port.int(in: 1...65535)) }
        if let auth = fields["auth"] { rig.run.bus.authentication = try auth.bool() }
        if let keys = fields["keys"] {  // relative to the rig's folder
            rig.run.bus.keys = URL(fileURLWithPath: try keys.string(), relativeTo: URL(fileURLWithPath: file).deletingLastPathComponent()).path
        }
        if let size = fields["max-message-kb"] { rig.run.bus.maxMessageBytes = try size.int(in: 1...16_384) * 1024 }
        if let rate = fields["rate-limit"] { rig.run.bus.rateLimit = try rate.int(in: 1...10_000_000) }
        if let limit = fields["capture-limit-mb"] { rig.run.bus.captureLimit = try limit.int(in: 1...65_536) << 20 }
    }

    private mutating func controller(_ value: YAMLValue) throws(FileError) {
        let fields = try value.mapping(allowed: ["market", "households"])
        if let market = fields["market"] { rig.run.market = try RigLoader.role(market) }
        if let households = fields["households"] {
            for (house, role) in try households.mapping(allowed: rig.baseLoads.keys.sorted()) { rig.run.households[house] = try RigLoader.role(role, household: true) }
        }
        if rig.run.hasEndpoints, rig.run.bus.publishPort == 0 || rig.run.bus.subscribePort == 0 {
            throw value.error("an endpoint role joins from elsewhere: give the bus fixed ports (bus: {publish-port: N, subscribe-port: M})")
        }
    }

    /// The rig, once no two devices share a name.
    func finished() throws(FileError) -> Rig {
        var names: Set<String> = []
        for spec in rig.devices where !names.insert(spec.name).inserted {
            throw root.error("two devices are named '\(spec.name)'")
        }
        return rig
    }
}
