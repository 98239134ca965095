import Physics

/// A site meter: measures the net load of everything behind it (`SiteConditions.houseLoad`).
struct MeterPhysics: DevicePhysics {
    private let model: SiteMeter
    private var state: SiteMeterState
    /// +1 reports import as positive W (evcc's convention), −1 reports export as positive (SolarEdge's).
    private let sign: Double

    private static let fields: [RatingField<SiteMeterRatings>] = [
        RatingField(.nominalVoltage, \.nominalVoltage), RatingField(.nominalFrequency, \.nominalFrequency),
        RatingField(.voltageSensitivity, \.voltageSensitivity), RatingField(.voltageNoise, \.voltageNoise),
        RatingField(.frequencyNoise, \.frequencyNoise),
    ]
    static let ratingDefaults = fields.defaults(of: SiteMeterRatings()).merging([.importPositive: 1]) { $1 }

    init(profile: DeviceProfile, parameters: DeviceParameters) {
        let ratings = Self.fields.ratings(from: profile, base: SiteMeterRatings())
        model = SiteMeter(ratings: ratings)
        state = SiteMeterState(ratings: ratings, seed: parameters.seed)
        sign = profile.rating(.importPositive) == 0 ? -1 : 1
    }

    static let defaultSettings: Settings = [:]

    var netLoad: Double { 0 }
    var nominalVoltage: Double { model.ratings.nominalVoltage }

    mutating func step(applied: Settings, at time: Double, for seconds: Double, site: SiteConditions) {
        state = model.step(state, netLoad: site.houseLoad, reactive: site.houseReactive, gridVoltage: site.voltage, gridFrequency: site.frequency,
                           for: seconds)
    }

    func reading(_ quantity: Quantity, requested: Settings, applied: Settings) -> Double? {
        switch quantity {
        case .gridPower: sign * state.power
        case .phasePower: sign * state.power / 3
        case .importedEnergy: state.importedEnergy
        case .exportedEnergy: state.exportedEnergy
        case .reactivePower: sign * state.reactivePower
        default: acReading(quantity, power: state.power, reactive: state.reactivePower, voltage: state.voltage, phases: 3, frequency: state.frequency)
        }
    }
}
