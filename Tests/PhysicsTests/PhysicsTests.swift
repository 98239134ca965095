import Physics
import Testing

@Suite("PV inverter")
struct PVInverterTests {
    let inverter = PVInverter(ratings: PVInverterRatings())

    @Test("Over a day, the energy counter equals the integrated AC output, and output never exceeds what the sun gives")
    func conservesEnergy() {
        var state = PVInverterState()
        let start = state.lifetimeEnergy
        var integrated = 0.0
        for second in stride(from: 0.0, to: 86_400, by: 10) {
            state = inverter.step(state, applying: .init(), for: 10, weather: DayCurve.clear().weather(at: second))
            integrated += state.acPower * 10 / 3600
            #expect(state.acPower <= state.availablePower + 1e-9)
            #expect(state.acPower <= inverter.ratings.ratedPower)
            #expect(state.acPower <= state.dcPower + 1e-9)
        }
        #expect(abs(state.lifetimeEnergy - start - integrated) < 1e-6)
        #expect(integrated > 20_000)  // a clear day's yield of a 6 kWp array, Wh
    }

    @Test("A power limit makes the output ramp down at the ramp rate, then hold the limit")
    func rampsToLimit() {
        var state = PVInverterState()
        let noon = Weather(irradiance: 950, outdoorTemperature: 25)
        for _ in 0..<60 { state = inverter.step(state, applying: .init(), for: 1, weather: noon) }
        let full = state.acPower
        let limit = PVInverterSetpoint(powerLimit: 1000)
        state = inverter.step(state, applying: limit, for: 1, weather: noon)
        #expect(abs(full - state.acPower - inverter.ratings.rampRate * inverter.ratings.ratedPower) < 1e-6)
        #expect(state.status == .throttled)
        for _ in 0..<30 { state = inverter.step(state, applying: limit, for: 1, weather: noon) }
        #expect(abs(state.acPower - 1000) < 1e-6)
    }

    @Test("Disconnected, the inverter gives nothing and reports standby")
    func disconnects() {
        var state = PVInverterState()
        for _ in 0..<30 { state = inverter.step(state, applying: .init(isConnected: false), for: 1, weather: .init(irradiance: 900, outdoorTemperature: 20)) }
        #expect(state.acPower == 0)
        #expect(state.status == .standby)
    }
}

@Suite("Battery")
struct BatteryTests {
    let battery = Battery(ratings: BatteryRatings())

    @Test("Stored energy changes by exactly the AC energy in and out through the one-way efficiencies", arguments: 0..<20 as Range<UInt64>)
    func conservesEnergy(seed: UInt64) {
        var random = SplitMix64(seed: seed)
        var state = battery.initialState(stateOfCharge: 0.5)
        let start = state.stored
        for _ in 0..<2000 {
            let setpoint = Double.random(in: -7000...7000, using: &random)
            state = battery.step(state, toward: setpoint, for: Double.random(in: 1...120, using: &random))
            let soc = state.stateOfCharge(battery.ratings)
            #expect(soc >= battery.ratings.minimumSoC - 1e-9 && soc <= battery.ratings.maximumSoC + 1e-9)
            #expect(state.power >= -battery.ratings.maxChargePower && state.power <= battery.ratings.maxDischargePower)
        }
        let efficiency = battery.ratings.oneWayEfficiency
        let expected = start + state.chargedEnergy * efficiency - state.dischargedEnergy / efficiency
        #expect(abs(state.stored - expected) < 1e-6)
    }

    @Test("A charge setpoint moves the state of charge up, ramping, and stops at the top of the window")
    func charges() {
        var state = battery.initialState(stateOfCharge: 0.9)
        state = battery.step(state, toward: -5000, for: 1)
        #expect(state.power == -battery.ratings.rampRate)
        for _ in 0..<3600 { state = battery.step(state, toward: -5000, for: 1) }
        #expect(abs(state.stateOfCharge(battery.ratings) - battery.ratings.maximumSoC) < 1e-9)
        #expect(battery.chargeStatus(battery.step(state, toward: -5000, for: 1)) != .discharging)
    }
}

@Suite("House and thermostat")
struct HouseTests {
    let house = House(ratings: HouseRatings())

