import Physics

/// A PV inverter behind SunSpec 123: Conn, WMaxLimPct with enable, revert and ramp time; and the IEEE 1547-2018
/// behaviours its profile lists (SunSpec 703-712), on the voltage and frequency at its connection.
struct InverterPhysics: DevicePhysics {
    private var model: PVInverter
    private var state = PVInverterState()
    private var support = GridSupportState()
    private let functions: Set<GridSupportFunction>
    /// The curves in force: a client writes a curve a point at a time, and a curve whose voltages do not rise
    /// (half rewritten) leaves the last good one in force.
    private var voltVar: Curve?, voltWatt: Curve?
    /// The grid-support settings last derived, and the applied controls they came from.
    private var memo: (applied: Settings, settings: GridSupportSettings)?
    private let phases: Double, voltage: Double, frequency: Double, mpptCount: Double
    private let ratings: GridSupportRatings
    /// The grid at the connection in the last step, V and Hz.
    private var gridVoltage: Double, gridFrequency: Double

    private static let fields: [RatingField<PVInverterRatings>] = [
        RatingField(.arrayPeakPower, \.arrayPeakPower), RatingField(.ratedPower, \.ratedPower),
        RatingField(.peakEfficiency, \.peakEfficiency), RatingField(.temperatureCoefficient, \.temperatureCoefficient),
        RatingField(.rampRate, \.rampRate, factor: 0.01),
    ]
    static let ratingDefaults = fields.defaults(of: PVInverterRatings())
        .merging([.phases: 3, .nominalVoltage: 230, .nominalFrequency: 50, .mpptCount: 2,
                  .ratedApparentPower: 5000, .ratedReactivePower: 2200]) { $1 }

    init(profile: DeviceProfile, parameters: DeviceParameters) {
        model = PVInverter(ratings: Self.fields.ratings(from: profile, base: PVInverterRatings()))
        phases = profile.rating(.phases)
        voltage = profile.rating(.nominalVoltage)
        frequency = profile.rating(.nominalFrequency)
        mpptCount = max(1, profile.rating(.mpptCount))
        // Unless given, the apparent-power rating is the active one, and the reactive capability Category B's 44 % of it,
        // so that a rig that scales `rated-power` scales them too.
        let apparent = profile.ratings[.ratedApparentPower] ?? model.ratings.ratedPower
        ratings = GridSupportRatings(ratedPower: model.ratings.ratedPower, apparentPower: apparent,
                                     reactivePower: profile.ratings[.ratedReactivePower] ?? 0.44 * apparent)
        functions = profile.gridSupport
        (gridVoltage, gridFrequency) = (voltage, frequency)
    }

