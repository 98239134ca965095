import Market
import Physics
import Testing

/// A hot, clear day in a neighborhood of four houses, with the physics and the market in one pure loop (no
/// Modbus, no bus): h0 has a large PV array and a battery and sells; h1-h3 have a heat pump in cooling and an EV
/// charger and buy. Each 5-minute interval the households bid from what their devices show, the market clears with
/// the utility behind the PCC (imports at 0.30, exports at 0.05 $/kWh), the awards become setpoints, and the
/// physics runs the interval in 30-second steps.
private struct NeighborhoodDay {
    struct Home {
        var name: HouseID
        var baseLoad: BaseLoad
        var house: House?
        var room: HouseState?
        var session: VehicleSession?
        var charger: EVChargerState?
        var thermostat: ThermostatSetpoint = ThermostatSetpoint(mode: .cool, heat: 15, cool: 24, deadband: 1)
        var evSetpoint = EVChargerSetpoint(currentLimit: 32)
    }

    /// One interval as it ran.
    struct Interval {
        var start: Double
        var price: Double?
        var coolingSetpoints: [Double]
        /// Mean power over the interval, kW: the EVs', the battery's (+ discharge).
        var evPower: Double
        var batteryPower: Double
        /// Energy over the interval, kWh.
        var solar: Double
        var export: Double
        var `import`: Double
    }

    static let interval = 300.0
    static let step = 30.0
    let weather = DayCurve.clear(peakIrradiance: 950, low: 22, high: 34)
    let terms = MarketTerms(priceCap: 1.0, interval: interval)
    let grid = GridTie(importTariff: 0.30, exportTariff: 0.05, importLimit: 60, exportLimit: 60)
    let charger = EVCharger(ratings: EVChargerRatings())
    let battery: Battery = {
        var ratings = BatteryRatings()
        ratings.capacity = 13_500
        return Battery(ratings: ratings)
    }()
    let inverter: PVInverter = {
        var ratings = PVInverterRatings()
        ratings.arrayPeakPower = 16_000
        ratings.ratedPower = 12_000
        return PVInverter(ratings: ratings)
    }()

    var homes: [Home]
    var batteryState: BatteryState
    var pvState = PVInverterState()
    /// Each vehicle's SoC when last seen plugged in: at the end of the day, its SoC at departure.
    var departureSoC: [HouseID: Double] = [:]

    init() {
        func vehicle(arrival: Double, departure: Double, initialSoC: Double, phases: Int) -> VehicleSession {
            var session = VehicleSession(arrival: arrival * 3600, departure: departure * 3600)
            session.initialSoC = initialSoC
            session.phases = phases
            return session
        }
        let sessions = [vehicle(arrival: 9, departure: 17, initialSoC: 0.75, phases: 3),
                        vehicle(arrival: 10, departure: 16, initialSoC: 0.8, phases: 1),
                        vehicle(arrival: 18, departure: 23.9, initialSoC: 0.7, phases: 3)]
        homes = [Home(name: "h0", baseLoad: BaseLoad(mean: 500))]
        for (k, session) in sessions.enumerated() {
            homes.append(Home(name: HouseID(checked: "h\(k + 1)"), baseLoad: BaseLoad(mean: 400 + 100 * Double(k)), house: House(ratings: HouseRatings()),
                              room: HouseState(roomTemperature: 24), session: session, charger: EVChargerState()))
        }
        batteryState = battery.initialState(stateOfCharge: 0.3)
    }

    static let comfort = ThermostatStrategy(season: .cooling, setpoint: 24, comfortBelow: 2, comfortAbove: 2, ramp: 2)

    func households() -> [Household] {
        homes.map { home in
            home.house == nil
                ? Household(id: home.name, battery: BatteryStrategy(), solar: SolarStrategy())
                : Household(id: home.name, thermostat: Self.comfort, ev: EVStrategy())
        }
    }

