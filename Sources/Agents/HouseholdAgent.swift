public import Bus
public import Logging
public import Market
import Messages
public import Physics

/// Everything one household's agent needs: its devices, its strategies and what it assumes of prices.
public struct HouseholdSetup: Sendable {
    public var house: HouseID
    public var devices: [DeviceSetup]
    public var strategies: Household
    /// Forecast of the house's unresponsive consumption, kW (bid at the cap): its mean, and its daily profile
    /// as 96 quarter-hour means from midnight when the agent has one (docs/PROTOCOL.md, GRIDRIG_BASE_LOAD_PROFILE).
    public var baseLoad: Double
    public var baseLoadProfile: [Double] = []
    /// Price statistics until a full window of clearing prices has been seen (GridLAB-D's init_price, init_stdev).
    public var prior: PriceForecast
    public var forecastWindow: Int
    /// A deliberate bug, for showing that the verdict catches it; nil for the reference agent itself.
    public var mutation: HouseholdMutation?

    public init(house: HouseID, devices: [DeviceSetup], strategies: Household, baseLoad: Double,
                prior: PriceForecast = PriceForecast(mean: 0.2, standardDeviation: 0.1), forecastWindow: Int = 288,
                mutation: HouseholdMutation? = nil) {
        self.mutation = mutation
        self.house = house
        self.devices = devices
        self.strategies = strategies
        self.baseLoad = baseLoad
        self.prior = prior
        self.forecastWindow = forecastWindow
    }
}

extension HouseholdSetup {
    /// The base load expected from `time` for `seconds`, kW: the profile's quarter-hours over that span, or the
    /// mean without a profile.
    func baseLoad(from time: Double, for seconds: Double) -> Double {
        guard baseLoadProfile.count == 96, seconds > 0 else { return baseLoad }
        var total = 0.0, at = time
        while at < time + seconds - 1e-9 {
            let day = (at.truncatingRemainder(dividingBy: 86_400) + 86_400).truncatingRemainder(dividingBy: 86_400)
            let quarter = min(Int(day / 900), 95)
            let until = min(time + seconds, at + (Double(quarter + 1) * 900 - day))
            total += baseLoadProfile[quarter] * (until - at)
            at = until
        }
        return total / seconds
    }
}

/// GridRig's reference household agent: like real firmware it reads its devices over Modbus TCP, bids on the bus
/// before gate closure, and writes the setpoints its awards imply back over Modbus, reporting when each landed.
/// Between interval starts it acts at the control steps it asks for (docs/PROTOCOL.md, "Control steps"): it
/// follows each award through the interval and keeps every product's watchdog armed.
public final class HouseholdAgent: LoopAgent {
    public let setup: HouseholdSetup
    public let control = ParticipantControl()
    private let context: BusContext
    private let endpoints: BusEndpoints
    private let credentials: BusCredentials?
    let logger: Logger
    var name: String { setup.house.name }
    var role: Role { .household }
    /// Its grants come shared (revision 1.2); a conductor that sends them one by one still reaches it.
    var topics: [TopicFilter] { [.only(.of(.awards, setup.house)), .only(.grants), .only(.of(.grant, setup.house))] }

    /// With `credentials`, the agent authenticates to the broker with CURVE. The bus address is for `run()`; a
    /// `ParticipantLoop` connects the agents it serves itself.
    public init(setup: HouseholdSetup, context: BusContext, endpoints: BusEndpoints, credentials: BusCredentials? = nil, logger: Logger) {
        self.setup = setup
        self.context = context
        self.endpoints = endpoints
        self.credentials = credentials
        self.logger = logger
    }

    /// Joins the bus and serves intervals until stopped or the conductor says goodbye. Blocks (its Modbus and
    /// ZeroMQ calls block).
    public func run() throws(ParticipantError) {
        try serve(context: context, endpoints: endpoints, credentials: credentials)
    }

    func makeLogic(batch: ModbusBatch) -> any ParticipantLogic { HouseholdLogic(setup: setup, batch: batch, logger: logger) }
}

/// A setpoint of a dispatch, reported once its writes are answered.
private typealias PlannedSetpoint = (device: DeviceID, outcome: DispatchOutcome)

/// One household agent's state on the bus: its devices, the prices it has seen and the open interval. Its
/// setpoints' writes go out with the rest of its loop's (`ModbusBatch`), and what reports them after.
private final class HouseholdLogic: ParticipantLogic {
    let setup: HouseholdSetup
    let logger: Logger
    let drivers: [DeviceDriver]
    let followers: [any AwardFollower]
    var prices: [Double] = []
    var current: OpenInterval?
    /// When each follower next needs to act within the open interval (never, for the grid-forming battery).
    var due: [Double?]

    init(setup: HouseholdSetup, batch: ModbusBatch, logger: Logger) {
        self.setup = setup
        self.logger = logger
        drivers = setup.devices.map { DeviceDriver($0, batch: batch) }
        followers = drivers.compactMap { Self.follower($0, setup: setup) }
        due = followers.map { _ in nil }
    }

