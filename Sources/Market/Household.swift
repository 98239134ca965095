public import Physics

/// The devices of one household that take part in the market, and the strategy each bids with.
///
/// Bidder ids are "<household>/<device>" (`thermostat`, `ev`, `battery`, `solar`, `base-load`), so a clearing's
/// awards map back to devices without any other table.
public struct Household: Sendable {
    public enum Device: String, Sendable, Hashable {
        case thermostat, ev, battery, solar, baseLoad = "base-load"
    }

    public var id: HouseID
    public var thermostat: ThermostatStrategy?
    public var ev: EVStrategy?
    public var battery: BatteryStrategy?
    public var solar: SolarStrategy?

    public init(id: HouseID, thermostat: ThermostatStrategy? = nil, ev: EVStrategy? = nil,
                battery: BatteryStrategy? = nil, solar: SolarStrategy? = nil) {
        self.id = id
        self.thermostat = thermostat
        self.ev = ev
        self.battery = battery
        self.solar = solar
    }

    public func bidder(_ device: Device) -> String { "\(id.name)/\(device.rawValue)" }

    /// Every bid of the household for the next interval. Base load is unresponsive demand at the cap.
    public func bids(for readings: HouseholdReadings, forecast: PriceForecast, terms: MarketTerms) -> [Bid] {
        var bids: [Bid] = []
        func add<S: BiddingStrategy>(_ strategy: S?, _ reading: S.Reading?, _ device: Device) {
            guard let strategy, let reading else { return }
            bids += strategy.bids(for: reading, bidder: bidder(device), forecast: forecast, terms: terms)
        }
        add(thermostat, readings.thermostat, .thermostat)
        add(ev, readings.ev, .ev)
        add(battery, readings.battery, .battery)
        add(solar, readings.solar, .solar)
        if let load = readings.baseLoad, load > 0, load.isFinite {
            bids.append(Bid(id: bidder(.baseLoad), side: .buy, price: terms.priceCap, quantity: load))
        }
        return bids
    }

    /// The setpoints that carry out the household's awards at `price`. Awards of other households are ignored; a
    /// device without an award is dispatched as awarded nothing.
    public func dispatch(price: Double, awards: some Sequence<Award>, readings: HouseholdReadings,
                         forecast: PriceForecast, terms: MarketTerms) -> HouseholdDispatch {
        var won: [String: DeviceAward] = [:]
        for award in awards {
            var device = won[award.bid.id, default: DeviceAward(price: price)]
            if award.bid.side == .buy { device.bought += award.quantity } else { device.sold += award.quantity }
            won[award.bid.id] = device
        }
        func setpoint<S: BiddingStrategy>(_ strategy: S?, _ reading: S.Reading?, _ device: Device) -> S.Setpoint? {
            guard let strategy, let reading else { return nil }
            let award = won[bidder(device)] ?? DeviceAward(price: price)
            return strategy.setpoint(for: reading, award: award, forecast: forecast, terms: terms)
        }
        return HouseholdDispatch(thermostat: setpoint(thermostat, readings.thermostat, .thermostat),
                                 ev: setpoint(ev, readings.ev, .ev),
                                 battery: setpoint(battery, readings.battery, .battery),
                                 solar: setpoint(solar, readings.solar, .solar))
    }
}

/// What a household's agent read from its devices this interval; nil for a device it does not have.
public struct HouseholdReadings: Sendable, Hashable {
    public var thermostat: ThermostatReading?
    public var ev: EVReading?
    public var battery: BatteryReading?
    public var solar: SolarReading?
    /// Forecast of unresponsive consumption, kW.
    public var baseLoad: Double?

    public init(thermostat: ThermostatReading? = nil, ev: EVReading? = nil, battery: BatteryReading? = nil,
                solar: SolarReading? = nil, baseLoad: Double? = nil) {
        self.thermostat = thermostat
        self.ev = ev
        self.battery = battery
        self.solar = solar
        self.baseLoad = baseLoad
    }
}

/// The setpoints a household's agent writes after a clearing.
public struct HouseholdDispatch: Sendable, Hashable {
    public var thermostat: ThermostatDispatch?
    public var ev: EVDispatch?
    public var battery: BatteryDispatch?
    public var solar: SolarDispatch?
}
