import Agents
import Emulators
public import Files
import Foundation
import Market
import Messages
import Modbus
public import Physics
public import Rigs
import Verdict

/// A house of a rig's `houses:` as written: its devices are read one by one, each taking the rig's next port.
struct HouseEntry {
    var name: HouseID?
    var baseLoad = 400.0
    var devices: [YAMLValue] = []

    static let keys: [FileKey<HouseEntry>] = [
        FileKey("name", "the household's name on the bus (default h1, h2, ...)") { value, house throws(FileError) in house.name = try value.houseName() },
        .number("base-load", \.baseLoad, where: { $0 >= 0 }, expected: "a mean load in W, 0 or more", "the mean load of its other appliances, W"),
        FileKey("devices", "its devices (below)") { value, house throws(FileError) in house.devices = try value.list() },
    ]
}

extension YAMLValue {
    /// Names a house may not take: the PCC's place and the bus's other participants.
    static let reservedHouseNames: Set<String> = [HouseID.pcc.name, ParticipantName.conductor, ParticipantName.market, ParticipantName.grid]

    /// A house's name as a rig gives it: a `HouseID` that neither the PCC nor another participant of the bus goes by.
    func houseName() throws(FileError) -> HouseID {
        let text = try string()
        guard !Self.reservedHouseNames.contains(text) else {
            throw error("'\(text)' is not a house's to take: \(Self.reservedHouseNames.sorted().joined(separator: ", ")) name the PCC and the bus's other participants")
        }
        do { return try HouseID(parsing: text) } catch { throw expected(error.expected) }
    }
}

/// A rig file's top level (docs/RIGS.md): its scalars read at once, its sections kept to be read in turn (the
/// devices, then the neighborhood, then the settings that name devices), each by its own table.
struct RigRoot {
    var name: String?
    var seed: UInt64 = 1
    var start: Double?
    var firstPort = 1502
    /// Simulated seconds.
    var duration: Double?
    var controlPeriod: Double?
    var weather, houses, pcc, market, clock, grid, assertions, controller, bus, faults, neighborhood, cosim, scriptedBids: YAMLValue?

    /// In the order the docs list them, which an unknown key's error repeats.
    static let keys: [FileKey<RigRoot>] = [
        FileKey("name", "the rig's name (default: the file's name)") { value, root throws(FileError) in root.name = try value.string() },
        FileKey("seed", "the noise and cloud seeds (default 1)") { value, root throws(FileError) in root.seed = UInt64(try value.int(in: 0...Int.max)) },
        FileKey("start", "the simulated time of day at the start, HH:MM") { value, root throws(FileError) in root.start = try value.timeOfDay() },
        .section("weather", \.weather, "clear, cloudy, {curve, low, high, peak} or {file}"),
        .integer("first-port", \.firstPort, in: 0...65535, "the port of the first device without one; 0 puts each on a free port"),
        .section("houses", \.houses, "the households and their devices"),
        .section("pcc", \.pcc, "the meter at the point of common coupling: {meter: DEVICE}"),
        FileKey("duration", "the simulated hours a run lasts (default 24)") { value, root throws(FileError) in
            root.duration = try value.double(where: { $0 > 0 && $0 <= 24 * 14 }, expected: "a number of simulated hours in (0, 336]") * 3600
        },
        .section("market", \.market, "the market's interval, price cap, prior and deadlines"),
        .section("clock", \.clock, "lockstep, realtime or {accelerated: N}"),
        .number("control-period", \.controlPeriod, where: (1...10).contains, expected: "a control period in [1, 10] simulated seconds",
                "the longest control step within an interval, simulated s"),
        .section("grid", \.grid, "the utility behind the PCC, or an island"),
        .section("assertions", \.assertions, "the assertions a run is judged by, with their thresholds"),
        .section("controller", \.controller, "who plays the market and each household"),
        .section("bus", \.bus, "the broker's addresses, security and limits"),
        .section("faults", \.faults, "scheduled field faults (docs/FAULTS.md)"),
        .section("neighborhood", \.neighborhood, "the houses repeated to {houses: N}"),
        .section("cosim", \.cosim, "GridRig as a HELICS federate (docs/COSIM.md)"),
        .section("scripted-bids", \.scriptedBids, "bidders without devices, whose bids the conductor sends"),
    ]
}