    /// IEEE 1547-2018's defaults (`GridSupportSettings.standard`: Category B curves, Category II trips), every
    /// function enabled, entering service within 49.5-50.1 Hz (the standard's -0.5/+0.1 Hz); a profile's `value:` on
    /// a control point replaces one.
    static let defaultSettings: Settings = {
        var settings: Settings = [.connect: 1, .powerLimitPercent: 100, .powerLimitEnabled: 0, .powerLimitRevertSeconds: 0, .powerLimitRampSeconds: 0]
        settings.merge(Self.acControlDefaults) { $1 }
        settings.merge([.fixedVarEnabled: 0, .fixedVarMode: 3, .fixedVar: 0, .fixedVarPercent: 0, .fixedVarRevertSeconds: 0, .fixedVarRevertEnabled: 0,
                        .fixedVarRevert: 0, .fixedVarRevertPercent: 0]) { $1 }
        for (enabled, factor, excitation, seconds, revertEnabled, revert, revertExcitation) in Self.powerFactorControls {
            settings.merge([enabled: 0, factor: 1, excitation: 0, seconds: 0, revertEnabled: 0, revert: 1, revertExcitation: 0]) { $1 }
        }
        let standard = GridSupportSettings.standard(GridSupportRatings(ratedPower: 1, apparentPower: 1, reactivePower: 1))
        for (index, point) in (standard.voltVar?.points ?? []).enumerated() {
            settings[[.voltVarV1, .voltVarV2, .voltVarV3, .voltVarV4][index]] = point.x * 100
            settings[[.voltVarQ1, .voltVarQ2, .voltVarQ3, .voltVarQ4][index]] = point.y * 100
        }
        for (index, point) in (standard.voltWatt?.points ?? []).enumerated() {
            settings[[.voltWattV1, .voltWattV2][index]] = point.x * 100
            settings[[.voltWattP1, .voltWattP2][index]] = point.y * 100
        }
        for (index, point) in GridSupportSettings.standardWattVar.points.enumerated() {
            settings[[.wattVarP1, .wattVarP2, .wattVarP3][index]] = point.x * 100
            settings[[.wattVarQ1, .wattVarQ2, .wattVarQ3][index]] = point.y * 100
        }
        let droop = FrequencyDroop()
        settings.merge([.wattVarEnabled: 0, .wattVarReference: Double(ReactiveReference.ratedApparentPower.rawValue), .frequencyDroopEnabled: 1,
                        .frequencyDroopDeadband: 0.036, .frequencyDroopK: droop.droop, .frequencyDroopResponseSeconds: droop.response,
                        .frequencyDroopMinimumPercent: droop.minimumPower * 100]) { $1 }
        let trips = GridSupportSettings.standardVoltageTrips
        for (index, control) in [(Control.tripHighV2, Control.tripHighT2), (.tripHighV1, .tripHighT1), (.tripLowV1, .tripLowT1),
                                 (.tripLowV2, .tripLowT2)].enumerated() {
            settings[control.0] = trips[index].limit * 100
            settings[control.1] = trips[index].seconds
        }
        // Frequency trips per unit of 60 Hz in the standard, in Hz on the default nominal frequency (a rig on another sets them).
        let frequencyTrips = GridSupportSettings.standardFrequencyTrips, nominal = ratingDefaults[.nominalFrequency] ?? 50
        for (index, control) in [(Control.tripHighF2, Control.tripHighFrequencyT2), (.tripHighF1, .tripHighFrequencyT1), (.tripLowF1, .tripLowFrequencyT1),
                                 (.tripLowF2, .tripLowFrequencyT2)].enumerated() {
            settings[control.0] = frequencyTrips[index].limit * nominal
            settings[control.1] = frequencyTrips[index].seconds
        }
        settings.merge([.tripHighFrequencyEnabled: 1, .tripLowFrequencyEnabled: 1]) { $1 }
        let entering = standard.enterService
        settings.merge([.voltVarEnabled: 1, .voltWattEnabled: 1, .tripHighEnabled: 1, .tripLowEnabled: 1,
                        .voltVarReference: Double(standard.voltVarReference.rawValue), .voltWattReference: Double(standard.voltWattReference.rawValue),
                        .voltVarResponseSeconds: standard.voltVarResponse, .voltWattResponseSeconds: standard.voltWattResponse,
                        .enterServicePermitted: 1, .enterServiceVoltageHigh: entering.voltage.upperBound * 100,
                        .enterServiceVoltageLow: entering.voltage.lowerBound * 100, .enterServiceFrequencyHigh: 50.1, .enterServiceFrequencyLow: 49.5,
                        .enterServiceDelaySeconds: entering.delay, .enterServiceRampSeconds: entering.ramp]) { $1 }
        return settings
    }()

    /// SunSpec 704's power factor controls, per direction: enable, factor, excitation, reversion seconds, and what
    /// each reverts to.
    static let powerFactorControls: [(Control, Control, Control, Control, Control, Control, Control)] = [
        (.pfInjectEnabled, .pfInject, .pfInjectExcitation, .pfInjectRevertSeconds, .pfInjectRevertEnabled, .pfInjectRevert, .pfInjectRevertExcitation),
        (.pfAbsorbEnabled, .pfAbsorb, .pfAbsorbExcitation, .pfAbsorbRevertSeconds, .pfAbsorbRevertEnabled, .pfAbsorbRevert, .pfAbsorbRevertExcitation),
    ]

    /// Enumerations take only the values SunSpec defines; a power factor lies in (0, 1].
    func accept(_ control: Control, _ value: Double, requested: Settings) -> Settings? {
        let whole = value.rounded() == value
        let valid = switch control {
        case .voltVarReference, .wattVarReference: whole && ReactiveReference(rawValue: Int(value)) != nil
        case .voltWattReference: whole && ActiveReference(rawValue: Int(value)) != nil
        case .fixedVarMode: whole && (0...4).contains(value)
        case .fixedPowerMode, .pfInjectExcitation, .pfAbsorbExcitation, .pfInjectRevertExcitation, .pfAbsorbRevertExcitation: whole && (0...1).contains(value)
        case .pfInject, .pfAbsorb, .pfInjectRevert, .pfAbsorbRevert: value > 0 && value <= 1
        default: true
        }
        return valid ? [control: value] : nil
    }