    /// The open interval as the agent sees it.
    struct OpenInterval {
        let number: Int
        let start: Double
        let readings: HouseholdReadings
        let forecast: PriceForecast
        let terms: MarketTerms
        /// The battery that forms the grid this interval (an island, or an outage): not the household's to bid or
        /// drive, even when it is one of its devices.
        let gridForming: DeviceID?
        /// The simulated time this agent asked the conductor for; nil when it needs nothing more this interval.
        var next: Double?
    }

    /// What a message will have the agent read, planned ahead with the rest of its loop's: at an interval start
    /// every device it drives (all but the battery forming the grid), with the scale factors of what the awards
    /// will have it write, so that the awards, at the same instant, need no read of their own; at a grant what the
    /// followers due then look at, and the scale factors of what they write.
    func readAhead(for message: Message) {
        switch message.body {
        case let start as IntervalStart where message.header.sender == Participant.conductor:
            for driver in drivers where driver.setup.id != start.gridForming { driver.readAhead(driver.readings, writing: true) }
        case let awards as Awards where awards.house == setup.house:
            guard let now = current, message.header.interval == now.number else { return }
            for driver in drivers where driver.setup.id != now.gridForming {
                if let follower = followers.first(where: { $0.driver === driver }) { follower.readAhead(at: now.start) } else { driver.readAhead([], writing: true) }
            }
        default:
            guard let time = granted(message), let now = current, message.header.interval == now.number, now.next != nil else { return }
            for (index, follower) in followers.enumerated() where due[index].map({ $0 <= time + 1e-6 }) ?? true { follower.readAhead(at: time) }
        }
    }

    /// The time a message from the conductor grants this household: its own grant, or a shared one naming it.
    private func granted(_ message: Message) -> Double? {
        guard message.header.sender == Participant.conductor else { return nil }
        switch message.body {
        case let grant as TimeGrant: return grant.time
        case let grants as TimeGrants where grants.participants.contains(setup.house.name): return grants.time
        default: return nil
        }
    }

    func handle(_ message: Message, via participant: Participant) throws(BusError) {
        let house = setup.house
        switch message.body {
        case let start as IntervalStart where message.header.sender == Participant.conductor:
            guard let interval = message.header.interval else { return }
            let terms = MarketTerms(priceCap: start.priceCap, interval: start.length)
            let forecast = PriceForecast(history: prices, window: setup.forecastWindow, prior: setup.prior)
            let (readings, telemetry) = read(drivers.filter { $0.setup.id != start.gridForming }, at: start.start, length: start.length)
            current = OpenInterval(number: interval, start: start.start, readings: readings, forecast: forecast, terms: terms,
                                   gridForming: start.gridForming)
            try participant.send(Telemetry(house: house, devices: telemetry), interval: interval)
            let bids = setup.strategies.bids(for: readings, forecast: forecast, terms: terms)
            try participant.send(Bids(house: house, bids: bids.map(WireBid.init)), interval: interval)
        case let awards as Awards where awards.house == house:
            let received = unixTime()
            guard var now = current, message.header.interval == now.number else {
                try participant.reject(.closedInterval, "awards for interval \(message.header.interval ?? -1), not the open one",
                                       about: message.header.sender, topic: message.topic.description, interval: message.header.interval)
                return
            }
            prices.append(awards.price)
            let won = awards.awards.map { award in
                Award(bid: Bid(id: award.id, side: Side(award.side), price: awards.price, quantity: award.quantity), quantity: award.quantity)
            }
            let dispatch = setup.strategies.dispatch(price: awards.price, awards: won, readings: now.readings,
                                                     forecast: now.forecast, terms: now.terms)
            var setpoints = apply(dispatch, drivers.filter { driver in !followers.contains { $0.driver === driver } }, readings: now.readings)
            let end = now.start + now.terms.interval
            due = followers.map { $0.driver.setup.id == now.gridForming ? .infinity : nil }
            for (index, follower) in followers.enumerated() where due[index] == nil {
                let bought = -awards.awards.filter { $0.id == setup.strategies.bidder(follower.driver.setup.kind.bidder) }.netSold
                follower.begin(award: bought, at: now.start, end: end, islanded: now.gridForming != nil)
            }
            let (followed, next) = follow(at: now.start, .awards)
            setpoints += followed
            now.next = next
            current = now
            participant.afterWrites { () throws(BusError) in
                try participant.send(DispatchReport(house: house, awardsReceivedAt: received, setpoints: setpoints.map { $0.outcome.setpoint(of: $0.device) },
                                                    nextTime: next), interval: now.number)
            }
        default:
            guard let time = granted(message), var now = current, message.header.interval == now.number, now.next != nil else { return }
            now.next = follow(at: time, .controlStep).next
            current = now
            participant.afterWrites { () throws(BusError) in try participant.answer(message, next: now.next, interval: now.number) }
        }
    }

