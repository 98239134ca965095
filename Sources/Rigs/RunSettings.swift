public import Agents
import Files
import Foundation
public import Market
import Messages
public import Physics

/// How a rig is run: market terms, clock, duration, the utility, the controller roles and the assertions
/// (docs/RIGS.md). Every field has the default a rig gets when it leaves the key out.
public struct RunSettings: Sendable {
    /// Simulated seconds the run lasts.
    public var duration: Double = 86_400
    public var interval: Double = 300
    public var priceCap: Double = 1.0
    /// Price statistics the agents assume until a day of prices has been seen.
    public var prior = PriceForecast(mean: 0.2, standardDeviation: 0.1)
    public var clock: Clock = .lockstep
    /// The longest control step, simulated s: the conductor publishes the simulated time at least this often
    /// within an interval, and earlier when a participant asks for a time (docs/PROTOCOL.md, "Control steps").
    public var controlPeriod: Double = 10
    /// $/kWh a household pays for each kWh its devices deliver away from their awards, either way.
    public var imbalancePrice: Double = 0.30
    /// Wall-clock budgets of each interval: bids after its start, the clearing after gate closure, the dispatch
    /// reports after the clearing. In lockstep the conductor moves on as soon as everyone has answered.
    public var deadlines: (bids: Duration, clearing: Duration, dispatch: Duration) = (.seconds(10), .seconds(10), .seconds(10))
    /// The utility behind the PCC; nil when islanded.
    public var grid: GridTie? = GridTie(importTariff: 0.30, exportTariff: 0.05, importLimit: 60, exportLimit: 60)
    /// An island's grid-forming battery (only when `grid` is nil).
    public var gridForming: DeviceID?
    /// Each thermostat's comfort and season, by device name; a thermostat not listed heats at 21 °C ±2.
    public var comfort: [String: ThermostatStrategy] = [:]
    /// The rig loader fills in the verdict's defaults when a rig names none.
    public var assertions: [AssertionSpec] = []
    /// Who plays the market, and each household's agent: GridRig's reference controller unless a rig names a
    /// command (docs/PROTOCOL.md, "Controllers GridRig starts").
    public var market: Role = .builtin
    public var households: [HouseID: Role] = [:]
    /// Where the broker binds: fixed ports for controllers that run elsewhere (`endpoint` roles); free ports on
    /// loopback by default.
    public var bus = BusSettings()
    /// Faults of the bus, the participants and the grid (docs/FAULTS.md); a device's own are the rig's `faults`.
    public var faults = RigFaults()
    /// GridRig as a HELICS federate (docs/COSIM.md); nil runs on its own clock.
    public var cosim: CosimSettings?
    /// Bids the conductor sends for bidders with no devices (docs/RIGS.md, "Scripted bids").
    public var bidScript: BidScript?

    /// Where the broker binds and what it admits (docs/RIGS.md, "The bus").
    public struct BusSettings: Sendable, Equatable {
        public var host = "127.0.0.1"
        public var publishPort: UInt16 = 0
        public var subscribePort: UInt16 = 0
        /// CURVE authentication: nil (the default) turns it on exactly when the broker binds beyond loopback.
        public var authentication: Bool?
        /// The folder of certificates: the broker's pair and each endpoint's public key (`gridrig keys`).
        public var keys: String?
        public var maxMessageBytes = 65_536
        /// Messages a second one connection may publish.
        public var rateLimit = 20_000
        /// Bytes of bus messages the capture keeps; nil: `defaultCaptureLimit`.
        public var captureLimit: Int?

        public init() {}

        /// The capture's bound unless the rig gives one: 1 GiB, or 4 MiB per house and simulated day when that is
        /// more (a day of the default rig captures about 1.2 MB per house), so that the bound means the same at 4
        /// houses and at 1,000.
        public static func defaultCaptureLimit(houses: Int, duration: Double) -> Int {
            max(1 << 30, houses * Int((duration / 86_400).rounded(.up)) << 22)
        }

        /// Whether connections must authenticate: as the rig says, else whenever the broker is reachable from
        /// another host.
        public var authenticates: Bool {
            authentication ?? !(host == "localhost" || host == "::1" || host.hasPrefix("127."))
        }
    }

    public init() {}

    /// Whether any role runs elsewhere and must find the bus and the devices at fixed addresses.
    /// Who plays `participant`: the market's role, or the role of the house it names (GridRig's reference unless the
    /// rig says otherwise).
    public func role(of participant: String) -> Role {
        participant == ParticipantName.market ? market : (try? HouseID(parsing: participant)).flatMap { households[$0] } ?? .builtin
    }

    public var hasEndpoints: Bool { market == .endpoint || households.values.contains(.endpoint) }

    public enum Role: Sendable, Equatable {
        case builtin
        /// A process GridRig starts and stops: the program and its arguments.
        case command([String])
        /// Already running elsewhere (real hardware on the bench); it joins the bus at `bus` by itself.
        case endpoint
        /// The reference household agent with one deliberate bug: a controller the verdict must fail.
        case mutant(HouseholdMutation)
    }

