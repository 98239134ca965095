import Market
import Physics
import Testing

private let terms = MarketTerms(priceCap: 1.0, interval: 300)

private func randomForecast(_ rng: inout SplitMix64) -> PriceForecast {
    PriceForecast(mean: Double.random(in: 0...0.5, using: &rng), standardDeviation: Double.random(in: 0...0.3, using: &rng))
}

/// A device's bids are valid in a book of their own and at most one per side.
private func expectValid(_ bids: [Bid], seed: UInt64) {
    #expect(throws: Never.self, "seed \(seed)") { try OrderBook(priceCap: terms.priceCap, bids: bids).validate() }
    #expect(Set(bids.map(\.side)).count == bids.count, "seed \(seed): two bids on one side")
}

@Suite("Bidding strategies keep their devices' limits (seeded)")
struct StrategyLimitTests {
    static let seeds = Array(0..<300 as Range<UInt64>)

    @Test("Thermostat: one bid of its running power; the setpoint stays in the comfort band and follows the price", arguments: seeds)
    func thermostat(seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        let strategy = ThermostatStrategy(season: Bool.random(using: &rng) ? .cooling : .heating,
                                          setpoint: Double.random(in: 18...26, using: &rng),
                                          comfortBelow: Double.random(in: 0...3, using: &rng), comfortAbove: Double.random(in: 0...3, using: &rng),
                                          ramp: Double.random(in: 0...4, using: &rng))
        let reading = ThermostatReading(roomTemperature: Double.random(in: 10...35, using: &rng), runningPower: Double.random(in: 0.5...5, using: &rng))
        let forecast = randomForecast(&rng)
        let bids = strategy.bids(for: reading, bidder: "h/thermostat", forecast: forecast, terms: terms)
        expectValid(bids, seed: seed)
        #expect(bids.allSatisfy { $0.side == .buy && $0.quantity == reading.runningPower })
        let prices = (0..<5).map { _ in Double.random(in: 0...terms.priceCap, using: &rng) }.sorted()
        let setpoints = prices.map { strategy.setpoint(for: reading, award: DeviceAward(price: $0), forecast: forecast, terms: terms).setpoint }
        for setpoint in setpoints {
            #expect(setpoint >= strategy.setpoint - strategy.comfortBelow - 1e-9 && setpoint <= strategy.setpoint + strategy.comfortAbove + 1e-9, "seed \(seed)")
        }
        // Dearer energy never asks for more cooling (a lower cooling setpoint) or more heating (a higher heating one).
        let ordered = strategy.season == .cooling ? setpoints : setpoints.reversed()
        #expect(zip(ordered, ordered.dropFirst()).allSatisfy { $0 <= $1 + 1e-12 }, "seed \(seed): \(setpoints)")
    }

    @Test("Thermostat: a room at the band edge that needs running bids the cap; past the other edge it does not bid")
    func thermostatBandEdges() {
        let strategy = ThermostatStrategy(season: .cooling, setpoint: 24, comfortBelow: 2, comfortAbove: 2, ramp: 2)
        let forecast = PriceForecast(mean: 0.2, standardDeviation: 0.1)
        #expect(strategy.bids(for: ThermostatReading(roomTemperature: 26.5, runningPower: 2), bidder: "t", forecast: forecast, terms: terms).first?.price == 1.0)
        #expect(strategy.bids(for: ThermostatReading(roomTemperature: 21.5, runningPower: 2), bidder: "t", forecast: forecast, terms: terms).isEmpty)
        // Half-way up the band: mean + ramp × σ × 1/2.
        let midway = strategy.bids(for: ThermostatReading(roomTemperature: 25, runningPower: 2), bidder: "t", forecast: forecast, terms: terms)
        #expect(abs((midway.first?.price ?? 0) - 0.3) < 1e-12)
        // Cheap energy pre-cools, dear energy lets the room drift: the setpoint moves where the ramp meets the price.
        #expect(strategy.setpoint(for: .init(roomTemperature: 24, runningPower: 2), award: DeviceAward(price: 0.1), forecast: forecast, terms: terms).setpoint == 23)
        #expect(strategy.setpoint(for: .init(roomTemperature: 24, runningPower: 2), award: DeviceAward(price: 0.9), forecast: forecast, terms: terms).setpoint == 26)
        let heating = ThermostatStrategy(season: .heating, setpoint: 20)
        #expect(heating.setpoint(for: .init(roomTemperature: 20, runningPower: 2), award: DeviceAward(price: 0.1), forecast: forecast, terms: terms).setpoint == 21)
    }