    @Test("Heat stored in the thermal mass equals heat gained minus heat lost over a long run")
    func conservesHeat() {
        var state = HouseState(roomTemperature: 18)
        let start = state.roomTemperature
        let setpoint = ThermostatSetpoint(mode: .auto, heat: 20, cool: 24)
        for minute in 0..<(3 * 1440) {
            state = house.step(state, applying: setpoint, for: 60, weather: DayCurve.clear().weather(at: Double(minute) * 60))
        }
        let stored = house.ratings.thermalCapacitance * (state.roomTemperature - start)
        #expect(abs(stored - (state.heatGained - state.heatLost)) < 1e-3 * abs(state.heatGained))
    }

    @Test("In heat mode the room settles around the setpoint within the deadband and short-cycle overshoot")
    func holdsSetpoint() {
        var state = HouseState(roomTemperature: 15)
        let setpoint = ThermostatSetpoint(mode: .heat, heat: 21, cool: 26)
        let cold = Weather(irradiance: 0, outdoorTemperature: 2)
        for _ in 0..<(6 * 60) { state = house.step(state, applying: setpoint, for: 60, weather: cold) }
        for _ in 0..<(6 * 60) {
            state = house.step(state, applying: setpoint, for: 60, weather: cold)
            #expect(state.roomTemperature > 19.5 && state.roomTemperature < 22.5)
        }
        #expect(state.electricEnergy > 0)
    }

    @Test("Off means no electric power once the compressor may stop")
    func off() {
        var state = HouseState(roomTemperature: 25)
        for _ in 0..<10 { state = house.step(state, applying: .init(mode: .off), for: 60, weather: .init(irradiance: 0, outdoorTemperature: 30)) }
        #expect(state.electricPower == 0)
        #expect(state.action == .off)
    }
}

@Suite("EV charger and vehicle")
struct EVChargerTests {
    let charger = EVCharger(ratings: EVChargerRatings())

    func session() -> VehicleSession {
        var session = VehicleSession(arrival: 0, departure: 12 * 3600)
        session.maxCurrent = 16
        return session
    }

    @Test("The pilot goes A, then C2 charging; energy delivered equals the integrated power")
    func charges() {
        var state = EVChargerState()
        state = charger.step(state, applying: .init(currentLimit: 16), at: -10, for: 1, session: session())
        #expect(state.pilot == .a)
        var integrated = 0.0
        for second in 0..<3600 {
            state = charger.step(state, applying: .init(currentLimit: 16), at: Double(second), for: 1, session: session())
            integrated += state.power / 3600
        }
        #expect(state.pilot == .c2)
        #expect(abs(state.current - 16) < 1e-9)
        #expect(abs(state.sessionEnergy - integrated) < 1e-6)
        #expect(abs(state.vehicleEnergy - (session().initialSoC * session().batteryCapacity + 0.92 * integrated)) < 1e-6)
    }

    @Test("Below 6 A the PWM stops and the vehicle stops drawing within the response delay (C1)")
    func stopsBelowMinimum() {
        var state = EVChargerState()
        for second in 0..<30 { state = charger.step(state, applying: .init(currentLimit: 16), at: Double(second), for: 1, session: session()) }
        for second in 30..<35 { state = charger.step(state, applying: .init(currentLimit: 4), at: Double(second), for: 1, session: session()) }
        #expect(state.current == 0)
        #expect(state.pilot == .c1)
    }

    @Test("PWM changes are at least 5 s apart, and the vehicle follows 3 s later")
    func pwmInterval() {
        var state = EVChargerState()
        for second in 0..<30 { state = charger.step(state, applying: .init(currentLimit: 16), at: Double(second), for: 1, session: session()) }
        state = charger.step(state, applying: .init(currentLimit: 10), at: 30, for: 1, session: session())
        #expect(state.offeredCurrent == 10)
        #expect(state.current == 16)
        state = charger.step(state, applying: .init(currentLimit: 8), at: 31, for: 1, session: session())
        #expect(state.offeredCurrent == 10)
        for second in 32..<35 { state = charger.step(state, applying: .init(currentLimit: 8), at: Double(second), for: 1, session: session()) }
        #expect(state.current == 10)
        for second in 35..<40 { state = charger.step(state, applying: .init(currentLimit: 8), at: Double(second), for: 1, session: session()) }
        #expect(state.offeredCurrent == 8)
    }

