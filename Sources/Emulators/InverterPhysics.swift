import Physics

/// A PV inverter behind SunSpec 123: Conn, WMaxLimPct with enable, revert and ramp time.
struct InverterPhysics: DevicePhysics {
    private var model: PVInverter
    private var state = PVInverterState()
    private let phases: Double, voltage: Double, frequency: Double, mpptCount: Double

    private static let fields: [RatingField<PVInverterRatings>] = [
        RatingField("array-peak-power", \.arrayPeakPower), RatingField("rated-power", \.ratedPower),
        RatingField("peak-efficiency", \.peakEfficiency), RatingField("temperature-coefficient", \.temperatureCoefficient),
        RatingField("ramp-rate", \.rampRate, factor: 0.01),
    ]
    static let ratingDefaults = fields.defaults(of: PVInverterRatings())
        .merging(["phases": 3, "nominal-voltage": 230, "nominal-frequency": 50, "mppt-count": 2]) { $1 }

    init(profile: DeviceProfile, parameters: DeviceParameters) {
        model = PVInverter(ratings: Self.fields.ratings(from: profile, base: PVInverterRatings()))
        phases = profile.rating("phases")
        voltage = profile.rating("nominal-voltage")
        frequency = profile.rating("nominal-frequency")
        mpptCount = max(1, profile.rating("mppt-count"))
    }

    static let defaultSettings: Settings = [
        .connect: 1, .powerLimitPercent: 100, .powerLimitEnabled: 0, .powerLimitRevertSeconds: 0, .powerLimitRampSeconds: 0,
    ]

    var netLoad: Double { -state.acPower }

    /// An inverter that was already running: an hour under the sun as it is now, its ramp long done, its lifetime
    /// counter as it was.
    mutating func settle(site: SiteConditions) {
        let counted = state.lifetimeEnergy
        state = model.step(state, applying: PVInverterSetpoint(), for: 3600, weather: site.weather)
        state.lifetimeEnergy = counted
    }

    mutating func step(applied: Settings, at time: Double, for seconds: Double, site: SiteConditions) {
        var ratedModel = model
        let rampSeconds = applied[.powerLimitRampSeconds] ?? 0
        if rampSeconds > 0 { ratedModel.ratings.rampRate = 1 / rampSeconds }
        let limited = (applied[.powerLimitEnabled] ?? 0) != 0
        let ceiling = site.solarShare < 1 ? site.solarShare * state.availablePower : nil  // frequency-watt on an island
        let written = limited ? (applied[.powerLimitPercent] ?? 100) / 100 * model.ratings.ratedPower : nil
        let setpoint = PVInverterSetpoint(isConnected: (applied[.connect] ?? 1) != 0,
                                          powerLimit: [written, ceiling].compactMap { $0 }.min())
        state = ratedModel.step(state, applying: setpoint, for: seconds, weather: site.weather)
    }

    func reading(_ quantity: Quantity, requested: Settings, applied: Settings) -> Double? {
        let mppVoltage = state.availablePower > 0 ? 400 * (1 - 0.0035 * (state.cellTemperature - 25)) : 0
        switch quantity {
        case .acPower: return state.acPower
        case .availablePower: return state.availablePower
        case .lifetimeEnergy: return state.lifetimeEnergy
        case .dcPower: return state.dcPower
        case .dcVoltage: return mppVoltage
        case .dcCurrent: return mppVoltage > 0 ? state.dcPower / mppVoltage : 0
        case .stringPower: return state.dcPower / mpptCount
        case .stringCurrent: return mppVoltage > 0 ? state.dcPower / mpptCount / mppVoltage : 0
        case .cabinetTemperature: return state.cellTemperature - 10 + 15 * state.acPower / model.ratings.ratedPower
        case .inverterStatus: return Double(state.status.rawValue)
        case .ratedPower: return model.ratings.ratedPower
        case .rampRate: return model.ratings.rampRate * 100
        default: return acReading(quantity, power: state.acPower, voltage: voltage, phases: phases, frequency: frequency)
        }
    }
}
