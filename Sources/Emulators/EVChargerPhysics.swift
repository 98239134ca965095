import Physics

/// A mode-3 charger and its visiting vehicle; the setpoint is a per-phase current limit and a phase count.
struct EVChargerPhysics: DevicePhysics {
    private let model: EVCharger
    private var state = EVChargerState()
    private let session: VehicleSession?
    private let frequency: Double
    private var chargingSeconds: Double = 0

    private static let fields: [RatingField<EVChargerRatings>] = [
        RatingField(.maxCurrent, \.maxCurrent), RatingField(.minimumCurrent, \.minimumCurrent),
        RatingField(.voltage, \.voltage), RatingField(.pwmInterval, \.pwmInterval),
        RatingField(.vehicleResponseDelay, \.vehicleResponseDelay),
    ]
    static let ratingDefaults = fields.defaults(of: EVChargerRatings()).merging([.phases: 3, .nominalFrequency: 50]) { $1 }

    init(profile: DeviceProfile, parameters: DeviceParameters) {
        var ratings = Self.fields.ratings(from: profile, base: EVChargerRatings())
        ratings.phases = Int(profile.rating(.phases))
        model = EVCharger(ratings: ratings)
        session = parameters.vehicle
        frequency = profile.rating(.nominalFrequency)
    }

    static let defaultSettings: Settings = [.maxCurrent: 16, .phases: 3, .chargingEnabled: 1]

    var netLoad: Double { state.power }

    private func currentLimit(_ applied: Settings) -> Double {
        (applied[.chargingEnabled] ?? 1) == 0 ? 0 : min(applied[.maxCurrent] ?? 0, model.ratings.maxCurrent)
    }

    mutating func step(applied: Settings, at time: Double, for seconds: Double, site: SiteConditions) {
        let setpoint = EVChargerSetpoint(currentLimit: currentLimit(applied), phases: Int(applied[.phases] ?? 3))
        if state.pilot == .a { chargingSeconds = 0 }
        state = model.step(state, applying: setpoint, at: time, for: seconds, session: session)
        if state.pilot.isCharging { chargingSeconds += seconds }
    }

    func reading(_ quantity: Quantity, requested: Settings, applied: Settings) -> Double? {
        switch quantity {
        case .pilotState: Double(state.pilot.index)
        case .appliedCurrent: currentLimit(applied)
        case .chargingCurrent, .phaseCurrent: state.current
        case .chargingCurrentL2L3: state.activePhases == 3 ? state.current : 0
        case .chargingCurrentSum, .acCurrent: state.current * Double(state.activePhases)
        case .chargingPowerL1: state.activePhases > 0 ? state.power / Double(state.activePhases) : 0
        case .chargingPowerL2L3: state.activePhases == 3 ? state.power / 3 : 0
        case .chargingPower, .acPower: state.power
        case .sessionEnergy: state.sessionEnergy
        case .totalEnergy: state.totalEnergy
        case .setpointAccounted:
            (requested[.maxCurrent] ?? 0) <= model.ratings.maxCurrent && applied[.maxCurrent] == requested[.maxCurrent] ? 1 : 0
        case .activePhases: Double(state.activePhases)
        case .vehicleSoC: state.vehicleSoC(session) * 100
        case .chargingSeconds: chargingSeconds
        default: acReading(quantity, power: state.power, voltage: model.ratings.voltage,
                           phases: Double(model.ratings.phases), frequency: frequency)
        }
    }
}
