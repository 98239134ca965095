import Foundation  // exp

/// A piecewise-linear curve through points in rising x, held flat beyond its ends: the shape of IEEE 1547's
/// volt-var and volt-watt settings.
public struct Curve: Sendable, Equatable {
    public var points: [(x: Double, y: Double)]

    public init(_ points: [(x: Double, y: Double)]) { self.points = points }

    /// Whether x rises (equal x would make a step, which no product accepts).
    public var isValid: Bool { !points.isEmpty && zip(points, points.dropFirst()).allSatisfy { $0.x < $1.x } }

    public func value(at x: Double) -> Double {
        guard let first = points.first, let last = points.last else { return 0 }
        if x <= first.x { return first.y }
        if x >= last.x { return last.y }
        let upper = points.firstIndex { $0.x >= x }!
        let (a, b) = (points[upper - 1], points[upper])
        return a.y + (b.y - a.y) * (x - a.x) / (b.x - a.x)
    }

    public static func == (lhs: Curve, rhs: Curve) -> Bool {
        lhs.points.count == rhs.points.count && zip(lhs.points, rhs.points).allSatisfy { $0.x == $1.x && $0.y == $1.y }
    }
}

/// One must-trip setting: the inverter ceases to energize once the voltage has stayed beyond `voltage` (per unit,
/// above it for over-voltage, below it for under-voltage) for `seconds`.
public struct TripSetting: Sendable, Equatable {
    public var voltage: Double
    public var seconds: Double
    public var isOverVoltage: Bool

    public init(voltage: Double, seconds: Double, isOverVoltage: Bool) {
        (self.voltage, self.seconds, self.isOverVoltage) = (voltage, seconds, isOverVoltage)
    }

    func isViolated(by voltage: Double) -> Bool { isOverVoltage ? voltage > self.voltage : voltage < self.voltage }
}

/// The IEEE 1547-2018 behaviours a product has, as they are set now (nil: the function is off or absent).
/// Voltages are per unit of nominal; reactive power is a fraction of the rated reactive power (positive: injected,
/// raising the voltage), active power a fraction of rated power.
public struct GridSupportSettings: Sendable, Equatable {
    public var voltVar: Curve?
    public var voltWatt: Curve?
    /// Open-loop response times: 90 % of a step change is reached in this time, s.
    public var voltVarResponse: Double = 5
    public var voltWattResponse: Double = 10
    public var trips: [TripSetting] = []
    /// After a trip, the voltage must stay within `returnBand` this long before the inverter energizes again, s.
    public var reconnectDelay: Double = 300
    public var returnBand: ClosedRange<Double> = 0.917...1.05

    public init() {}

    /// Category B defaults of IEEE 1547-2018 (volt-var and volt-watt), and the Category II trip settings.
    public static let standard: GridSupportSettings = {
        var settings = GridSupportSettings()
        settings.voltVar = Curve([(0.92, 0.44), (0.98, 0), (1.02, 0), (1.08, -0.44)])
        settings.voltWatt = Curve([(1.06, 1), (1.10, 0)])
        settings.trips = [TripSetting(voltage: 1.10, seconds: 2, isOverVoltage: true), TripSetting(voltage: 1.20, seconds: 0.16, isOverVoltage: true),
                          TripSetting(voltage: 0.70, seconds: 10, isOverVoltage: false), TripSetting(voltage: 0.45, seconds: 0.16, isOverVoltage: false)]
        return settings
    }()
}

/// Where the grid-support functions stand.
public struct GridSupportState: Sendable, Equatable {
    /// Reactive power now, as a fraction of rated reactive power, and the active-power ceiling as a fraction of
    /// rated power; each follows its curve with a first-order lag.
    public var reactive: Double = 0
    public var powerCeiling: Double = 1
    /// Seconds each trip setting has been violated without a break.
    public var violated: [Double] = []
    /// Tripped: not energizing until the voltage has been back in band for the reconnection delay.
    public var isTripped = false
    public var inBandFor: Double = 0
    /// Trips since the start.
    public var trips = 0

    public init() {}
}

/// IEEE 1547-2018 voltage responses of one inverter: volt-var, volt-watt, and must-trip with a reconnection delay.
public enum GridSupport {
    /// Advances `seconds` at `voltage` (per unit). A trip setting trips once its violation has lasted its clearing
    /// time within this step; the functions' outputs move toward their curves at their response times.
    public static func step(_ state: GridSupportState, settings: GridSupportSettings, voltage: Double, for seconds: Double) -> GridSupportState {
        var next = state
        if next.violated.count != settings.trips.count { next.violated = Array(repeating: 0, count: settings.trips.count) }
        for (index, trip) in settings.trips.enumerated() {
            next.violated[index] = trip.isViolated(by: voltage) ? next.violated[index] + seconds : 0
        }
        if next.isTripped {
            next.inBandFor = settings.returnBand.contains(voltage) ? next.inBandFor + seconds : 0
            if next.inBandFor >= settings.reconnectDelay { next.isTripped = false }
        } else if zip(settings.trips, next.violated).contains(where: { $0.0.seconds <= $0.1 + 1e-9 }) {
            next.isTripped = true
            next.inBandFor = 0
            next.trips += 1
        }
        func approach(_ value: Double, _ target: Double, response: Double) -> Double {
            // A first-order lag reaching 90 % in `response` seconds: time constant response / ln 10.
            let share = response > 0 ? 1 - exp(-seconds * 2.302585092994046 / response) : 1
            return value + (target - value) * share
        }
        next.reactive = approach(state.reactive, next.isTripped ? 0 : settings.voltVar?.value(at: voltage) ?? 0, response: settings.voltVarResponse)
        next.powerCeiling = approach(state.powerCeiling, settings.voltWatt?.value(at: voltage) ?? 1, response: settings.voltWattResponse)
        return next
    }
}
