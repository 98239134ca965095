import Physics

/// A PV inverter behind SunSpec 123: Conn, WMaxLimPct with enable, revert and ramp time; and the IEEE 1547
/// voltage responses its profile lists (SunSpec 705-708), on the voltage at its connection.
struct InverterPhysics: DevicePhysics {
    private var model: PVInverter
    private var state = PVInverterState()
    private var support = GridSupportState()
    private let functions: Set<GridSupportFunction>
    /// The curves in force: a client writes a curve a point at a time, and a curve whose voltages do not rise
    /// (half rewritten) leaves the last good one in force.
    private var voltVar: Curve?, voltWatt: Curve?
    private let phases: Double, voltage: Double, frequency: Double, mpptCount: Double, ratedReactivePower: Double, reconnectDelay: Double
    /// The grid at the connection in the last step.
    private var gridVoltage: Double, gridFrequency: Double

    private static let fields: [RatingField<PVInverterRatings>] = [
        RatingField("array-peak-power", \.arrayPeakPower), RatingField("rated-power", \.ratedPower),
        RatingField("peak-efficiency", \.peakEfficiency), RatingField("temperature-coefficient", \.temperatureCoefficient),
        RatingField("ramp-rate", \.rampRate, factor: 0.01),
    ]
    static let ratingDefaults = fields.defaults(of: PVInverterRatings())
        .merging(["phases": 3, "nominal-voltage": 230, "nominal-frequency": 50, "mppt-count": 2,
                  "rated-reactive-power": 2200, "reconnect-delay": GridSupportSettings.standard.reconnectDelay]) { $1 }

    init(profile: DeviceProfile, parameters: DeviceParameters) {
        model = PVInverter(ratings: Self.fields.ratings(from: profile, base: PVInverterRatings()))
        phases = profile.rating("phases")
        voltage = profile.rating("nominal-voltage")
        frequency = profile.rating("nominal-frequency")
        mpptCount = max(1, profile.rating("mppt-count"))
        ratedReactivePower = profile.rating("rated-reactive-power")
        reconnectDelay = profile.rating("reconnect-delay")
        functions = profile.gridSupport
        (gridVoltage, gridFrequency) = (voltage, frequency)
    }

    /// IEEE 1547-2018's defaults (Category B curves, Category II trips), every function enabled; a profile's
    /// `value:` on a control point replaces one.
    static let defaultSettings: Settings = {
        var settings: Settings = [.connect: 1, .powerLimitPercent: 100, .powerLimitEnabled: 0, .powerLimitRevertSeconds: 0, .powerLimitRampSeconds: 0]
        let standard = GridSupportSettings.standard
        for (index, point) in (standard.voltVar?.points ?? []).enumerated() {
            settings[[.voltVarV1, .voltVarV2, .voltVarV3, .voltVarV4][index]] = point.x * 100
            settings[[.voltVarQ1, .voltVarQ2, .voltVarQ3, .voltVarQ4][index]] = point.y * 100
        }
        for (index, point) in (standard.voltWatt?.points ?? []).enumerated() {
            settings[[.voltWattV1, .voltWattV2][index]] = point.x * 100
            settings[[.voltWattP1, .voltWattP2][index]] = point.y * 100
        }
        let trips = standard.trips
        for (index, control) in [(Control.tripHighV1, Control.tripHighT1), (.tripHighV2, .tripHighT2), (.tripLowV1, .tripLowT1),
                                 (.tripLowV2, .tripLowT2)].enumerated() {
            settings[control.0] = trips[index].voltage * 100
            settings[control.1] = trips[index].seconds
        }
        settings.merge([.voltVarEnabled: 1, .voltWattEnabled: 1, .tripHighEnabled: 1, .tripLowEnabled: 1,
                        .voltVarResponseSeconds: standard.voltVarResponse, .voltWattResponseSeconds: standard.voltWattResponse]) { $1 }
        return settings
    }()

    var netLoad: Double { -state.acPower }
    /// Reactive power while producing: volt-var injects (drawn negative) or absorbs.
    var netReactive: Double { state.acPower > 0 ? -support.reactive * ratedReactivePower : 0 }

    /// An inverter that was already running: an hour under the sun as it is now, its ramp long done, its lifetime
    /// counter as it was.
    mutating func settle(site: SiteConditions) {
        let counted = state.lifetimeEnergy
        state = model.step(state, applying: PVInverterSetpoint(), for: 3600, weather: site.weather)
        state.lifetimeEnergy = counted
    }