    @Test("Near full the vehicle's current tapers; it never overfills; after departure the pilot is A again")
    func taperAndDeparture() {
        var session = session()
        session.initialSoC = 0.85
        session.targetSoC = 1.0
        var state = EVChargerState()
        var time = 0.0
        while time < session.departure - 60 {
            state = charger.step(state, applying: .init(currentLimit: 32), at: time, for: 60, session: session)
            #expect(state.vehicleEnergy <= session.batteryCapacity + 1e-6)
            time += 60
        }
        #expect(state.current < 16)
        state = charger.step(state, applying: .init(currentLimit: 32), at: session.departure, for: 60, session: session)
        #expect(state.pilot == .a)
        #expect(state.power == 0)
    }
}

@Suite("Site meter and weather")
struct SiteMeterTests {
    @Test("Imported minus exported energy equals the integrated net load; the same seed gives the same readings")
    func conservesAndReplays() {
        let meter = SiteMeter(ratings: SiteMeterRatings())
        func run(seed: UInt64) -> SiteMeterState {
            var state = SiteMeterState(ratings: meter.ratings, seed: seed)
            var random = SplitMix64(seed: 7)
            for _ in 0..<5000 { state = meter.step(state, netLoad: Double.random(in: -6000...8000, using: &random), for: 5) }
            return state
        }
        var state = SiteMeterState(ratings: meter.ratings, seed: 1)
        let imported = state.importedEnergy, exported = state.exportedEnergy
        var random = SplitMix64(seed: 7)
        var integrated = 0.0
        for _ in 0..<5000 {
            let load = Double.random(in: -6000...8000, using: &random)
            state = meter.step(state, netLoad: load, for: 5)
            integrated += load * 5 / 3600
        }
        #expect(abs((state.importedEnergy - imported) - (state.exportedEnergy - exported) - integrated) < 1e-6)
        #expect(run(seed: 3) == run(seed: 3))
        #expect(run(seed: 3).voltage != run(seed: 4).voltage)
    }

    @Test("A clear day has sun only between 06:00 and 18:00; a cloudy day gives less and replays under its seed")
    func weather() {
        #expect(DayCurve.clear().weather(at: 3 * 3600).irradiance == 0)
        #expect(DayCurve.clear().weather(at: 12 * 3600).irradiance > 900)
        let cloudy = DayCurve.cloudy(seed: 5)
        #expect(cloudy.weather(at: 12 * 3600).irradiance < DayCurve.clear().weather(at: 12 * 3600).irradiance)
        #expect(cloudy.weather(at: 13 * 3600) == DayCurve.cloudy(seed: 5).weather(at: 13 * 3600))
    }

    @Test("The base load's daily mean is its nominal mean")
    func baseLoadMean() {
        let load = BaseLoad(mean: 500)
        let mean = stride(from: 0.0, to: 86_400, by: 60).map(load.power(at:)).reduce(0, +) / 1440
        #expect(abs(mean - 500) < 5)
    }
}

@Suite("Measured weather")
struct WeatherSeriesTests {
    @Test("A series interpolates between samples and wraps over midnight")
    func interpolatesAndWraps() {
        let curve = DayCurve.series([(6 * 3600, Weather(irradiance: 0, outdoorTemperature: 10)),
                                     (12 * 3600, Weather(irradiance: 800, outdoorTemperature: 30)),
                                     (18 * 3600, Weather(irradiance: 0, outdoorTemperature: 20))])
        #expect(curve.weather(at: 9 * 3600) == Weather(irradiance: 400, outdoorTemperature: 20))
        #expect(curve.weather(at: 12 * 3600) == Weather(irradiance: 800, outdoorTemperature: 30))
        // 18:00 to 06:00 the next day: 20 °C to 10 °C over 12 hours, so midnight is half-way.
        #expect(curve.weather(at: 0) == Weather(irradiance: 0, outdoorTemperature: 15))
        #expect(curve.weather(at: 86_400 + 9 * 3600) == curve.weather(at: 9 * 3600))
    }
}