    /// What each household's agent would read over Modbus at `time`.
    func readings(at time: Double) -> [HouseholdReadings] {
        homes.map { home in
            var readings = HouseholdReadings(baseLoad: home.baseLoad.power(at: time) / 1000)
            if let house = home.house, let room = home.room {
                let running = house.ratings.coolingCapacity / house.ratings.coolingCOP + house.ratings.fanPower
                readings.thermostat = ThermostatReading(roomTemperature: room.roomTemperature, runningPower: running / 1000)
            }
            if let session = home.session, let state = home.charger {
                let stored = state.pilot == .a ? session.initialSoC * session.batteryCapacity : state.vehicleEnergy
                let needed = max(0, session.targetSoC * session.batteryCapacity - stored) / session.chargingEfficiency / 1000
                let plugged = time >= session.arrival && time < session.departure
                readings.ev = EVReading(isPluggedIn: plugged, energyNeeded: needed, timeToDeparture: session.departure - time,
                                        minimumCurrent: charger.ratings.minimumCurrent,
                                        maximumCurrent: min(charger.ratings.maxCurrent, session.maxCurrent),
                                        phases: min(charger.ratings.phases, session.phases), voltage: charger.ratings.voltage)
            }
            if home.house == nil {
                let ratings = battery.ratings
                readings.battery = BatteryReading(stateOfCharge: batteryState.stateOfCharge(ratings), capacity: ratings.capacity / 1000,
                                                  maximumChargePower: ratings.maxChargePower / 1000,
                                                  maximumDischargePower: ratings.maxDischargePower / 1000,
                                                  minimumSoC: ratings.minimumSoC, maximumSoC: ratings.maximumSoC,
                                                  roundTripEfficiency: ratings.roundTripEfficiency)
                let available = inverter.step(pvState, applying: PVInverterSetpoint(), for: 0, weather: weather.weather(at: time)).availablePower
                readings.solar = SolarReading(availablePower: available / 1000, ratedPower: inverter.ratings.ratedPower / 1000)
            }
            return readings
        }
    }

    /// Runs the day under the market (`controlled`) or with every device on its own defaults: thermostats at a
    /// fixed 24 °C, EVs at full current from arrival, the battery covering its own house's surplus and deficit.
    mutating func run(controlled: Bool) -> [Interval] {
        var prices: [Double] = []
        var log: [Interval] = []
        // Yesterday's statistics until a day of prices has been seen (GridLAB-D's init_price and init_stdev).
        let prior = PriceForecast(mean: 0.2, standardDeviation: 0.1)
        var batterySetpoint = 0.0
        for start in stride(from: 0.0, to: 86_400, by: Self.interval) {
            var price: Double?
            if controlled {
                let forecast = PriceForecast(history: prices, window: 288, prior: prior)
                let households = households()
                let readings = readings(at: start)
                var bids = grid.bids(terms: terms)
                for (household, reading) in zip(households, readings) { bids += household.bids(for: reading, forecast: forecast, terms: terms) }
                let book = OrderBook(priceCap: terms.priceCap, bids: bids)
                let clearing = book.clear()
                #expect(clearing.violations(of: book).isEmpty)
                prices.append(clearing.price)
                price = clearing.price
                for (k, (household, reading)) in zip(households, readings).enumerated() {
                    let dispatch = household.dispatch(price: clearing.price, awards: clearing.awards, readings: reading, forecast: forecast, terms: terms)
                    if let setpoint = dispatch.thermostat?.setpoint { homes[k].thermostat.cool = setpoint }
                    if let ev = dispatch.ev { homes[k].evSetpoint = EVChargerSetpoint(currentLimit: ev.currentLimit) }
                    if let power = dispatch.battery?.power { batterySetpoint = power * 1000 }
                }
            }
            var entry = Interval(start: start, price: price, coolingSetpoints: homes.compactMap { $0.house == nil ? nil : $0.thermostat.cool },
                                 evPower: 0, batteryPower: 0, solar: 0, export: 0, import: 0)
            for time in stride(from: start, to: start + Self.interval, by: Self.step) {
                let weather = self.weather.weather(at: time)
                var load = 0.0
                for k in homes.indices {
                    load += homes[k].baseLoad.power(at: time)
                    if let house = homes[k].house, let room = homes[k].room {
                        homes[k].room = house.step(room, applying: homes[k].thermostat, for: Self.step, weather: weather)
                        load += homes[k].room!.electricPower
                    }
                    if let state = homes[k].charger {
                        homes[k].charger = charger.step(state, applying: homes[k].evSetpoint, at: time, for: Self.step, session: homes[k].session)
                        load += homes[k].charger!.power
                        if let session = homes[k].session, homes[k].charger!.pilot != .a {
                            departureSoC[homes[k].name] = homes[k].charger!.vehicleSoC(session)
                        }
                        entry.evPower += homes[k].charger!.power / 1000 * Self.step / Self.interval
                    }
                }
                pvState = inverter.step(pvState, applying: PVInverterSetpoint(), for: Self.step, weather: weather)
                if !controlled {  // self-consumption of h0: cover its own base load from PV and the battery
                    batterySetpoint = homes[0].baseLoad.power(at: time) - pvState.acPower
                }
                batteryState = battery.step(batteryState, toward: batterySetpoint, for: Self.step)
                let net = load - pvState.acPower - batteryState.power
                let hours = Self.step / 3600
                entry.solar += pvState.acPower / 1000 * hours
                entry.export += max(0, -net) / 1000 * hours
                entry.import += max(0, net) / 1000 * hours
                entry.batteryPower += batteryState.power / 1000 * Self.step / Self.interval
            }
            log.append(entry)
        }
        return log
    }

