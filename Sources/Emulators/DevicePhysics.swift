public import Physics

/// Per-device facts a rig (or the command line) gives, beyond the product's profile.
public struct DeviceParameters: Sendable, Equatable {
    /// Battery state of charge at the start, %.
    public var initialSoC: Double?
    /// Room temperature at the start, °C.
    public var roomTemperature: Double?
    /// The vehicle that visits an EV charger.
    public var vehicle: VehicleSession?
    /// Seed of the device's noise.
    public var seed: UInt64
    /// Control values the device starts with, over the profile's (how the installer set it up).
    public var settings: Settings = [:]

    public init(initialSoC: Double? = nil, roomTemperature: Double? = nil, vehicle: VehicleSession? = nil, seed: UInt64 = 0) {
        self.initialSoC = initialSoC
        self.roomTemperature = roomTemperature
        self.vehicle = vehicle
        self.seed = seed
    }
}

/// What a device sees of the world during a step.
public struct SiteConditions: Sendable, Equatable {
    public var weather: Weather
    /// Net consumption of everything else behind the same meter, W (production negative).
    public var houseLoad: Double
    /// On an island, the share of what the sun offers that PV inverters may produce (frequency-watt: a saturated
    /// grid-forming battery raises the frequency and the inverters back off); 1 elsewhere.
    public var solarShare: Double
    /// Net reactive power of everything else behind the same meter, var (drawn positive).
    public var houseReactive: Double = 0
    /// The grid at the device's connection when a feeder model gives it (docs/COSIM.md): phase-to-neutral
    /// voltage, V, and frequency, Hz; nil is the nominal grid.
    public var voltage: Double?
    public var frequency: Double?

    public init(weather: Weather, houseLoad: Double = 0, solarShare: Double = 1, houseReactive: Double = 0, voltage: Double? = nil,
                frequency: Double? = nil) {
        self.weather = weather
        self.houseLoad = houseLoad
        self.solarShare = solarShare
        self.houseReactive = houseReactive
        self.voltage = voltage
        self.frequency = frequency
    }
}

/// Control values: what clients wrote (`requested`) and what the physics obeys now (`applied`, after the
/// profile's latency and any watchdog fallback).
public typealias Settings = [Control: Double]

/// One kind's physics seen through readings and controls: the adapter between a pure model and a register map.
protocol DevicePhysics: Sendable {
    init(profile: DeviceProfile, parameters: DeviceParameters)
    /// Ratings a profile may set, with their defaults in the profile's units.
    static var ratingDefaults: [Rating: Double] { get }
    /// Controls and their values before any write.
    static var defaultSettings: Settings { get }
    mutating func step(applied: Settings, at time: Double, for seconds: Double, site: SiteConditions)
    func reading(_ quantity: Quantity, requested: Settings, applied: Settings) -> Double?
    /// Checks a write of one control and returns every control it sets (an alias may set others);
    /// nil refuses it as out of range.
    func accept(_ control: Control, _ value: Double, requested: Settings) -> Settings?
    /// Whether `settings` make curves the product accepts, judged for the curves `changing` touches (SunSpec curve
    /// adoption: "conformance checks are conducted when AdptCrvReq is set").
    func acceptsCurves(_ settings: Settings, changing: Set<Control>) -> Bool
    /// What a control register reads, when it is not simply the value written (an alias).
    func controlValue(_ control: Control, requested: Settings) -> Double?
    /// Seconds from the start of a step until something in the physics changes at once (a protection trip clears,
    /// a delay runs out), with the settings and the site held; nil when nothing will. The emulator ends a step there.
    mutating func nextEvent(applied: Settings, site: SiteConditions) -> Double?
    /// Power drawn from the house wiring now, W (production negative), and reactive power, var (drawn positive).
    var netLoad: Double { get }
    var netReactive: Double { get }
    /// The phase-to-neutral voltage the device is rated for, V: what a grid event's per-unit level multiplies.
    var nominalVoltage: Double { get }
    /// Brings the state to where it would be had the device been running before the emulation starts (an
    /// inverter producing what the sun gives), so that the first reading is the device's, not a cold start's.
    mutating func settle(site: SiteConditions)
}

extension DevicePhysics {
    func accept(_ control: Control, _ value: Double, requested: Settings) -> Settings? { [control: value] }
    func controlValue(_ control: Control, requested: Settings) -> Double? { nil }
    func acceptsCurves(_ settings: Settings, changing: Set<Control>) -> Bool { true }
    mutating func nextEvent(applied: Settings, site: SiteConditions) -> Double? { nil }
    var netReactive: Double { 0 }
    var nominalVoltage: Double { 230 }
    mutating func settle(site: SiteConditions) {}
}

extension DeviceKind {
    var physicsType: any DevicePhysics.Type {
        switch self {
        case .inverter: InverterPhysics.self
        case .battery: BatteryPhysics.self
        case .meter: MeterPhysics.self
        case .thermostat: ThermostatPhysics.self
        case .evCharger: EVChargerPhysics.self
        }
    }

    /// Ratings a profile of this kind may set under `ratings:`, with their defaults.
    public var ratingDefaults: [Rating: Double] { physicsType.ratingDefaults }

