import Physics

/// A site meter: measures the net load of everything behind it (`SiteConditions.houseLoad`).
struct MeterPhysics: DevicePhysics {
    private let model: SiteMeter
    private var state: SiteMeterState
    /// +1 reports import as positive W (evcc's convention), −1 reports export as positive (SolarEdge's).
    private let sign: Double

    init(profile: DeviceProfile, parameters: DeviceParameters) {
        var ratings = SiteMeterRatings()
        ratings.nominalVoltage = profile.rating("nominal-voltage")
        ratings.nominalFrequency = profile.rating("nominal-frequency")
        ratings.voltageSensitivity = profile.rating("voltage-sensitivity")
        ratings.voltageNoise = profile.rating("voltage-noise")
        ratings.frequencyNoise = profile.rating("frequency-noise")
        model = SiteMeter(ratings: ratings)
        state = SiteMeterState(ratings: ratings, seed: parameters.seed)
        sign = profile.rating("import-positive") == 0 ? -1 : 1
    }

    static let defaultSettings: Settings = [:]

    var netLoad: Double { 0 }

    mutating func step(applied: Settings, at time: Double, for seconds: Double, site: SiteConditions) {
        state = model.step(state, netLoad: site.houseLoad, for: seconds)
    }

    func reading(_ quantity: Quantity, requested: Settings, applied: Settings) -> Double? {
        switch quantity {
        case .gridPower: sign * state.power
        case .phasePower: sign * state.power / 3
        case .importedEnergy: state.importedEnergy
        case .exportedEnergy: state.exportedEnergy
        default: acReading(quantity, power: state.power, voltage: state.voltage, phases: 3, frequency: state.frequency)
        }
    }
}
