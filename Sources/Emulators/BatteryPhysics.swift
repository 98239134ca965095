import Physics

/// A storage inverter behind SunSpec 124: outside forced windows it runs self-consumption (drives the house's
/// net power toward zero); StorCtl_Mod, InWRte and OutWRte bound that window (Fronius semantics).
struct BatteryPhysics: DevicePhysics {
    private var model: Battery
    private var state: BatteryState
    private let phases: Double, acVoltage: Double, frequency: Double

    private static let fields: [RatingField<BatteryRatings>] = [
        RatingField(.capacity, \.capacity), RatingField(.maxChargePower, \.maxChargePower),
        RatingField(.maxDischargePower, \.maxDischargePower), RatingField(.roundTripEfficiency, \.roundTripEfficiency),
        RatingField(.minimumSoC, \.minimumSoC, factor: 0.01), RatingField(.maximumSoC, \.maximumSoC, factor: 0.01),
        RatingField(.rampRate, \.rampRate), RatingField(.nominalVoltage, \.nominalVoltage),
    ]
    static let ratingDefaults = fields.defaults(of: BatteryRatings())
        .merging([.phases: 3, .nominalFrequency: 50, .acVoltage: 230]) { $1 }

    init(profile: DeviceProfile, parameters: DeviceParameters) {
        model = Battery(ratings: Self.fields.ratings(from: profile, base: BatteryRatings()))
        state = model.initialState(stateOfCharge: (parameters.initialSoC ?? 50).fromPercent)
        phases = profile.rating(.phases)
        acVoltage = profile.rating(.acVoltage)
        frequency = profile.rating(.nominalFrequency)
    }

    static let defaultSettings: Settings = [
        .storageControlMode: 0, .chargeRatePercent: 100, .dischargeRatePercent: 100, .rateRevertSeconds: 0,
        .chargePowerLimit: .nan, .minimumReservePercent: 0, .gridCharging: 1,
        .powerLimitEnabled: 0, .powerLimitPercent: 100, .powerLimitRevertSeconds: 0,
    ].merging(acControlDefaults) { $1 }

    /// `WSetMod` takes 0 (% of the rated power) or 1 (W).
    func accept(_ control: Control, _ value: Double, requested: Settings) -> Settings? {
        control == .fixedPowerMode && !(value == 0 || value == 1) ? nil : [control: value]
    }

    var netLoad: Double { -state.power }

    func window(_ applied: Settings) -> ClosedRange<Double> { Self.window(applied, maxChargePower: model.ratings.maxChargePower) }

    /// The AC power window [charge, discharge] (W, + discharge) that StorCtl_Mod, InWRte and OutWRte allow.
    static func window(_ applied: Settings, maxChargePower: Double) -> ClosedRange<Double> {
        let base = applied[.chargePowerLimit].flatMap { $0.isNaN ? nil : $0 } ?? maxChargePower
        let mode = Int(applied[.storageControlMode] ?? 0)
        let low = mode & 1 != 0 ? -(applied[.chargeRatePercent] ?? 100).fromPercent * base : -base
        let high = mode & 2 != 0 ? (applied[.dischargeRatePercent] ?? 100).fromPercent * base : base
        return min(low, high)...max(low, high)
    }

    /// 704's fixed active power, when enabled, sets the power whatever 124's window; 704's power limit (of the rated
    /// power, as 702 `WMaxRtg` shows it) caps discharging.
    mutating func step(applied: Settings, at time: Double, for seconds: Double, site: SiteConditions) {
        let rated = model.ratings.maxDischargePower
        var target: Double
        if let fixed = Self.fixedPower(applied, rated: rated) {
            target = fixed
        } else {
            let allowed = window(applied)
            target = min(max(site.houseLoad, allowed.lowerBound), allowed.upperBound)
            if target < 0, (applied[.gridCharging] ?? 1) == 0 {
                target = max(target, min(0, site.houseLoad))  // PV surplus only
            }
        }
        if (applied[.powerLimitEnabled] ?? 0) != 0 { target = min(target, (applied[.powerLimitPercent] ?? 100).fromPercent * rated) }
        let reserve = max(applied[.minimumReservePercent] ?? 0, model.ratings.minimumSoC * 100)
        if target > 0, state.stateOfCharge(model.ratings) * 100 <= reserve { target = 0 }
        state = model.step(state, toward: target, for: seconds)
    }

    func reading(_ quantity: Quantity, requested: Settings, applied: Settings) -> Double? {
        let ratings = model.ratings
        switch quantity {
        case .batteryPower, .acPower: return state.power
        case .lifetimeEnergy: return 1_000_000 + state.dischargedEnergy
        case .stateOfCharge: return state.stateOfCharge(ratings) * 100
        case .chargeStatus: return Double(model.chargeStatus(state).rawValue)
        case .capacity: return ratings.capacity
        case .storedEnergy: return state.stored
        case .capacityAh: return ratings.capacity / ratings.nominalVoltage
        case .availableAh: return max(0, state.stored - ratings.minimumSoC * ratings.capacity) / ratings.nominalVoltage
        case .maxChargePower, .ratedPower: return ratings.maxChargePower
        case .maxDischargePower: return ratings.maxDischargePower
        case .minimumSoC: return ratings.minimumSoC * 100
        case .maximumSoC: return ratings.maximumSoC * 100
        case .forcedPower:
            if let fixed = Self.fixedPower(applied, rated: ratings.maxDischargePower) { return fixed }
            let allowed = window(applied)
            return allowed.lowerBound > 0 ? allowed.lowerBound : allowed.upperBound < 0 ? allowed.upperBound : 0
        case .batteryVoltage, .dcVoltage: return ratings.nominalVoltage * (0.9 + 0.2 * state.stateOfCharge(ratings))
        case .batteryCurrent, .dcCurrent: return state.power / ratings.nominalVoltage
        case .dcPower: return state.power
        case .rampRate: return ratings.rampRate / ratings.maxChargePower * 100
        case .inverterStatus: return Double((state.power == 0 ? InverterStatus.standby : .mppt).rawValue)  // 103 St: idle or running
        case .derOn, .gridConnected: return 1
        case .derInverterState: return state.power == 0 ? 1 : 3  // 701 InvSt: sleeping or running
        default: return acReading(quantity, power: state.power, voltage: acVoltage, phases: phases, frequency: frequency)
        }
    }
}
