public import Bus
public import Logging
public import Market
import Messages

/// Everything one household's agent needs: its devices, its strategies and what it assumes of prices.
public struct HouseholdSetup: Sendable {
    public var house: String
    public var devices: [DeviceSetup]
    public var strategies: Household
    /// Forecast of the house's unresponsive consumption, kW (bid at the cap).
    public var baseLoad: Double
    /// Price statistics until a full window of clearing prices has been seen (GridLAB-D's init_price, init_stdev).
    public var prior: PriceForecast
    public var forecastWindow: Int

    public init(house: String, devices: [DeviceSetup], strategies: Household, baseLoad: Double,
                prior: PriceForecast = PriceForecast(mean: 0.2, standardDeviation: 0.1), forecastWindow: Int = 288) {
        self.house = house
        self.devices = devices
        self.strategies = strategies
        self.baseLoad = baseLoad
        self.prior = prior
        self.forecastWindow = forecastWindow
    }
}

/// GridRig's reference household agent: like real firmware it reads its devices over Modbus TCP, bids on the bus
/// before gate closure, and writes the setpoints its awards imply back over Modbus, reporting when each landed.
public final class HouseholdAgent: Sendable {
    public let setup: HouseholdSetup
    public let control = ParticipantControl()
    private let context: BusContext
    private let endpoints: BusEndpoints
    private let logger: Logger

    public init(setup: HouseholdSetup, context: BusContext, endpoints: BusEndpoints, logger: Logger) {
        self.setup = setup
        self.context = context
        self.endpoints = endpoints
        self.logger = logger
    }

    /// Joins the bus and serves intervals until stopped or the conductor says goodbye. Blocks; run it on a thread
    /// of its own (its Modbus and ZeroMQ calls block).
    public func run() throws(ParticipantError) {
        let house = setup.house
        let participant = try Participant(name: house, role: "household", context: context, endpoints: endpoints,
                                          topics: ["awards/\(house)"], control: control, logger: logger)
        let drivers = setup.devices.map(DeviceDriver.init)
        var prices: [Double] = []
        var current: (interval: Int, readings: HouseholdReadings, forecast: PriceForecast, terms: MarketTerms)?
        do {
            while let message = try participant.next() {
                switch message.body {
                case .interval(let start) where message.header.sender == Participant.conductor:
                    guard let interval = message.header.interval else { continue }
                    let terms = MarketTerms(priceCap: start.priceCap, interval: start.length)
                    let forecast = PriceForecast(history: prices, window: setup.forecastWindow, prior: setup.prior)
                    let (readings, telemetry) = read(drivers, at: start.start)
                    current = (interval, readings, forecast, terms)
                    try participant.send(.telemetry(Telemetry(house: house, devices: telemetry)), interval: interval)
                    let bids = setup.strategies.bids(for: readings, forecast: forecast, terms: terms)
                    try participant.send(.bids(Bids(house: house, bids: bids.map {
                        WireBid(id: $0.id, side: $0.side.rawValue, price: $0.price, quantity: $0.quantity)
                    })), interval: interval)
                case .awards(let awards) where awards.house == house:
                    let received = unixTime()
                    guard let now = current, message.header.interval == now.interval else {
                        try participant.reject(.closedInterval, "awards for interval \(message.header.interval ?? -1), not the open one",
                                               about: message.header.sender, topic: message.topic)
                        continue
                    }
                    prices.append(awards.price)
                    let won = awards.awards.compactMap { award in
                        Side(rawValue: award.side).map { Award(bid: Bid(id: award.id, side: $0, price: awards.price, quantity: award.quantity), quantity: award.quantity) }
                    }
                    let dispatch = setup.strategies.dispatch(price: awards.price, awards: won, readings: now.readings,
                                                             forecast: now.forecast, terms: now.terms)
                    let setpoints = apply(dispatch, drivers, readings: now.readings)
                    try participant.send(.dispatch(DispatchReport(house: house, awardsReceivedAt: received, setpoints: setpoints)),
                                         interval: now.interval)
                    current = nil
                default:
                    continue
                }
            }
        } catch {
            throw ParticipantError(message: "\(house): \(error)")
        }
    }

    /// Reads every device; one that fails is left out of the bids and reported in the telemetry as unavailable.
    private func read(_ drivers: [DeviceDriver], at time: Double) -> (HouseholdReadings, [Telemetry.Device]) {
        var readings = HouseholdReadings(baseLoad: setup.baseLoad)
        var telemetry: [Telemetry.Device] = []
        for driver in drivers {
            var values: [String: Double] = [:]
            do {
                switch driver.setup.kind {
                case .thermostat:
                    let reading = try driver.thermostat(season: setup.strategies.thermostat?.season ?? .heating)
                    readings.thermostat = reading
                    values = ["room_temperature": reading.roomTemperature]
                case .evCharger:
                    let reading = try driver.ev(at: time)
                    readings.ev = reading
                    values = ["plugged_in": reading.isPluggedIn ? 1 : 0, "energy_needed": reading.energyNeeded]
                case .battery:
                    let reading = try driver.battery()
                    readings.battery = reading
                    values = ["soc": reading.stateOfCharge * 100]
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

    private func apply(_ dispatch: HouseholdDispatch, _ drivers: [DeviceDriver], readings: HouseholdReadings) -> [DispatchReport.Setpoint] {
        drivers.compactMap { driver in
            let outcome: DispatchOutcome?
            switch driver.setup.kind {
            case .thermostat: outcome = dispatch.thermostat.map(driver.apply)
            case .evCharger: outcome = dispatch.ev.map(driver.apply)
            case .battery: outcome = dispatch.battery.map { driver.apply($0, maximumChargePower: readings.battery?.maximumChargePower ?? 0) }
            case .inverter: outcome = dispatch.solar.map { driver.apply($0, ratedPower: readings.solar?.ratedPower ?? 0) }
            }
            return outcome.map { DispatchReport.Setpoint(id: driver.setup.id, name: $0.name, value: $0.value, landedAt: $0.landedAt, error: $0.error) }
        }
    }
}