    /// The follower of a device whose award is tracked through the interval; nil for one set once per interval
    /// (PV), and for every device of an agent that acts only at interval starts.
    private static func follower(_ driver: DeviceDriver, setup: HouseholdSetup) -> (any AwardFollower)? {
        guard setup.mutation != .intervalStartOnly else { return nil }
        switch driver.setup.kind {
        case .evCharger: return EVFollower(driver: driver, mutation: setup.mutation)
        case .battery: return BatteryFollower(driver: driver, mutation: setup.mutation)
        case .thermostat: return setup.strategies.thermostat.map { ThermostatFollower(driver: driver, comfort: $0, mutation: setup.mutation) }
        case .inverter: return nil
        }
    }

    /// The followers act at `time`. Each names the next time it needs, never later than three quarters of its
    /// product's watchdog after this write, so that the watchdog stays armed (the rest is margin for the product's
    /// own latency and the control step); the agent asks for the earliest.
    /// Only the followers whose time has come act (all of them when `due` is nil, at the awards).
    private func follow(at time: Double, _ occasion: Occasion) -> (setpoints: [PlannedSetpoint], next: Double?) {
        var setpoints: [PlannedSetpoint] = []
        for (index, follower) in followers.enumerated() where due[index].map({ $0 <= time + 1e-6 }) ?? true {
            let (outcome, wanted) = follower.follow(at: time, occasion)
            setpoints.append((follower.driver.setup.id, outcome))
            let refresh = follower.driver.setup.watchdogTimeout.map { time + $0 * 0.75 }
            due[index] = [wanted, refresh].compactMap { $0 }.min()
        }
        return (setpoints, due.compactMap { $0 }.filter(\.isFinite).min())
    }

    /// Reads every device; one that fails is left out of the bids and reported in the telemetry as unavailable.
    private func read(_ drivers: [DeviceDriver], at time: Double, length: Double) -> (HouseholdReadings, [Telemetry.Device]) {
        var readings = HouseholdReadings(baseLoad: setup.baseLoad(from: time, for: length))
        var telemetry: [Telemetry.Device] = []
        for driver in drivers {
            var values: [String: Double] = [:]
            do {
                switch driver.setup.kind {
                case .thermostat:
                    var reading = try driver.thermostat(season: setup.strategies.thermostat?.season ?? .heating)
                    values = ["room_temperature": reading.roomTemperature]
                    if let follower = followers.first(where: { $0.driver === driver }) as? ThermostatFollower {
                        try follower.observe(at: time)
                        reading.runningPower *= follower.available(at: time, room: reading.roomTemperature, length: length)
                    }
                    readings.thermostat = reading
                case .evCharger:
                    let status = try driver.ev(at: time)
                    var reading = status.reading
                    if let follower = followers.first(where: { $0.driver === driver }) as? EVFollower {
                        try follower.observe(status, at: time)
                        reading.maximumCurrent = min(reading.maximumCurrent, max(follower.acceptance ?? .infinity, reading.minimumCurrent))
                    }
                    readings.ev = reading
                    values = ["plugged_in": reading.isPluggedIn ? 1 : 0, "energy_needed": reading.energyNeeded]
                case .battery:
                    var (reading, power) = try driver.battery()
                    values = ["soc": reading.stateOfCharge * 100]
                    let follower = followers.first { $0.driver === driver } as? BatteryFollower
                    follower?.observe(reading, power: power, at: time)
                    if setup.mutation == .batteryIgnoresSoC { reading.stateOfCharge = 0.5 }
                    readings.battery = follower?.obeys == false ? nil : reading
                case .inverter:
                    let reading = try driver.solar()
                    readings.solar = reading
                    values = ["ac_power": reading.availablePower]
                }
                values["available"] = 1
            } catch {
                logger.warning("device unavailable", metadata: ["device": "\(driver.setup.id)", "error": "\(error)"])
                values = ["available": 0]
            }
            telemetry.append(Telemetry.Device(id: driver.setup.id, values: values))
        }
        return (readings, telemetry)
    }

    private func apply(_ dispatch: HouseholdDispatch, _ drivers: [DeviceDriver], readings: HouseholdReadings) -> [PlannedSetpoint] {
        drivers.compactMap { driver in
            let outcome: DispatchOutcome?
            switch driver.setup.kind {
            case .thermostat: outcome = dispatch.thermostat.map { driver.apply($0, at: .awards) }
            case .evCharger: outcome = dispatch.ev.map { driver.apply($0, at: .awards) }
            case .battery: outcome = dispatch.battery.map { driver.apply($0, maximumChargePower: readings.battery?.maximumChargePower ?? 0, at: .awards) }
            case .inverter: outcome = dispatch.solar.map { driver.apply($0, ratedPower: readings.solar?.ratedPower ?? 0) }
            }
            return outcome.map { (driver.setup.id, $0) }
        }
    }
}

extension DeviceSetup.Kind {
    /// The device's name in its household's bidder ids.
    public var bidder: Household.Device {
        switch self {
        case .inverter: .solar
        case .battery: .battery
        case .thermostat: .thermostat
        case .evCharger: .ev
        }
    }
}
