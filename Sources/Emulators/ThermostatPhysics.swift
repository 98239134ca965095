import Physics

/// A heat pump thermostat with the Intesis map's modes (0 auto, 1 heat, 2 dry, 3 fan, 4 cool) over a 1R1C house.
struct ThermostatPhysics: DevicePhysics {
    private let model: House
    private var state: HouseState
    private let deadband: Double
    private var outdoorTemperature: Double = 15

    private static let fields: [RatingField<HouseRatings>] = [
        RatingField(.thermalResistance, \.thermalResistance), RatingField(.thermalCapacitance, \.thermalCapacitance),
        RatingField(.solarAperture, \.solarAperture), RatingField(.internalGains, \.internalGains),
        RatingField(.heatingCapacity, \.heatingCapacity), RatingField(.coolingCapacity, \.coolingCapacity),
        RatingField(.heatingCOP, \.heatingCOP), RatingField(.coolingCOP, \.coolingCOP),
        RatingField(.fanPower, \.fanPower), RatingField(.minimumCycle, \.minimumCycle),
    ]
    static let ratingDefaults = fields.defaults(of: HouseRatings()).merging([.deadband: 1]) { $1 }

    init(profile: DeviceProfile, parameters: DeviceParameters) {
        model = House(ratings: Self.fields.ratings(from: profile, base: HouseRatings()))
        state = HouseState(roomTemperature: parameters.roomTemperature ?? 21)
        deadband = profile.rating(.deadband)
    }

    static let defaultSettings: Settings = [
        .power: 1, .mode: 0, .fanSpeed: 0, .activeSetpoint: 22, .heatSetpoint: 20, .coolSetpoint: 24, .setpointOffset: 0,
    ]

    private static let modes: [Int: HVACMode] = [0: .auto, 1: .heat, 2: .dry, 3: .fan, 4: .cool]

    var netLoad: Double { state.electricPower }

    func setpoint(_ settings: Settings) -> ThermostatSetpoint {
        let offset = settings[.setpointOffset] ?? 0
        let mode = (settings[.power] ?? 1) == 0 ? .off : Self.modes[Int(settings[.mode] ?? 0)] ?? .auto
        return ThermostatSetpoint(mode: mode, heat: (settings[.heatSetpoint] ?? 20) + offset,
                                  cool: (settings[.coolSetpoint] ?? 24) + offset, deadband: deadband,
                                  fanSpeed: Int(settings[.fanSpeed] ?? 0))
    }

    /// The active mode's setpoint: heat, cool, or their midpoint in auto.
    private func active(_ settings: Settings) -> Double {
        let heat = settings[.heatSetpoint] ?? 20, cool = settings[.coolSetpoint] ?? 24
        switch Int(settings[.mode] ?? 0) {
        case 1: return heat
        case 0: return (heat + cool) / 2
        default: return cool
        }
    }

    /// Writing the active setpoint moves the active mode's setpoint (both, keeping their gap, in auto);
    /// heat and cool setpoints must stay at least 1 K apart.
    func accept(_ control: Control, _ value: Double, requested: Settings) -> Settings? {
        let heat = requested[.heatSetpoint] ?? 20, cool = requested[.coolSetpoint] ?? 24
        switch control {
        case .activeSetpoint:
            switch Int(requested[.mode] ?? 0) {
            case 1: return [.heatSetpoint: value]
            case 0: let shift = value - (heat + cool) / 2; return [.heatSetpoint: heat + shift, .coolSetpoint: cool + shift]
            default: return [.coolSetpoint: value]
            }
        case .heatSetpoint: return value <= cool - 1 ? [control: value] : nil
        case .coolSetpoint: return value >= heat + 1 ? [control: value] : nil
        default: return [control: value]
        }
    }

    mutating func step(applied: Settings, at time: Double, for seconds: Double, site: SiteConditions) {
        outdoorTemperature = site.weather.outdoorTemperature
        state = model.step(state, applying: setpoint(applied), for: seconds, weather: site.weather)
    }

    func reading(_ quantity: Quantity, requested: Settings, applied: Settings) -> Double? {
        switch quantity {
        case .roomTemperature: state.roomTemperature
        case .outdoorTemperature: outdoorTemperature
        case .hvacAction: Double(state.action.rawValue)
        case .hvacPower: state.electricPower
        case .hvacEnergy: state.electricEnergy
        case .fanRunning: state.action == .off || state.action == .idle ? 0 : 1
        case .effectiveSetpoint: active(applied) + (applied[.setpointOffset] ?? 0)
        default: nil
        }
    }

    /// Control registers show what was written; the alias shows the active mode's setpoint.
    func controlValue(_ control: Control, requested: Settings) -> Double? {
        control == .activeSetpoint ? active(requested) : nil
    }
}