    /// SunSpec curve adoption's rules, for the curves an adoption changes: volt-var's voltages rise; volt-watt's rise
    /// while its power does not; must-trip points lie further from nominal with shorter clearing times.
    func acceptsCurves(_ settings: Settings, changing: Set<Control>) -> Bool {
        func value(_ control: Control) -> Double { Self.value(control, in: settings) }
        func touches(_ controls: [Control]) -> Bool { controls.contains(where: changing.contains) }
        let voltVar = [Control.voltVarV1, .voltVarV2, .voltVarV3, .voltVarV4]
        if touches(voltVar + [.voltVarQ1, .voltVarQ2, .voltVarQ3, .voltVarQ4]),
           !zip(voltVar, voltVar.dropFirst()).allSatisfy({ value($0) < value($1) }) { return false }
        let wattVar = [Control.wattVarP1, .wattVarP2, .wattVarP3]
        if touches(wattVar + [.wattVarQ1, .wattVarQ2, .wattVarQ3]), !zip(wattVar, wattVar.dropFirst()).allSatisfy({ value($0) < value($1) }) { return false }
        if touches([.voltWattV1, .voltWattV2, .voltWattP1, .voltWattP2]),
           !(value(.voltWattV1) < value(.voltWattV2) && value(.voltWattP2) <= value(.voltWattP1)) { return false }
        if touches([.tripHighV1, .tripHighT1, .tripHighV2, .tripHighT2]),
           !(value(.tripHighV1) < value(.tripHighV2) && value(.tripHighT2) <= value(.tripHighT1)) { return false }
        if touches([.tripLowV1, .tripLowT1, .tripLowV2, .tripLowT2]),
           !(value(.tripLowV2) < value(.tripLowV1) && value(.tripLowT2) <= value(.tripLowT1)) { return false }
        if touches([.tripHighF1, .tripHighFrequencyT1, .tripHighF2, .tripHighFrequencyT2]),
           !(value(.tripHighF1) < value(.tripHighF2) && value(.tripHighFrequencyT2) <= value(.tripHighFrequencyT1)) { return false }
        if touches([.tripLowF1, .tripLowFrequencyT1, .tripLowF2, .tripLowFrequencyT2]),
           !(value(.tripLowF2) < value(.tripLowF1) && value(.tripLowFrequencyT2) <= value(.tripLowFrequencyT1)) { return false }
        return true
    }

    var netLoad: Double { -state.acPower }
    var nominalVoltage: Double { voltage }
    /// Reactive power while producing: volt-var injects (drawn negative) or absorbs.
    var netReactive: Double { state.acPower > 0 ? -support.reactive * ratings.apparentPower : 0 }

    /// An inverter that was already running: an hour under the sun as it is now, its ramp long done, its lifetime
    /// counter as it was.
    mutating func settle(site: SiteConditions) {
        let counted = state.lifetimeEnergy
        state = model.step(state, applying: PVInverterSetpoint(), for: 3600, weather: site.weather)
        state.lifetimeEnergy = counted
    }

    /// A control as applied, else its default.
    private static func value(_ control: Control, in applied: Settings) -> Double { applied[control] ?? defaultSettings[control] ?? 0 }

