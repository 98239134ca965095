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

/// A day of weather as a function of the time of day (seconds since midnight, wrapping daily): built-in curves,
/// or a measured series.
public enum DayCurve: Sendable, Equatable {
    /// Sunrise 06:00, sunset 18:00, peak `peakIrradiance` at noon; temperature from `low` at 05:00 to `high` at 15:00.
    case clear(peakIrradiance: Double = 950, low: Double = 14, high: Double = 26)
    /// The clear curve with clouds passing: irradiance cut by 20-90 % in seeded 10-minute spells.
    case cloudy(seed: UInt64, peakIrradiance: Double = 950, low: Double = 12, high: Double = 20)
    /// Measured weather: samples at times of day (seconds since midnight, ascending), interpolated linearly and
    /// wrapping from the last sample to the first over midnight.
    case series([(time: Double, weather: Weather)])

    public static func == (left: DayCurve, right: DayCurve) -> Bool {
        switch (left, right) {
        case let (.clear(a, b, c), .clear(d, e, f)): a == d && b == e && c == f
        case let (.cloudy(a, b, c, d), .cloudy(e, f, g, h)): a == e && b == f && c == g && d == h
        case let (.series(a), .series(b)): a.count == b.count && zip(a, b).allSatisfy { $0.time == $1.time && $0.weather == $1.weather }
        default: false
        }
    }

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
        case .series(let samples):
            guard let first = samples.first, let last = samples.last else { return Weather(irradiance: 0, outdoorTemperature: 15) }
            // The samples around `day`, the pair across midnight when it falls outside them.
            let after = samples.firstIndex { $0.time >= day }
            let (before, next) = after.map { index in index == 0 ? (last, first) : (samples[index - 1], samples[index]) } ?? (last, first)
            var span = next.time - before.time, offset = day - before.time
            if span <= 0 { span += 86_400 }
            if offset < 0 { offset += 86_400 }
            let fraction = span > 0 ? min(max(offset / span, 0), 1) : 0
            func mix(_ a: Double, _ b: Double) -> Double { a + (b - a) * fraction }
            return Weather(irradiance: mix(before.weather.irradiance, next.weather.irradiance),
                           outdoorTemperature: mix(before.weather.outdoorTemperature, next.weather.outdoorTemperature))
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