    public enum Clock: Sendable, Equatable {
        /// Advance when every participant has answered or its deadline passed; deterministic under the seed.
        case lockstep
        /// `speed` simulated seconds per wall second (1: realtime).
        case paced(speed: Double)
    }
}

/// GridRig in a HELICS federation (the rig's `cosim: {helics: ...}`, docs/COSIM.md).
public struct CosimSettings: Sendable, Equatable {
    /// The broker, `host:port`.
    public var broker = "127.0.0.1:23404"
    /// The federate's name; its publications are `<name>/<house>/p` and so on.
    public var name = "gridrig"
    /// Simulated seconds between exchanges with the federation; nil: the control period.
    public var period: Double?
    /// Start the broker in this process, for this many federates (GridRig's included); nil: it runs elsewhere.
    public var startBroker: Int?
    /// The keys GridRig subscribes to for each house's (and the PCC's, as `pcc`) voltage, V phase to neutral, and
    /// frequency, Hz: `{house}` stands for the house; nil subscribes to none (the grid stays nominal).
    public var voltage: String?
    public var frequency: String?
    /// Processes that emulate the houses' devices (`gridrig emulate RIG --shard K/N`), each a federate; 1 emulates
    /// them in the run's own process. The hosts where shard 1, 2, ... serve their devices (loopback when absent).
    public var shards = 1
    public var shardHosts: [String] = []
    /// The voltage that is 100 %, V phase to neutral: what the voltage-range assertion measures against.
    public var nominalVoltage = 230.0
    /// Other federates GridRig starts and stops with the run (a feeder model): each a program and its arguments,
    /// told the broker and the houses in its environment (docs/COSIM.md).
    public var federates: [[String]] = []

    public init() {}

    /// The host and port of a `host:port` address; nil for anything else.
    public static func endpoint(_ address: String) -> (host: String, port: UInt16)? {
        let parts = address.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, let port = UInt16(parts[1]), port > 0 else { return nil }
        return (String(parts[0]), port)
    }

    /// `template` with `{house}` filled in.
    public static func key(_ template: String, house: HouseID) -> String { template.replacingOccurrences(of: "{house}", with: house.name) }

    /// What the conductor publishes at each step of a split run: the simulated time the shards step to, s since the
    /// run began.
    public var stepKey: String { "\(name)/step" }
    /// Shard `number`'s federate name.
    public func shardName(_ number: Int) -> String { "\(name)-shard-\(number)" }
    /// Shard `number`'s houses: the rig's houses in order, cut in `shards` runs of (nearly) equal length, so that
    /// neighbours on a feeder share a shard.
    public func houses(ofShard number: Int, among houses: [HouseID]) -> [HouseID] {
        Array(houses[(number - 1) * houses.count / shards ..< number * houses.count / shards])
    }
    /// The host where shard `number` serves its devices.
    public func host(ofShard number: Int) -> String { number <= shardHosts.count ? shardHosts[number - 1] : "127.0.0.1" }
}

/// One assertion a rig asks for, with its thresholds.
public struct AssertionSpec: Sendable, Equatable {
    /// An assertion as rigs, reports and the verdict name it. Each assertion's file in Verdict declares its kind,
    /// and the verdict's registry lists them all (`allCases`, with how each is made).
    public struct Kind: Hashable, Sendable, CustomStringConvertible {
        public let name: String
        /// The values a rig may set, with their defaults, in the order errors list them; none for a pass/fail rule
        /// (docs/RIGS.md gives the units and the reasons).
        public let thresholds: [Threshold]
        /// Whether it judges the devices' read and write logs, which a split run's shards keep.
        package let judgesDeviceLogs: Bool

        package init(_ name: String, thresholds: [Threshold] = [], judgesDeviceLogs: Bool = false) {
            self.name = name
            self.thresholds = thresholds
            self.judgesDeviceLogs = judgesDeviceLogs
        }

        public var description: String { name }
        public static func == (lhs: Kind, rhs: Kind) -> Bool { lhs.name == rhs.name }
        public func hash(into hasher: inout Hasher) { hasher.combine(name) }
    }

    public var kind: Kind
    /// Every threshold of the kind by its key: the rig's value, or the default.
    public var thresholds: [String: Double]

    /// - Parameter thresholds: values that replace the kind's defaults, by key.
    public init(_ kind: Kind, thresholds: [String: Double] = [:]) {
        self.kind = kind
        self.thresholds = Dictionary(uniqueKeysWithValues: kind.thresholds.map { ($0.key, thresholds[$0.key] ?? $0.defaultValue) })
    }

    /// The rig's value of one of the kind's thresholds, or its default.
    public subscript(threshold: Threshold) -> Double { thresholds[threshold.key] ?? threshold.defaultValue }
}

/// A value a rig may set for an assertion (`assertions: {balance: {max-deviation: 5}}`), with its default.
public struct Threshold: Sendable, Hashable {
    public let key: String
    public let defaultValue: Double

    package init(_ key: String, default defaultValue: Double) {
        self.key = key
        self.defaultValue = defaultValue
    }
}