    /// The functions as the applied controls set them, among those the product has. A step asks twice (for its next
    /// event, then to advance) with the same settings, which change only when a write lands: the last answer is kept.
    private mutating func gridSupportSettings(_ applied: Settings) -> GridSupportSettings {
        if let memo, memo.applied == applied {
            // Equal settings in another dictionary (a write copied it): keep this one, so that later calls find the
            // very same storage, which compares without hashing a key, as long as nothing is written.
            self.memo = (applied, memo.settings)
            return memo.settings
        }
        func value(_ control: Control) -> Double { Self.value(control, in: applied) }
        func on(_ function: GridSupportFunction, _ enabled: Control) -> Bool { functions.contains(function) && value(enabled) != 0 }
        var settings = GridSupportSettings(ratings: ratings)
        let varCurve = Curve(zip([Control.voltVarV1, .voltVarV2, .voltVarV3, .voltVarV4], [Control.voltVarQ1, .voltVarQ2, .voltVarQ3, .voltVarQ4])
            .map { (value($0).fromPercent, value($1).fromPercent) })
        if varCurve.isValid { voltVar = varCurve }
        let wattCurve = Curve([(value(.voltWattV1).fromPercent, value(.voltWattP1).fromPercent), (value(.voltWattV2).fromPercent, value(.voltWattP2).fromPercent)])
        if wattCurve.isValid { voltWatt = wattCurve }
        if on(.voltVar, .voltVarEnabled) {
            settings.voltVar = voltVar
            settings.voltVarReference = ReactiveReference(rawValue: Int(value(.voltVarReference))) ?? .ratedApparentPower
            settings.voltVarResponse = value(.voltVarResponseSeconds)
        }
        if on(.voltWatt, .voltWattEnabled) {
            settings.voltWatt = voltWatt
            settings.voltWattReference = ActiveReference(rawValue: Int(value(.voltWattReference))) ?? .ratedPower
            settings.voltWattResponse = value(.voltWattResponseSeconds)
        }
        if on(.voltageTrip, .tripHighEnabled) {
            settings.trips += [TripSetting(.overVoltage, limit: value(.tripHighV1).fromPercent, seconds: value(.tripHighT1)),
                               TripSetting(.overVoltage, limit: value(.tripHighV2).fromPercent, seconds: value(.tripHighT2))]
        }
        if on(.voltageTrip, .tripLowEnabled) {
            settings.trips += [TripSetting(.underVoltage, limit: value(.tripLowV1).fromPercent, seconds: value(.tripLowT1)),
                               TripSetting(.underVoltage, limit: value(.tripLowV2).fromPercent, seconds: value(.tripLowT2))]
        }
        settings.reactiveMode = reactiveMode(value)
        if settings.reactiveMode == nil, on(.wattVar, .wattVarEnabled) {
            let curve = Curve(zip([Control.wattVarP1, .wattVarP2, .wattVarP3], [Control.wattVarQ1, .wattVarQ2, .wattVarQ3]).map { (value($0).fromPercent, value($1).fromPercent) })
            if curve.isValid {
                settings.reactiveMode = .wattVar(curve, ReactiveReference(rawValue: Int(value(.wattVarReference))) ?? .ratedApparentPower)
                settings.reactiveModeResponse = GridSupportSettings.wattVarResponse
            }
        }
        if on(.frequencyTrip, .tripHighFrequencyEnabled) {
            settings.trips += [TripSetting(.overFrequency, limit: value(.tripHighF1) / frequency, seconds: value(.tripHighFrequencyT1)),
                               TripSetting(.overFrequency, limit: value(.tripHighF2) / frequency, seconds: value(.tripHighFrequencyT2))]
        }
        if on(.frequencyTrip, .tripLowFrequencyEnabled) {
            settings.trips += [TripSetting(.underFrequency, limit: value(.tripLowF1) / frequency, seconds: value(.tripLowFrequencyT1)),
                               TripSetting(.underFrequency, limit: value(.tripLowF2) / frequency, seconds: value(.tripLowFrequencyT2))]
        }
        if on(.frequencyDroop, .frequencyDroopEnabled) {
            var droop = FrequencyDroop()
            droop.deadband = value(.frequencyDroopDeadband) / frequency
            droop.droop = value(.frequencyDroopK)
            droop.response = value(.frequencyDroopResponseSeconds)
            droop.minimumPower = value(.frequencyDroopMinimumPercent).fromPercent
            settings.frequencyDroop = droop
        }
        settings.enterService.isPermitted = value(.enterServicePermitted) != 0
        let (low, high) = (value(.enterServiceVoltageLow).fromPercent, value(.enterServiceVoltageHigh).fromPercent)
        settings.enterService.voltage = low...max(low, high)
        let (lowHz, highHz) = (value(.enterServiceFrequencyLow) / frequency, value(.enterServiceFrequencyHigh) / frequency)
        settings.enterService.frequency = lowHz...max(lowHz, highHz)
        settings.enterService.delay = value(.enterServiceDelaySeconds)
        settings.enterService.ramp = value(.enterServiceRampSeconds)
        memo = (applied, settings)
        return settings
    }

