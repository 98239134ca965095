/// A nameplate figure of a product, as a profile's `ratings:` names it; which ones a kind of device has, and their
/// defaults, the emulators say (`DeviceKind.ratingDefaults`). Units are the profile's: W, Wh, V, A, Hz, s, %, °C.
public enum Rating: String, Sendable, CaseIterable, Comparable, CodingKeyRepresentable, Codable {
    // PV inverter
    case arrayPeakPower = "array-peak-power", ratedPower = "rated-power", peakEfficiency = "peak-efficiency"
    case temperatureCoefficient = "temperature-coefficient", mpptCount = "mppt-count"
    case ratedApparentPower = "rated-apparent-power", ratedReactivePower = "rated-reactive-power"
    // battery
    case capacity, maxChargePower = "max-charge-power", maxDischargePower = "max-discharge-power"
    case roundTripEfficiency = "round-trip-efficiency", minimumSoC = "minimum-soc", maximumSoC = "maximum-soc"
    case acVoltage = "ac-voltage"
    // heat pump and house
    case thermalResistance = "thermal-resistance", thermalCapacitance = "thermal-capacitance", solarAperture = "solar-aperture"
    case internalGains = "internal-gains", heatingCapacity = "heating-capacity", coolingCapacity = "cooling-capacity"
    case heatingCOP = "heating-cop", coolingCOP = "cooling-cop", fanPower = "fan-power", minimumCycle = "minimum-cycle", deadband
    // EV charger
    case maxCurrent = "max-current", minimumCurrent = "minimum-current", voltage, pwmInterval = "pwm-interval"
    case vehicleResponseDelay = "vehicle-response-delay"
    // meter
    case voltageSensitivity = "voltage-sensitivity", voltageNoise = "voltage-noise", frequencyNoise = "frequency-noise"
    case importPositive = "import-positive"
    // shared
    case rampRate = "ramp-rate", nominalVoltage = "nominal-voltage", nominalFrequency = "nominal-frequency", phases

    public static func < (lhs: Rating, rhs: Rating) -> Bool { lhs.rawValue < rhs.rawValue }
}