    /// Share of the solar energy used inside the neighborhood rather than exported.
    static func selfConsumption(_ log: [Interval]) -> Double {
        let solar = log.reduce(0) { $0 + $1.solar }, export = log.reduce(0) { $0 + $1.export }
        return (solar - export) / solar
    }
}

@Suite("A neighborhood day under the market (pure, no I/O)")
struct NeighborhoodDayTests {
    @Test("Midday solar pre-cools, charges the EVs and fills the battery; the battery discharges in the evening; self-consumption rises")
    func theOutcomeTheProjectExistsFor() {
        var controlledDay = NeighborhoodDay(), baselineDay = NeighborhoodDay()
        let controlled = controlledDay.run(controlled: true)
        let baseline = baselineDay.run(controlled: false)
        let midday = controlled.filter { $0.start >= 11 * 3600 && $0.start < 15 * 3600 }
        let evening = controlled.filter { $0.start >= 18 * 3600 && $0.start < 22 * 3600 }

        #expect(midday.contains { $0.coolingSetpoints.contains { $0 < 24 } }, "no thermostat pre-cooled at midday")
        #expect(midday.contains { $0.evPower > 1 }, "no EV charged at midday")
        #expect(midday.contains { $0.batteryPower < -1 }, "the battery did not store at midday")
        #expect(evening.contains { $0.batteryPower > 1 }, "the battery did not discharge in the evening")

        let with = NeighborhoodDay.selfConsumption(controlled), without = NeighborhoodDay.selfConsumption(baseline)
        #expect(with > without, "self-consumption \(with) under the market, \(without) without control")

        // The market kept its promises to the occupants and drivers too.
        for home in controlledDay.homes {
            guard let session = home.session else { continue }
            let soc = controlledDay.departureSoC[home.name] ?? 0
            #expect(soc >= session.targetSoC - 0.01, "\(home.name)'s vehicle left with SoC \(soc)")
        }
    }

    @Test("The day replays exactly: the same inputs give the same prices")
    func determinism() {
        var first = NeighborhoodDay(), second = NeighborhoodDay()
        #expect(first.run(controlled: true).map(\.price) == second.run(controlled: true).map(\.price))
    }
}