    /// The functions as the applied controls set them, among those the product has.
    private mutating func gridSupportSettings(_ applied: Settings) -> GridSupportSettings {
        func value(_ control: Control) -> Double { applied[control] ?? Self.defaultSettings[control] ?? 0 }
        func on(_ function: GridSupportFunction, _ enabled: Control) -> Bool { functions.contains(function) && value(enabled) != 0 }
        var settings = GridSupportSettings()
        settings.reconnectDelay = reconnectDelay
        let varCurve = Curve(zip([Control.voltVarV1, .voltVarV2, .voltVarV3, .voltVarV4], [Control.voltVarQ1, .voltVarQ2, .voltVarQ3, .voltVarQ4])
            .map { (value($0) / 100, value($1) / 100) })
        if varCurve.isValid { voltVar = varCurve }
        let wattCurve = Curve([(value(.voltWattV1) / 100, value(.voltWattP1) / 100), (value(.voltWattV2) / 100, value(.voltWattP2) / 100)])
        if wattCurve.isValid { voltWatt = wattCurve }
        if on(.voltVar, .voltVarEnabled) {
            settings.voltVar = voltVar
            settings.voltVarResponse = value(.voltVarResponseSeconds)
        }
        if on(.voltWatt, .voltWattEnabled) {
            settings.voltWatt = voltWatt
            settings.voltWattResponse = value(.voltWattResponseSeconds)
        }
        if on(.voltageTrip, .tripHighEnabled) {
            settings.trips += [TripSetting(voltage: value(.tripHighV1) / 100, seconds: value(.tripHighT1), isOverVoltage: true),
                               TripSetting(voltage: value(.tripHighV2) / 100, seconds: value(.tripHighT2), isOverVoltage: true)]
        }
        if on(.voltageTrip, .tripLowEnabled) {
            settings.trips += [TripSetting(voltage: value(.tripLowV1) / 100, seconds: value(.tripLowT1), isOverVoltage: false),
                               TripSetting(voltage: value(.tripLowV2) / 100, seconds: value(.tripLowT2), isOverVoltage: false)]
        }
        return settings
    }

    mutating func step(applied: Settings, at time: Double, for seconds: Double, site: SiteConditions) {
        (gridVoltage, gridFrequency) = (site.voltage ?? voltage, site.frequency ?? frequency)
        support = GridSupport.step(support, settings: gridSupportSettings(applied), voltage: gridVoltage / voltage, for: seconds)
        var ratedModel = model
        let rampSeconds = applied[.powerLimitRampSeconds] ?? 0
        if rampSeconds > 0 { ratedModel.ratings.rampRate = 1 / rampSeconds }
        let limited = (applied[.powerLimitEnabled] ?? 0) != 0
        let rated = model.ratings.ratedPower
        let ceiling = site.solarShare < 1 ? site.solarShare * state.availablePower : nil  // frequency-watt on an island
        let written = limited ? (applied[.powerLimitPercent] ?? 100) / 100 * rated : nil
        // Volt-watt's ceiling, and what the apparent-power rating leaves beside volt-var's reactive power.
        let reactive = support.reactive * ratedReactivePower
        let supported = support.powerCeiling < 1 || reactive != 0
            ? min(support.powerCeiling * rated, max(0, rated * rated - reactive * reactive).squareRoot()) : nil
        let setpoint = PVInverterSetpoint(isConnected: (applied[.connect] ?? 1) != 0 && !support.isTripped,
                                          powerLimit: [written, ceiling, supported].compactMap { $0 }.min())
        state = ratedModel.step(state, applying: setpoint, for: seconds, weather: site.weather)
        if support.isTripped {  // a trip ceases to energize at once; the ramp is for setpoints
            (state.acPower, state.dcPower, state.status) = (0, 0, .fault)
        }
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
        case .ratedReactivePower: return ratedReactivePower
        case .rampRate: return model.ratings.rampRate * 100
        case .trips: return Double(support.trips)
        case .tripped: return support.isTripped ? 1 : 0
        default: return acReading(quantity, power: state.acPower, reactive: -netReactive, voltage: gridVoltage, phases: phases, frequency: gridFrequency)
        }
    }
}