    /// What the hardware does when out of service: an inverter disconnected, a battery held at 0 W, a heat pump
    /// off, a charger offering no current.
    var outOfServiceSettings: Settings {
        switch self {
        case .inverter: [.connect: 0]
        case .battery: [.storageControlMode: 3, .chargeRatePercent: 0, .dischargeRatePercent: 0]
        case .thermostat: [.power: 0]
        case .evCharger: [.maxCurrent: 0, .chargingEnabled: 0]
        case .meter: [:]
        }
    }

    /// The controls a profile of this kind may bind.
    public var controls: Set<Control> { Set(physicsType.defaultSettings.keys) }
}

/// The AC-side readings every kind shares, from its active power (W, either sign), reactive power (var, the same
/// sign convention), phase-to-neutral voltage, phase count and frequency; nil for any other quantity.
func acReading(_ quantity: Quantity, power: Double, reactive: Double = 0, voltage: Double, phases: Double, frequency: Double) -> Double? {
    let apparent = (power * power + reactive * reactive).squareRoot()
    switch quantity {
    case .apparentPower: return apparent
    case .reactivePower: return reactive
    case .powerFactor, .powerFactorRatio:
        let factor = apparent > 0 ? abs(power) / apparent * (reactive * power < 0 ? -1 : 1) : 1
        return quantity == .powerFactor ? 100 * factor : factor
    case .phaseActivePower: return power / max(phases, 1)
    case .phaseApparentPower: return apparent / max(phases, 1)
    case .phaseReactivePower: return reactive / max(phases, 1)
    case .acCurrent: return apparent / max(voltage, 1)
    case .phaseCurrent: return apparent / max(voltage, 1) / max(phases, 1)
    case .acVoltage: return voltage
    case .lineVoltage: return voltage * 3.0.squareRoot()
    case .frequency: return frequency
    default: return nil
    }
}

/// A profile rating that sets a field of a physics model's ratings; `factor` converts the profile's unit
/// (e.g. %) to the field's (e.g. a fraction). The model's own defaults are the profile's defaults.
struct RatingField<Ratings>: Sendable {
    let name: Rating
    let field: any WritableKeyPath<Ratings, Double> & Sendable
    let factor: Double

    init(_ name: Rating, _ field: any WritableKeyPath<Ratings, Double> & Sendable, factor: Double = 1) {
        self.name = name
        self.field = field
        self.factor = factor
    }
}

extension Array {
    /// `base` with every field set from the profile (or left at its default).
    func ratings<Ratings>(from profile: DeviceProfile, base: Ratings) -> Ratings where Element == RatingField<Ratings> {
        var ratings = base
        for rating in self {
            if let value = profile.ratings[rating.name] { ratings[keyPath: rating.field] = value * rating.factor }
        }
        return ratings
    }

    /// The defaults of `base`, by rating name, in the profile's units.
    func defaults<Ratings>(of base: Ratings) -> [Rating: Double] where Element == RatingField<Ratings> {
        Dictionary(uniqueKeysWithValues: map { ($0.name, base[keyPath: $0.field] / $0.factor) })
    }
}

/// SunSpec 704's controls an inverter and a battery share: what the power limit reverts to, and fixed active power.
extension DevicePhysics {
    static var acControlDefaults: Settings {
        [.powerLimitRevertEnabled: 0, .powerLimitRevertPercent: 100, .fixedPowerEnabled: 0, .fixedPowerMode: 0, .fixedPower: 0,
         .fixedPowerPercent: 0, .fixedPowerRevertSeconds: 0, .fixedPowerRevertEnabled: 0, .fixedPowerRevert: 0, .fixedPowerRevertPercent: 0]
    }

    /// The fixed active power in force, W (+ produced or discharged), when it is enabled: `WSetMod` 0 takes
    /// `WSetPct` of `rated`, 1 takes `WSet`.
    static func fixedPower(_ applied: Settings, rated: Double) -> Double? {
        guard (applied[.fixedPowerEnabled] ?? 0) != 0 else { return nil }
        return (applied[.fixedPowerMode] ?? 0) == 1 ? applied[.fixedPower] ?? 0 : (applied[.fixedPowerPercent] ?? 0).fromPercent * rated
    }
}

extension DeviceProfile {
    /// The power that writes of `settings` pin by the product's own physics, W, the controls not written at their
    /// defaults: a battery's (+ discharge) when 704's fixed W or a 124 window of one value does, a PV inverter's
    /// ceiling (its rated power when the limit is off). Nil when the writes do not say: no mode or enable among
    /// them, or a window left open. The verdict holds a household's dispatch reports to it.
    public func pinnedPower(_ settings: Settings) -> Double? {
        let applied = kind.physicsType.defaultSettings.merging(settings) { $1 }
        switch kind {
        case .battery:
            if settings[.fixedPowerEnabled] != nil, let fixed = BatteryPhysics.fixedPower(applied, rated: rating(.maxDischargePower)) { return fixed }
            guard settings[.storageControlMode] != nil else { return nil }
            let window = BatteryPhysics.window(applied, maxChargePower: rating(.maxChargePower))
            return window.lowerBound == window.upperBound ? window.lowerBound : nil
        case .inverter:
            guard let enabled = settings[.powerLimitEnabled] else { return nil }
            return (enabled != 0 ? (applied[.powerLimitPercent] ?? 100).fromPercent : 1) * rating(.ratedPower)
        case .meter, .thermostat, .evCharger: return nil
        }
    }
}