    @Test("EV charger: a bid within the charger's power range; the current is 0 or within its range, never above the bid, nearest the award", arguments: seeds)
    func evCharger(seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        let strategy = EVStrategy(mustCharge: Double.random(in: 0.5...1, using: &rng), ramp: Double.random(in: 0...3, using: &rng))
        let reading = EVReading(isPluggedIn: Int.random(in: 0..<6, using: &rng) != 0,
                                energyNeeded: Double.random(in: 0...60, using: &rng),
                                timeToDeparture: Double.random(in: -600...36_000, using: &rng),
                                minimumCurrent: 6, maximumCurrent: Double.random(in: 6...32, using: &rng),
                                phases: Bool.random(using: &rng) ? 1 : 3, voltage: 230)
        let forecast = randomForecast(&rng)
        let bids = strategy.bids(for: reading, bidder: "h/ev", forecast: forecast, terms: terms)
        expectValid(bids, seed: seed)
        if !reading.isPluggedIn || reading.energyNeeded == 0 { #expect(bids.isEmpty) }
        for bid in bids {
            // The interval's average power: at most the charger's maximum, and no more than the vehicle still needs.
            #expect(bid.side == .buy && bid.quantity > 0 && bid.quantity <= reading.maximumPower + 1e-9, "seed \(seed)")
            #expect(bid.quantity <= reading.energyNeeded / (terms.interval / 3600) + 1e-9, "seed \(seed)")
            let award = DeviceAward(price: 0.1, bought: bid.quantity * Double.random(in: 0...1, using: &rng))
            let current = strategy.setpoint(for: reading, award: award, forecast: forecast, terms: terms).currentLimit
            #expect(current == 0 || (current >= reading.minimumCurrent && current <= reading.maximumCurrent), "seed \(seed): \(current) A")
            let power = current * reading.voltage * Double(reading.phases) / 1000
            #expect(power <= max(bid.quantity, reading.minimumPower) + 1e-9, "seed \(seed)")
            #expect(abs(power - award.bought) <= reading.minimumPower / 2 + 1e-9, "seed \(seed): \(power) kW for an award of \(award.bought)")
        }
    }

    @Test("EV charger: the bid rises with urgency and becomes price-taking near the deadline")
    func evUrgency() {
        let strategy = EVStrategy(mustCharge: 0.9, ramp: 1)
        let forecast = PriceForecast(mean: 0.2, standardDeviation: 0.1)
        func price(hoursLeft: Double) -> Double? {
            // 11.04 kW at 16 A × 3 × 230 V; 22.08 kWh needs two hours.
            strategy.bids(for: EVReading(isPluggedIn: true, energyNeeded: 22.08, timeToDeparture: hoursLeft * 3600),
                          bidder: "ev", forecast: forecast, terms: terms).first?.price
        }
        #expect(price(hoursLeft: 2.1) == 1.0)
        let relaxed = price(hoursLeft: 20) ?? 1, tighter = price(hoursLeft: 4) ?? 0
        #expect(relaxed < tighter && tighter < 1.0)
        #expect(abs(relaxed - (0.2 + 0.1 * (2 * 0.1 / 0.9 - 1))) < 1e-12)
    }

    @Test("Battery: bids within power and SoC room, sell above buy; the setpoint never beyond the award or the limits", arguments: seeds)
    func battery(seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        let strategy = BatteryStrategy(ramp: Double.random(in: 0...3, using: &rng))
        let minimum = Double.random(in: 0...0.3, using: &rng)
        let reading = BatteryReading(stateOfCharge: Double.random(in: minimum...1, using: &rng), capacity: Double.random(in: 1...20, using: &rng),
                                     maximumChargePower: Double.random(in: 0.5...10, using: &rng), maximumDischargePower: Double.random(in: 0.5...10, using: &rng),
                                     minimumSoC: minimum, maximumSoC: 1, roundTripEfficiency: Double.random(in: 0.7...1, using: &rng))
        let forecast = randomForecast(&rng)
        let bids = strategy.bids(for: reading, bidder: "h/battery", forecast: forecast, terms: terms)
        expectValid(bids, seed: seed)
        let hours = terms.interval / 3600
        let efficiency = reading.roundTripEfficiency.squareRoot()
        let buy = bids.first { $0.side == .buy }, sell = bids.first { $0.side == .sell }
        if let buy {
            #expect(buy.quantity <= reading.maximumChargePower + 1e-9)
            #expect(reading.stateOfCharge * reading.capacity + buy.quantity * hours * efficiency <= reading.maximumSoC * reading.capacity + 1e-9)
        }
        if let sell {
            #expect(sell.quantity <= reading.maximumDischargePower + 1e-9)
            #expect(reading.stateOfCharge * reading.capacity - sell.quantity * hours / efficiency >= reading.minimumSoC * reading.capacity - 1e-9)
        }
        if let buy, let sell { #expect(sell.price > buy.price, "seed \(seed)") }
        let award = DeviceAward(price: 0.2, bought: (buy?.quantity ?? 0) * Double.random(in: 0...1, using: &rng),
                                sold: Bool.random(using: &rng) ? 0 : (sell?.quantity ?? 0) * Double.random(in: 0...1, using: &rng))
        let power = strategy.setpoint(for: reading, award: award, forecast: forecast, terms: terms).power
        #expect(power >= -reading.maximumChargePower - 1e-9 && power <= reading.maximumDischargePower + 1e-9)
        #expect(power <= award.sold + 1e-12 && -power <= award.bought + 1e-12, "seed \(seed)")
    }

    @Test("Battery: an empty battery values energy above a full one")
    func batteryValueFollowsSoC() {
        let strategy = BatteryStrategy()
        let forecast = PriceForecast(mean: 0.2, standardDeviation: 0.1)
        func bid(_ soc: Double, _ side: Side) -> Double? {
            strategy.bids(for: BatteryReading(stateOfCharge: soc), bidder: "b", forecast: forecast, terms: terms).first { $0.side == side }?.price
        }
        #expect((bid(0.2, .buy) ?? 0) > (bid(0.8, .buy) ?? 1))
        #expect((bid(0.2, .sell) ?? 0) > (bid(0.8, .sell) ?? 1))
        #expect(bid(1.0, .buy) == nil && bid(0.05, .sell) == nil)
    }

    @Test("Solar: offers at most what is available within its rating; curtails to the award only when it may not export", arguments: seeds)
    func solar(seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        let strategy = SolarStrategy(offerPrice: Double.random(in: 0...0.05, using: &rng), mayExport: Bool.random(using: &rng))
        let reading = SolarReading(availablePower: Double.random(in: 0...6, using: &rng), ratedPower: 5)
        let bids = strategy.bids(for: reading, bidder: "h/solar", forecast: randomForecast(&rng), terms: terms)
        expectValid(bids, seed: seed)
        #expect(bids.allSatisfy { $0.side == .sell && $0.quantity <= min(reading.availablePower, reading.ratedPower) })
        let sold = (bids.first?.quantity ?? 0) * Double.random(in: 0...1, using: &rng)
        let limit = strategy.setpoint(for: reading, award: DeviceAward(price: 0.1, sold: sold), forecast: randomForecast(&rng), terms: terms).powerLimit
        if strategy.mayExport { #expect(limit == nil) } else if let limit { #expect(limit <= sold + 1e-12 && limit >= 0) }
    }
}

@Suite("Households")
struct HouseholdTests {
    @Test("A household's dispatch never draws or gives more than its bids, nor more than its awards beyond an EV's minimum step (seeded)", arguments: Array(0..<200 as Range<UInt64>))
    func dispatchWithinAwards(seed: UInt64) throws {
        var rng = SplitMix64(seed: seed)
        let house = Household(id: "h1", thermostat: ThermostatStrategy(season: .cooling, setpoint: 24), ev: EVStrategy(),
                              battery: BatteryStrategy(), solar: SolarStrategy(mayExport: false))
        let readings = HouseholdReadings(
            thermostat: ThermostatReading(roomTemperature: Double.random(in: 20...28, using: &rng), runningPower: 1.8),
            ev: EVReading(isPluggedIn: true, energyNeeded: Double.random(in: 0...40, using: &rng), timeToDeparture: Double.random(in: 0...30_000, using: &rng)),
            battery: BatteryReading(stateOfCharge: Double.random(in: 0.05...1, using: &rng)),
            solar: SolarReading(availablePower: Double.random(in: 0...5, using: &rng), ratedPower: 5),
            baseLoad: Double.random(in: 0.1...2, using: &rng))
        let forecast = randomForecast(&rng)
        let bids = house.bids(for: readings, forecast: forecast, terms: terms)
        let others = (0..<6).map { k in
            Bid(id: "other\(k)", side: k % 2 == 0 ? .buy : .sell, price: Double.random(in: 0.01...0.9, using: &rng), quantity: Double.random(in: 0.5...8, using: &rng))
        }
        let book = OrderBook(priceCap: terms.priceCap, bids: bids + others)
        try book.validate()
        let clearing = book.clear()
        let dispatch = house.dispatch(price: clearing.price, awards: clearing.awards, readings: readings, forecast: forecast, terms: terms)
        func won(_ device: Household.Device, _ side: Side) -> Double { clearing.award(for: BidKey(id: house.bidder(device), side: side))?.quantity ?? 0 }
        if let ev = dispatch.ev, let reading = readings.ev {
            let bid = bids.first { $0.id == house.bidder(.ev) }?.quantity ?? 0
            #expect(ev.currentLimit * reading.kilowattsPerAmpere <= min(bid, won(.ev, .buy) + reading.minimumPower / 2) + 1e-9)
        }
        if let battery = dispatch.battery {
            #expect(battery.power <= won(.battery, .sell) + 1e-9 && -battery.power <= won(.battery, .buy) + 1e-9)
        }
        if let limit = dispatch.solar?.powerLimit { #expect(limit <= won(.solar, .sell) + 1e-9) }
    }

    @Test("Bidder ids are household/device, and base load is unresponsive demand at the cap")
    func bidderIds() {
        let house = Household(id: "h7", ev: EVStrategy())
        let bids = house.bids(for: HouseholdReadings(ev: EVReading(isPluggedIn: true, energyNeeded: 10, timeToDeparture: 36_000), baseLoad: 0.4),
                              forecast: PriceForecast(mean: 0.2, standardDeviation: 0.1), terms: terms)
        #expect(bids.map(\.id) == ["h7/ev", "h7/base-load"])
        #expect(bids.last == Bid(id: "h7/base-load", side: .buy, price: 1.0, quantity: 0.4))
    }

    @Test("The price forecast is the prior until a full window of prices, then their mean and population deviation")
    func forecast() {
        let prior = PriceForecast(mean: 9, standardDeviation: 1)
        let forecast = PriceForecast(history: [5, 0.1, 0.3], window: 2, prior: prior)
        #expect(abs(forecast.mean - 0.2) < 1e-15 && abs(forecast.standardDeviation - 0.1) < 1e-15)
        #expect(PriceForecast(history: [0.1], window: 2, prior: prior) == prior)
    }

    @Test("A grid-forming battery offers half its power within its energy, dearer as it empties", arguments: [0.1, 0.3, 0.5, 0.7, 0.9])
    func gridForming(soc: Double) {
        let terms = MarketTerms(priceCap: 1, interval: 300)
        let battery = BatteryReading(stateOfCharge: soc, capacity: 10, maximumChargePower: 5, maximumDischargePower: 5, minimumSoC: 0.05, maximumSoC: 0.95)
        let tie = GridTie.gridForming(battery, terms: terms), fuller = GridTie.gridForming(BatteryReading(stateOfCharge: soc + 0.05, capacity: 10,
            maximumChargePower: 5, maximumDischargePower: 5, minimumSoC: 0.05, maximumSoC: 0.95), terms: terms)
        #expect(tie.importLimit <= 2.5 && tie.exportLimit <= 2.5)
        #expect(tie.importLimit * 300 / 3600 <= (soc - 0.05) * 10 + 1e-9 && tie.exportLimit * 300 / 3600 <= (0.95 - soc) * 10 + 1e-9)
        #expect(fuller.importTariff < tie.importTariff && tie.exportTariff < tie.importTariff)
        #expect(tie.importTariff < terms.priceCap)
    }
}