/// A rig's `weather:` as a mapping, before its defaults, which depend on the curve, and its checks, which depend on
/// one another, are applied. The temperatures keep where they are written, for those checks' errors.
struct WeatherEntry {
    var isCloudy: Bool?
    var low, high: (degrees: Double, at: YAMLValue)?
    var peak: Double?
    var file: String?

    static let keys: [FileKey<WeatherEntry>] = [
        FileKey("curve", "clear or cloudy (seeded 10-minute cloud spells); clear by default") { value, weather throws(FileError) in
            weather.isCloudy = try isCloudy(value)
        },
        FileKey("low", "the night's low, °C (14 clear, 12 cloudy)") { value, weather throws(FileError) in weather.low = (try value.double(), value) },
        FileKey("high", "the afternoon's high, °C, at least the low (26 clear, 20 cloudy)") { value, weather throws(FileError) in
            weather.high = (try value.double(), value)
        },
        .number("peak", \.peak, where: (0...1400).contains, expected: "a peak irradiance in 0...1400 W/m²", "the sun at noon, W/m² (950)"),
        FileKey("file", "a measured day, CSV relative to the rig's folder; alone") { value, weather throws(FileError) in weather.file = try value.string() },
    ]

    /// `clear` or `cloudy`.
    static func isCloudy(_ value: YAMLValue) throws(FileError) -> Bool {
        switch try value.string() {
        case "clear": false
        case "cloudy": true
        default: throw value.expected("clear or cloudy")
        }
    }
}

/// A rig's `grid:` as written, before its mode is acted on: the grid-forming battery is named among the rig's
/// devices once the mode is known.
struct GridEntry {
    var islanded = false
    var tie: GridTie
    var imbalancePrice: Double
    var gridForming: YAMLValue?

    /// Tariffs lie within the market's price cap.
    static func keys(priceCap cap: Double) -> [FileKey<GridEntry>] { [
        FileKey("mode", "connected or islanded") { value, grid throws(FileError) in
            switch try value.string() {
            case "connected": grid.islanded = false
            case "islanded": grid.islanded = true
            default: throw value.expected("connected or islanded")
            }
        },
        .number("import-tariff", \.tie.importTariff, where: { $0 >= 0 && $0 < cap }, expected: "a tariff in [0, price cap) $/kWh",
                "what the utility charges, $/kWh"),
        .number("export-tariff", \.tie.exportTariff, where: { $0 > 0 && $0 <= cap }, expected: "a tariff in (0, price cap] $/kWh",
                "what it pays, $/kWh"),
        .number("import-limit", \.tie.importLimit, where: { $0 >= 0 }, expected: "a limit in kW, 0 or more", "the most the PCC imports, kW"),
        .number("export-limit", \.tie.exportLimit, where: { $0 >= 0 }, expected: "a limit in kW, 0 or more", "the most it exports, kW"),
        FileKey("grid-forming", "an island's battery, by device name") { value, grid in grid.gridForming = value },
        .number("imbalance-price", \.imbalancePrice, where: { $0 >= 0 && $0.isFinite }, expected: "a price of 0 $/kWh or more",
                "what a household pays for each kWh delivered away from its awards, $/kWh"),
    ] }
}

extension FileKey {
    /// A TCP port, 1 to 65535.
    static func port(_ name: String, _ field: any WritableKeyPath<Target, UInt16> & Sendable, _ doc: String) -> Self {
        Self(name, doc) { value, target throws(FileError) in target[keyPath: field] = UInt16(try value.int(in: 1...65535)) }
    }

    /// A co-simulation key template naming each house's value: it must hold `{house}`.
    static func houseKey(_ name: String, _ field: any WritableKeyPath<Target, String?> & Sendable, _ doc: String) -> Self {
        Self(name, doc) { value, target throws(FileError) in
            let template = try value.string()
            guard template.contains("{house}") else { throw value.expected("a key with {house} in it, e.g. feeder/{house}/\(name)") }
            target[keyPath: field] = template
        }
    }

