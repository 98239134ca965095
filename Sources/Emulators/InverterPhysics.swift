import Physics

/// A PV inverter behind SunSpec 123: Conn, WMaxLimPct with enable, revert and ramp time.
struct InverterPhysics: DevicePhysics {
    private var model: PVInverter
    private var state = PVInverterState()
    private let phases: Double, voltage: Double, frequency: Double, mpptCount: Double

    init(profile: DeviceProfile, parameters: DeviceParameters) {
        var ratings = PVInverterRatings()
        ratings.arrayPeakPower = profile.rating("array-peak-power")
        ratings.ratedPower = profile.rating("rated-power")
        ratings.peakEfficiency = profile.rating("peak-efficiency")
        ratings.temperatureCoefficient = profile.rating("temperature-coefficient")
        ratings.rampRate = profile.rating("ramp-rate") / 100
        model = PVInverter(ratings: ratings)
        phases = profile.rating("phases")
        voltage = profile.rating("nominal-voltage")
        frequency = profile.rating("nominal-frequency")
        mpptCount = max(1, profile.rating("mppt-count"))
    }

    static let defaultSettings: Settings = [
        .connect: 1, .powerLimitPercent: 100, .powerLimitEnabled: 0, .powerLimitRevertSeconds: 0, .powerLimitRampSeconds: 0,
    ]

    var netLoad: Double { -state.acPower }

    mutating func step(applied: Settings, at time: Double, for seconds: Double, site: SiteConditions) {
        var ratedModel = model
        let rampSeconds = applied[.powerLimitRampSeconds] ?? 0
        if rampSeconds > 0 { ratedModel.ratings.rampRate = 1 / rampSeconds }
        let limited = (applied[.powerLimitEnabled] ?? 0) != 0
        let setpoint = PVInverterSetpoint(
            isConnected: (applied[.connect] ?? 1) != 0,
            powerLimit: limited ? (applied[.powerLimitPercent] ?? 100) / 100 * model.ratings.ratedPower : nil)
        state = ratedModel.step(state, applying: setpoint, for: seconds, weather: site.weather)
    }

    func reading(_ quantity: Quantity, requested: Settings, applied: Settings) -> Double? {
        let mppVoltage = state.availablePower > 0 ? 400 * (1 - 0.0035 * (state.cellTemperature - 25)) : 0
        switch quantity {
        case .acPower: return state.acPower
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