    /// SunSpec 704's constant var, else its constant power factor, in place of volt-var while enabled.
    private func reactiveMode(_ value: (Control) -> Double) -> ReactiveMode? {
        if value(.fixedVarEnabled) != 0 {
            let mode = Int(value(.fixedVarMode))
            // VarSetMod 0-3 are ReactiveReference's percentages; 4 is var, a share of the rated power in watts' number.
            return mode == 4 ? .constant(share: value(.fixedVar) / ratings.ratedPower, of: .ratedPower)
                : .constant(share: value(.fixedVarPercent).fromPercent, of: ReactiveReference(rawValue: mode) ?? .ratedApparentPower)
        }
        let factors = Self.powerFactorControls.map { enabled, factor, excitation, _, _, _, _ in
            value(enabled) != 0 ? PowerFactor(value(factor), overExcited: value(excitation) == 0) : nil
        }
        return factors.contains { $0 != nil } ? .powerFactor(injecting: factors[0], absorbing: factors[1]) : nil
    }

    private func grid(_ site: SiteConditions) -> GridConditions {
        GridConditions(voltage: (site.voltage ?? voltage) / voltage, frequency: (site.frequency ?? frequency) / frequency)
    }

    /// A trip's clearing time or the enter-service delay running out within the step: the emulator ends a step
    /// there, so that protection is timed by the standard, not by the rig's control period.
    mutating func nextEvent(applied: Settings, site: SiteConditions) -> Double? {
        GridSupport.nextEvent(support, settings: gridSupportSettings(applied), grid: grid(site))
    }

    /// Whether the DER energizes is decided at the step's start (steps end at trips and at entering service); the
    /// responses' lags and ramps are taken at its end, as the inverter's own output is.
    mutating func step(applied: Settings, at time: Double, for seconds: Double, site: SiteConditions) {
        (gridVoltage, gridFrequency) = (site.voltage ?? voltage, site.frequency ?? frequency)
        let settings = gridSupportSettings(applied)
        let rated = model.ratings.ratedPower
        let wasTripped = support.isTripped
        support = GridSupport.step(support, settings: settings, grid: grid(site), active: state.acPower / rated,
                                   available: state.availablePower / rated, for: seconds)
        var ratedModel = model
        let rampSeconds = applied[.powerLimitRampSeconds] ?? 0
        if rampSeconds > 0 { ratedModel.ratings.rampRate = 1 / rampSeconds }
        let limited = (applied[.powerLimitEnabled] ?? 0) != 0
        let ceiling = site.solarShare < 1 ? site.solarShare * state.availablePower : nil  // frequency-watt on an island
        let written = limited ? (applied[.powerLimitPercent] ?? 100).fromPercent * rated : nil
        let fixed = Self.fixedPower(applied, rated: rated).map { max(0, $0) }  // a PV inverter cannot draw to meet it
        // The grid-support ceiling, and what the apparent-power rating leaves beside volt-var's reactive power.
        let reactive = support.reactive * ratings.apparentPower, supportCeiling = support.powerCeiling(settings)
        let supported = supportCeiling < 1 || reactive != 0
            ? min(supportCeiling * rated, max(0, ratings.apparentPower * ratings.apparentPower - reactive * reactive).squareRoot()) : nil
        let setpoint = PVInverterSetpoint(isConnected: (applied[.connect] ?? 1) != 0, powerLimit: [written, fixed, ceiling, supported].compactMap { $0 }.min(),
                                          isTripped: wasTripped)
        state = ratedModel.step(state, applying: setpoint, for: seconds, weather: site.weather)
        if support.isTripped {  // tripped at the step's end: it ceases to energize from this instant
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
        case .ratedReactivePower: return ratings.reactivePower
        case .ratedApparentPower: return ratings.apparentPower
        case .derOn: return (applied[.connect] ?? 1) != 0 && !support.isTripped ? 1 : 0
        case .gridConnected: return support.isTripped ? 0 : 1
        case .derInverterState:
            switch state.status {
            case .off, .fault: return 0
            case .sleeping, .standby: return 1
            case .mppt: return 3
            case .throttled: return 4
            }
        case .enterServiceRemaining:
            return support.isTripped ? max(0, Self.value(.enterServiceDelaySeconds, in: applied) - support.inBandFor) : 0
        case .rampRate: return model.ratings.rampRate * 100
        case .trips: return Double(support.trips)
        case .tripped: return support.isTripped ? 1 : 0
        default: return acReading(quantity, power: state.acPower, reactive: -netReactive, voltage: gridVoltage, phases: phases, frequency: gridFrequency)
        }
    }
}