    /// A wall-clock budget in whole milliseconds (10 to 600,000).
    static func milliseconds(_ name: String, _ field: any WritableKeyPath<Target, Duration> & Sendable, _ doc: String) -> Self {
        Self(name, doc) { value, target throws(FileError) in target[keyPath: field] = .milliseconds(try value.int(in: 10...600_000)) }
    }
}

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
                            houseUnderTest: (house: HouseID, claims: Claims)? = nil) throws(FileError) -> Rig {
        var reader = try RigReader(file: file, profiles: profiles, firstPort: firstPort, seed: seed)
        try reader.houses(houseUnderTest: houseUnderTest)
        try reader.pcc()
        let grown = try reader.neighborhood()
        try reader.settings(grown: grown, faultsFile: faultsFile)
        return try reader.finished()
    }

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

    /// An EV charger's `vehicle:` (docs/RIGS.md).
    static let vehicleKeys: [FileKey<VehicleSession>] = [
        FileKey("arrival", "when it plugs in, HH:MM") { value, session throws(FileError) in session.arrival = try value.timeOfDay() }.required,
        FileKey("departure", "when it leaves, HH:MM; the next morning when not after the arrival") { value, session throws(FileError) in
            session.departure = try value.timeOfDay()
            if session.departure <= session.arrival { session.departure += 86_400 }
        }.required,
        .number("capacity", \.batteryCapacity, "its battery, Wh"),
        .percentage("initial-soc", \.initialSoC, "its state of charge when it arrives, %"),
        .percentage("target-soc", \.targetSoC, "what it wants by its departure, %"),
        .number("max-current", \.maxCurrent, "the most it draws, A per phase"),
        FileKey("phases", "1 or 3") { value, session throws(FileError) in
            let count = try value.int(in: 1...3)
            guard count != 2 else { throw value.expected("1 or 3") }
            session.phases = count
        },
    ]

    /// A thermostat's `comfort:`, with the season's setpoint when it gives none (docs/RIGS.md).
    static let comfortKeys: [FileKey<ThermostatStrategy>] = [
        FileKey("season", "heating or cooling") { value, comfort throws(FileError) in
            guard let season = ThermostatStrategy.Season(rawValue: try value.string()) else { throw value.expected("heating or cooling") }
            comfort.season = season
            comfort.setpoint = season == .heating ? 21 : 24
        },
        .number("setpoint", \.setpoint, where: (10...35).contains, expected: "a setpoint in 10...35 °C", "the room's setpoint, °C"),
        .number("below", \.comfortBelow, where: { $0 >= 0 }, expected: "a number of kelvin, 0 or more", "how far below it is comfortable, K"),
        .number("above", \.comfortAbove, where: { $0 >= 0 }, expected: "a number of kelvin, 0 or more", "how far above it is comfortable, K"),
        .number("ramp", \.ramp, where: { $0 >= 0 }, expected: "a number of kelvin, 0 or more", "how far a price moves it within the band, K"),
    ]

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
        guard let role = try value.read(roleKeys(household: household), from: nil) else { throw value.expected(roles) }
        return role
    }

    /// A role written as a mapping (docs/RIGS.md, "Controllers"): a mutant, for a household, over a command.
    static func roleKeys(household: Bool) -> [FileKey<RunSettings.Role?>] {
        let command = FileKey<RunSettings.Role?>("command", "a program GridRig starts, and its arguments") { value, role throws(FileError) in
            let words = try value.list().map { word throws(FileError) in try word.string(allowingEmpty: true) }
            guard let program = words.first, !program.isEmpty else { throw value.expected("a program and its arguments") }
            role = .command(words)
        }
        let mutant = FileKey<RunSettings.Role?>("mutant", "the reference household with one deliberate bug") { value, role throws(FileError) in
            guard let mutation = HouseholdMutation(rawValue: try value.string()) else {
                throw value.expected("a mutant of the reference household (\(HouseholdMutation.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            role = .mutant(mutation)
        }
        return household ? [command, mutant] : [command]
    }

    /// `weather: clear` or `cloudy`, `{curve: clear, low: 22, high: 34, peak: 950}` (°C, W/m²), or
    /// `{file: measured.csv}` (relative to the rig's folder).
    fileprivate static func weather(_ value: YAMLValue, seed: UInt64, folder: String) throws(FileError) -> DayCurve {
        var entry = WeatherEntry()
        if value.isScalar {
            entry.isCloudy = try WeatherEntry.isCloudy(value)
        } else {
            try value.read(WeatherEntry.keys, into: &entry)
            if let file = entry.file {
                guard entry.isCloudy == nil, entry.low == nil, entry.high == nil, entry.peak == nil else {
                    throw value.error("a weather file stands alone: no curve, low, high or peak with it")
                }
                return try WeatherFile.load(file.hasPrefix("/") ? file : "\(folder)/\(file)")
            }
        }
        let isCloudy = entry.isCloudy ?? false, peak = entry.peak ?? 950
        let low = entry.low?.degrees ?? (isCloudy ? 12 : 14)
        if let high = entry.high, high.degrees < low { throw high.at.expected("a high of at least the low (\(low) °C)") }
        let high = entry.high?.degrees ?? (isCloudy ? 20 : 26)
        guard low <= high else { throw (entry.low?.at ?? value).expected("a low of at most the high (\(high) °C)") }
        return isCloudy ? .cloudy(seed: seed, peakIrradiance: peak, low: low, high: high) : .clear(peakIrradiance: peak, low: low, high: high)
    }

    /// `cosim: {helics: {...}}` (docs/COSIM.md).
    private static func cosim(_ value: YAMLValue, houses: Int) throws(FileError) -> CosimSettings {
        guard let helics = try value.sole("helics", "the HELICS federation GridRig joins") else {
            throw value.error("expected 'helics:' (the one co-simulation engine GridRig joins)")
        }
        return try helics.read(helicsKeys(houses: houses), from: CosimSettings())
    }

    /// `cosim: {helics: ...}` (docs/COSIM.md), for a rig of `houses` houses.
    static func helicsKeys(houses: Int) -> [FileKey<CosimSettings>] { [
        FileKey("broker", "the HELICS broker, host:port") { value, settings throws(FileError) in
            settings.broker = try value.string()
            guard CosimSettings.endpoint(settings.broker) != nil else { throw value.expected("host:port, e.g. 127.0.0.1:23404") }
        },
        FileKey("name", "GridRig's federate name") { value, settings throws(FileError) in
            settings.name = try value.string()
            guard !settings.name.contains("/") else { throw value.expected("a federate name without '/'") }
        },
        .number("period", \.period, where: { $0 >= 1 && $0 == $0.rounded() }, expected: "whole simulated seconds, 1 or more",
                "the federate's time step, whole simulated s"),
        FileKey("start-broker", "start a broker for this many federates") { value, settings throws(FileError) in
            settings.startBroker = try value.int(in: 1...10_000)
        },
        .houseKey("voltage", \.voltage, "the key of each house's voltage, with {house}"),
        .houseKey("frequency", \.frequency, "the key of each house's frequency, with {house}"),
        .number("nominal-voltage", \.nominalVoltage, where: { $0 > 0 }, expected: "a voltage in V, phase to neutral", "the feeder's nominal voltage, V"),
        FileKey("federates", "commands GridRig starts beside it") { value, settings throws(FileError) in
            for command in try value.list() {
                let words = try command.list().map { word throws(FileError) in try word.string() }
                guard !words.isEmpty else { throw command.expected("a program and its arguments") }
                settings.federates.append(words)
            }
        },
        .integer("shards", \.shards, in: 1...max(1, houses), "how many processes serve the houses, at most one a house"),
        FileKey("shard-hosts", "the host of each shard") { value, settings throws(FileError) in
            for host in try value.list() { settings.shardHosts.append(try host.string()) }
        },
    ] }

    /// The keys of a run: duration, market, clock, grid, assertions.
    fileprivate static func runSettings(_ root: RigRoot, into run: inout RunSettings, devices: inout [DeviceSpec]) throws(FileError) {
        run.assertions = AssertionSpec.defaults
        if let duration = root.duration { run.duration = duration }
        if let market = root.market { try market.read(marketKeys, into: &run) }
        if let clock = root.clock { run.clock = try self.clock(clock) }
        if let period = root.controlPeriod { run.controlPeriod = period }
        if let grid = root.grid { try self.grid(grid, into: &run, devices: &devices) }
        if let cosim = root.cosim {
            let settings = try Self.cosim(cosim, houses: Set(devices.compactMap(\.house)).count)
            run.cosim = settings
            run.assertions = settings.voltage == nil ? AssertionSpec.defaults : AssertionSpec.cosimDefaults
            if settings.shards > 1 { run.assertions.removeAll { $0.kind.judgesDeviceLogs } }
        }
        if let assertions = root.assertions {
            run.assertions = try self.assertions(assertions)
            if let shards = run.cosim?.shards, shards > 1, let kind = run.assertions.map(\.kind).first(where: \.judgesDeviceLogs) {
                throw assertions.error("\(kind.name) judges the devices' request logs, which stay with the shards of a split run")
            }
        }
    }

    /// A rig's `bus:` (docs/RIGS.md, "The bus"); `folder` is the rig's, which `keys` is relative to.
    static func busKeys(folder: URL) -> [FileKey<RunSettings.BusSettings>] { [
        .text("host", \.host, "the address the broker binds"),
        .port("publish-port", \.publishPort, "where participants publish"),
        .port("subscribe-port", \.subscribePort, "where they subscribe"),
        FileKey("auth", "CURVE authentication: true or false") { value, bus throws(FileError) in bus.authentication = try value.bool() },
        FileKey("keys", "the folder of certificates (gridrig keys)") { value, bus throws(FileError) in
            bus.keys = URL(fileURLWithPath: try value.string(), relativeTo: folder).path
        },
        FileKey("max-message-kb", "the largest message, kB") { value, bus throws(FileError) in bus.maxMessageBytes = try value.int(in: 1...16_384) * 1024 },
        .integer("rate-limit", \.rateLimit, in: 1...10_000_000, "messages a second one connection may publish"),
        FileKey("capture-limit-mb", "how much of the bus the capture keeps, MB") { value, bus throws(FileError) in
            bus.captureLimit = try value.int(in: 1...65_536) << 20
        },
    ] }

    /// A rig's `neighborhood:` (docs/RIGS.md, "Neighborhoods").
    static let neighborhoodKeys: [FileKey<Neighborhood>] = [
        FileKey.integer("houses", \.houses, in: 1...100_000, "how many houses the neighborhood has").required,
        .number("variation", \.variation, where: (0...0.5).contains, expected: "a relative spread in 0...0.5", "how far copies vary, relative"),
    ]

    /// A rig's `controller:` (docs/RIGS.md); `houses` are the rig's.
    static func controllerKeys(houses: [HouseID]) -> [FileKey<RunSettings>] { [
        FileKey("market", "who plays the market: builtin, endpoint or {command: [...]}") { value, run throws(FileError) in run.market = try role(value) },
        FileKey("households", "each house's agent, by house; the reference household by default") { value, run throws(FileError) in
            for (house, role) in try value.mapping(allowed: houses.map(\.name)) { run.households[HouseID(checked: house)] = try Self.role(role, household: true) }
        },
    ] }

    /// A rig's `market:` (docs/RIGS.md).
    static let marketKeys: [FileKey<RunSettings>] = [
        FileKey("interval", "the length of an interval, s (5 to 3600)") { value, run throws(FileError) in run.interval = Double(try value.int(in: 5...3600)) },
        .number("price-cap", \.priceCap, where: { $0 > 0 }, expected: "a price cap above 0 $/kWh", "the highest price a bid may name, $/kWh"),
        .number("prior-mean", \.prior.mean, "the price the agents expect before a day of prices, $/kWh"),
        .number("prior-deviation", \.prior.standardDeviation, "how far they expect it to vary, $/kWh"),
        FileKey("deadlines", "wall-clock budgets of each interval, ms") { value, run throws(FileError) in try value.read(deadlineKeys, into: &run) },
    ]

    static let deadlineKeys: [FileKey<RunSettings>] = [
        .milliseconds("bids", \.deadlines.bids, "bids after the interval's start"),
        .milliseconds("clearing", \.deadlines.clearing, "the clearing after the gate"),
        .milliseconds("dispatch", \.deadlines.dispatch, "the dispatch reports after the clearing"),
    ]

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
        guard let speed = try value.sole("accelerated", "simulated seconds per wall second") else { throw value.expected(expectation) }
        return .paced(speed: try speed.double(where: { $0 >= 1 }, expected: "a speed of 1 or more simulated seconds per wall second"))
    }

    /// `grid: {mode: connected, ...tariffs and limits}` or `{mode: islanded, grid-forming: <battery>}`.
    private static func grid(_ value: YAMLValue, into run: inout RunSettings, devices: inout [DeviceSpec]) throws(FileError) {
        var grid = GridEntry(tie: run.grid ?? GridTie(importTariff: 0.30, exportTariff: 0.05, importLimit: 60, exportLimit: 60),
                             imbalancePrice: run.imbalancePrice)
        try value.read(GridEntry.keys(priceCap: run.priceCap), into: &grid)
        run.imbalancePrice = grid.imbalancePrice
        guard grid.islanded else {
            if let battery = grid.gridForming { throw battery.error("'grid-forming' applies to an islanded grid") }
            run.grid = grid.tie
            return
        }
        run.grid = nil
        guard let battery = grid.gridForming else { throw value.error("an islanded grid needs 'grid-forming': the battery that balances it") }
        let name = try battery.string()
        guard let index = devices.firstIndex(where: { $0.name == name && $0.profile.kind == .battery }) else {
            let batteries = devices.filter { $0.profile.kind == .battery }.map(\.name)
            throw battery.expected("a battery of the rig (\(batteries.joined(separator: ", ")))")
        }
        devices[index].isGridForming = true
        run.gridForming = devices[index].id
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
    let file: String, folder: String
    let profiles: ProfileShelf
    let document: YAMLValue, root: RigRoot
    let seed: UInt64
    var rig: Rig
    var nextPort: Int
    var houseOrder: [HouseID] = []
    var leftOut: Set<String> = []

    init(file: String, profiles: String, firstPort: UInt16?, seed: UInt64?) throws(FileError) {
        (self.file, self.profiles) = (file, ProfileShelf(folder: profiles))
        folder = URL(fileURLWithPath: file).deletingLastPathComponent().path
        document = try YAMLValue.load(file: file)
        root = try document.read(RigRoot.keys, from: RigRoot())  // a seed given instead is still checked
        let seed = seed ?? root.seed
        self.seed = seed
        rig = Rig(name: root.name ?? URL(fileURLWithPath: file).deletingPathExtension().lastPathComponent,
                  seed: seed, start: root.start, weather: .clear(), baseLoads: [:], devices: [])
        if let weather = root.weather { rig.weather = try RigLoader.weather(weather, seed: seed, folder: folder) }
        nextPort = firstPort.map(Int.init) ?? root.firstPort
    }

    /// One device entry, and a thermostat's comfort setting if it gives one. With `takesPort` a device without a
    /// `port` takes the next of the rig's ports.
    mutating func device(_ value: YAMLValue, house: HouseID?, fallbackName: String, index: Int,
                         takesPort: Bool = true) throws(FileError) -> (spec: DeviceSpec, comfort: ThermostatStrategy?) {
        let seed = seed &+ UInt64(index) &* 0x9E37_79B9
        let entry = try value.read(DeviceEntry.keys(profiles: profiles, folder: folder), from: DeviceEntry(seed: seed))
        var port = entry.port ?? 0
        if entry.port == nil, takesPort {
            port = UInt16(clamping: nextPort)
            if nextPort != 0 { nextPort += 1 }
        }
        let name = entry.name ?? fallbackName
        let id: DeviceID
        if let house {
            id = DeviceID(house: house, name: name)  // an empty name is the house's to give (`add`)
        } else {  // a device outside the houses (the PCC's meter) is named by its whole id
            do { id = try DeviceID(parsing: name) } catch { throw value.error("\(error)") }
        }
        var spec = DeviceSpec(id: id, house: house, profile: entry.profile, parameters: entry.parameters, port: port, unit: entry.unit)
        spec.replay = entry.replay
        return (spec, entry.comfort)
    }

    /// Adds a device of `house`, named `<house>/<name>`, with its comfort setting.
    private mutating func add(_ spec: DeviceSpec, named name: String, of house: HouseID, comfort: ThermostatStrategy?) {
        var named = spec
        named.id = DeviceID(house: house, name: name)
        if let comfort { rig.run.comfort[named.name] = comfort }
        rig.devices.append(named)
    }

    /// The `houses:` list; the devices of `houseUnderTest` are the ones its claims describe.
    mutating func houses(houseUnderTest: (house: HouseID, claims: Claims)?) throws(FileError) {
        guard let houses = root.houses else { return }
        for (houseIndex, houseValue) in try houses.list().enumerated() {
            let entry = try houseValue.read(HouseEntry.keys, from: HouseEntry())
            let house = entry.name ?? HouseID(checked: "h\(houseIndex + 1)")
            guard rig.baseLoads[house] == nil else { throw houseValue.error("duplicate house name '\(house)'") }
            rig.baseLoads[house] = BaseLoad(mean: entry.baseLoad)
            houseOrder.append(house)
            let firstOfHouse = rig.devices.count
            for (index, value) in entry.devices.enumerated() {
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
    private mutating func claim(_ claims: Claims, house: HouseID, from first: Int) throws(FileError) {
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
        guard let meter = try root.pcc?.sole("meter", "the site meter: a device entry") else { return }
        let spec = try device(meter, house: nil, fallbackName: "pcc/meter", index: rig.devices.count).spec
        guard spec.profile.kind == .meter else { throw meter.error("the PCC device must be a meter, found a \(spec.profile.kind.rawValue)") }
        rig.devices.append(spec)
    }

    /// The listed houses copied up to `neighborhood: {houses: N}`; nil without one.
    mutating func neighborhood() throws(FileError) -> (neighborhood: Neighborhood, listed: Int)? {
        guard let value = root.neighborhood else { return nil }
        let neighborhood = try value.read(RigLoader.neighborhoodKeys, from: Neighborhood(houses: 0))
        guard !houseOrder.isEmpty else { throw value.error("a neighborhood repeats the rig's houses: list at least one under 'houses'") }
        neighborhood.grow(&rig, houseOrder: houseOrder, nextPort: &nextPort)
        return (neighborhood, houseOrder.count)
    }

    /// Everything but the devices: how the rig runs, its faults, bus, controllers and scripted bids.
    mutating func settings(grown: (neighborhood: Neighborhood, listed: Int)?, faultsFile: String?) throws(FileError) {
        guard !rig.devices.isEmpty else { throw document.error("expected at least one device under 'houses' or 'pcc'") }
        try RigLoader.runSettings(root, into: &rig.run, devices: &rig.devices)
        if let grown { grown.neighborhood.scale(&rig.run.grid, listed: grown.listed) }
        if let faultsFile {
            let schedule = try YAMLValue.load(file: faultsFile)
            guard let list = try schedule.sole("faults", "the scheduled faults (docs/FAULTS.md)") else {
                throw schedule.error("expected a 'faults:' list (docs/FAULTS.md)")
            }
            (rig.faults, rig.run.faults) = try RigLoader.faults(list, devices: rig.devices, leftOut: leftOut, islanded: rig.run.grid == nil)
        } else if let faults = root.faults {
            (rig.faults, rig.run.faults) = try RigLoader.faults(faults, devices: rig.devices, leftOut: leftOut, islanded: rig.run.grid == nil)
        }
        if let bus = root.bus { try bus.read(RigLoader.busKeys(folder: URL(fileURLWithPath: file).deletingLastPathComponent()), into: &rig.run.bus) }
        if let controller = root.controller { try self.controller(controller) }
        if let cosim = root.cosim, let shards = rig.run.cosim?.shards, shards > 1 {
            // Houses meet only at the PCC meter, and a control step (at most 10 s) is one physics step.
            guard rig.run.cosim?.voltage == nil else {
                // A shard would need the feeder's answer within the same time step, which only one HELICS federate may wait for.
                throw cosim.error("a split run cannot take voltages from a feeder model yet: give either shards or voltage")
            }
            guard rig.run.grid != nil, rig.run.faults.outages.isEmpty else {
                throw cosim.error("a split run cannot have an island or a grid outage: its grid-forming battery balances every shard's houses at once")
            }
        }
        if let script = root.scriptedBids {
            rig.run.bidScript = try BidScript.load(script, run: rig.run, start: rig.start ?? 0, seed: seed,
                                                   reserved: Set(rig.houses.map(\.name)).union(YAMLValue.reservedHouseNames))
        }
    }

    private mutating func controller(_ value: YAMLValue) throws(FileError) {
        try value.read(RigLoader.controllerKeys(houses: rig.baseLoads.keys.sorted()), into: &rig.run)
        if rig.run.hasEndpoints, rig.run.bus.publishPort == 0 || rig.run.bus.subscribePort == 0 {
            throw value.error("an endpoint role joins from elsewhere: give the bus fixed ports (bus: {publish-port: N, subscribe-port: M})")
        }
    }

    /// The rig, once no two devices share a name.
    func finished() throws(FileError) -> Rig {
        var names: Set<String> = []
        for spec in rig.devices where !names.insert(spec.name).inserted {
            throw document.error("two devices are named '\(spec.name)'")
        }
        return rig
    }
}
