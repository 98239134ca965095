import Foundation  // exp, sin, cos, pow only

/// Conditions outside, at one instant.
public struct Weather: Sendable, Equatable {
    /// Global horizontal irradiance, W/m².
    public var irradiance: Double
    /// Outdoor air temperature, °C.
    public var outdoorTemperature: Double

    public init(irradiance: Double, outdoorTemperature: Double) {
        self.irradiance = irradiance
        self.outdoorTemperature = outdoorTemperature
    }
}

/// A built-in day of weather as a function of the time of day (seconds since midnight, wrapping daily).
public enum DayCurve: Sendable, Equatable {
    /// Sunrise 06:00, sunset 18:00, peak `peakIrradiance` at noon; temperature from `low` at 05:00 to `high` at 15:00.
    case clear(peakIrradiance: Double = 950, low: Double = 14, high: Double = 26)
    /// The clear curve with clouds passing: irradiance cut by 20-90 % in seeded 10-minute spells.
    case cloudy(seed: UInt64, peakIrradiance: Double = 950, low: Double = 12, high: Double = 20)

    public func weather(at seconds: Double) -> Weather {
        let day = seconds.truncatingRemainder(dividingBy: 86_400) + (seconds < 0 ? 86_400 : 0)
        let hour = day / 3600
        switch self {
        case .clear(let peak, let low, let high):
            return Weather(irradiance: Self.sun(hour, peak: peak), outdoorTemperature: Self.temperature(hour, low: low, high: high))
        case .cloudy(let seed, let peak, let low, let high):
            let spell = UInt64(day / 600)
            var generator = SplitMix64(seed: seed &+ spell &* 0x2545_F491_4F6C_DD1D)
            let cover = Double.random(in: 0.2...0.9, using: &generator)
            return Weather(irradiance: Self.sun(hour, peak: peak) * (1 - cover), outdoorTemperature: Self.temperature(hour, low: low, high: high))
        }
    }

    private static func sun(_ hour: Double, peak: Double) -> Double {
        guard hour > 6, hour < 18 else { return 0 }
        return peak * pow(sin(Double.pi * (hour - 6) / 12), 1.5)
    }

    /// Coolest at 03:00, warmest at 15:00.
    private static func temperature(_ hour: Double, low: Double, high: Double) -> Double {
        (low + high) / 2 + (high - low) / 2 * sin(2 * Double.pi * (hour - 9) / 24)
    }
}

/// A household's unresponsive consumption over a day, in watts: a morning and an evening peak over a floor,
/// scaled so that the daily mean is `mean`.
public struct BaseLoad: Sendable, Equatable {
    public var mean: Double

    public init(mean: Double) { self.mean = mean }

    public func power(at seconds: Double) -> Double {
        let hour = (seconds.truncatingRemainder(dividingBy: 86_400) + 86_400).truncatingRemainder(dividingBy: 86_400) / 3600
        func peak(_ center: Double, _ width: Double) -> Double { exp(-pow((hour - center) / width, 2)) }
        let shapeMean = 0.55 + (0.9 * 1.2 + 1.4 * 2.0) * Double.pi.squareRoot() / 24
        return mean * (0.55 + 0.9 * peak(7.5, 1.2) + 1.4 * peak(19, 2.0)) / shapeMean
    }
}
