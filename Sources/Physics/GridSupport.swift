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

/// The grid at a DER's connection, per unit of nominal voltage and nominal frequency.
public struct GridConditions: Sendable, Equatable {
    public var voltage: Double
    public var frequency: Double

    public init(voltage: Double = 1, frequency: Double = 1) { (self.voltage, self.frequency) = (voltage, frequency) }
}

/// One must-trip setting (IEEE 1547-2018 6.4.1 and 6.5.1): the DER ceases to energize and trips once the voltage or
/// frequency has stayed beyond `limit` (per unit) for `seconds`, its clearing time.
public struct TripSetting: Sendable, Equatable {
    public enum Kind: Sendable, Equatable { case overVoltage, underVoltage, overFrequency, underFrequency }

    public var kind: Kind
    public var limit: Double
    public var seconds: Double

    public init(_ kind: Kind, limit: Double, seconds: Double) { (self.kind, self.limit, self.seconds) = (kind, limit, seconds) }

    func isViolated(by grid: GridConditions) -> Bool {
        switch kind {
        case .overVoltage: grid.voltage > limit
        case .underVoltage: grid.voltage < limit
        case .overFrequency: grid.frequency > limit
        case .underFrequency: grid.frequency < limit
        }
    }
}

/// What a volt-var curve's reactive power is a percentage of: SunSpec 705 `DeptRef`, numbered as the current
/// model definition numbers it.
public enum ReactiveReference: Int, Sendable, CaseIterable {
    case ratedPower = 0, ratedReactivePower = 1, availableReactivePower = 2, ratedApparentPower = 3
}

/// What a volt-watt curve's active power is a percentage of: SunSpec 706 `DeptRef`.
public enum ActiveReference: Int, Sendable, CaseIterable {
    case ratedPower = 0, availablePower = 1
}

/// The DER's nameplate as the grid-support functions see it: W, VA and var.
public struct GridSupportRatings: Sendable, Equatable {
    public var ratedPower: Double
    public var apparentPower: Double
    /// The reactive power the DER can inject or absorb (Category B: 44 % of its apparent power).
    public var reactivePower: Double

    public init(ratedPower: Double, apparentPower: Double, reactivePower: Double) {
        (self.ratedPower, self.apparentPower, self.reactivePower) = (ratedPower, apparentPower, reactivePower)
    }
}

/// Frequency droop (IEEE 1547-2018 6.5.2.7, frequency-watt): beyond its dead band the DER changes its active power
/// by the frequency deviation over `droop`, from what it gave when the deviation began.
public struct FrequencyDroop: Sendable, Equatable {
    /// Dead band above nominal frequency, per unit (0.036 Hz of 60 Hz).
    public var deadband = 0.036 / 60
    /// Per-unit frequency change for a change of rated power (5 %).
    public var droop = 0.05
    /// Open-loop response time, s.
    public var response = 5.0
    /// The least active power droop brings the DER to, fraction of rated power.
    public var minimumPower = 0.0

    public init() {}
}

/// A power factor a DER holds: its magnitude (0-1] and whether it is over-excited (injecting reactive power).
public struct PowerFactor: Sendable, Equatable {
    public var value: Double
    public var isOverExcited: Bool

    public init(_ value: Double, overExcited: Bool) { (self.value, isOverExcited) = (value, overExcited) }

    /// The reactive power that goes with `active` (either sign), in its unit; positive injects.
    func reactive(for active: Double) -> Double {
        let magnitude = min(max(value, 1e-3), 1)
        return abs(active) * (1 / (magnitude * magnitude) - 1).squareRoot() * (isOverExcited ? 1 : -1)
    }
}

/// A reactive-power mode in place of volt-var while it is enabled (IEEE 1547-2018 5.3: one mode at a time; SunSpec
/// 704 and 712).
public enum ReactiveMode: Sendable, Equatable {
    /// Constant reactive power: `share` of the reference (positive injects).
    case constant(share: Double, of: ReactiveReference)
    /// Constant power factor, one while the DER gives active power, one while it draws it (nil: none then).
    case powerFactor(injecting: PowerFactor?, absorbing: PowerFactor?)
    /// Watt-var: the curve's y, a fraction of the reference, at the active power (per unit of rated power).
    case wattVar(Curve, ReactiveReference)
}

/// Entering service again after a trip (IEEE 1547-2018 4.10): once voltage and frequency have stayed within their
/// bands for `delay`, output ramps up linearly from nothing to rated power over `ramp`.
public struct EnterService: Sendable, Equatable {
    public var isPermitted = true
    public var voltage: ClosedRange<Double> = 0.917...1.05
    public var frequency: ClosedRange<Double> = (59.5 / 60)...(60.1 / 60)
    public var delay = 300.0
    public var ramp = 300.0

    public init() {}

    func admits(_ grid: GridConditions) -> Bool { isPermitted && voltage.contains(grid.voltage) && frequency.contains(grid.frequency) }
}

/// The IEEE 1547-2018 behaviours a DER has, as they are set now (nil: the function is off or absent), in the
/// standard's bases: voltages and frequencies per unit of nominal, active power per unit of rated power, reactive
/// power per unit of rated apparent power (positive: injected, raising the voltage).
public struct GridSupportSettings: Sendable, Equatable {
    public var ratings: GridSupportRatings
    /// Volt-var's curve, its y values fractions of `voltVarReference`.
    public var voltVar: Curve?
    public var voltVarReference = ReactiveReference.ratedApparentPower
    /// Volt-watt's curve, its y values fractions of `voltWattReference`.
    public var voltWatt: Curve?
    public var voltWattReference = ActiveReference.ratedPower
    /// Open-loop response times: 90 % of a step change is reached in this time, s.
    public var voltVarResponse = 5.0
    public var voltWattResponse = 10.0
    public var frequencyDroop: FrequencyDroop?
    /// The reactive mode in force instead of volt-var (nil: volt-var's), and its open-loop response time, s (0: at once).
    public var reactiveMode: ReactiveMode?
    public var reactiveModeResponse = 0.0
    public var trips: [TripSetting] = []
    public var enterService = EnterService()

    public init(ratings: GridSupportRatings) { self.ratings = ratings }

    /// IEEE 1547-2018's defaults: Category B volt-var (±44 % of rated VA from 92 % and 108 %, dead band 98-102 %)
    /// and volt-watt (100 % at 106 % down to 20 % at 110 %), Category II voltage trips (OV2 120 % 0.16 s, OV1 110 %
    /// 2 s, UV1 70 % 10 s, UV2 45 % 0.16 s), the frequency trips (OF2 62 Hz 0.16 s, OF1 61.2 Hz 300 s, UF1 58.5 Hz
    /// 300 s, UF2 56.5 Hz 0.16 s, as fractions of 60 Hz), frequency droop (36 mHz, 5 %, 5 s), and entering service
    /// after 300 s in band with a 300-s ramp.
    public static func standard(_ ratings: GridSupportRatings) -> GridSupportSettings {
        var settings = GridSupportSettings(ratings: ratings)
        settings.voltVar = Curve([(0.92, 0.44), (0.98, 0), (1.02, 0), (1.08, -0.44)])
        settings.voltWatt = Curve([(1.06, 1), (1.10, 0.2)])
        settings.frequencyDroop = FrequencyDroop()
        settings.trips = standardVoltageTrips + standardFrequencyTrips
        return settings
    }

    /// Category B's watt-var curve (off by default): no reactive power to half of rated power, absorbing 44 % of
    /// rated VA at rated power; and the time within which the DER meets it, s.
    public static let standardWattVar = Curve([(0.2, 0), (0.5, 0), (1, -0.44)])
    public static let wattVarResponse = 10.0

    public static let standardVoltageTrips = [TripSetting(.overVoltage, limit: 1.20, seconds: 0.16), TripSetting(.overVoltage, limit: 1.10, seconds: 2),
                                              TripSetting(.underVoltage, limit: 0.70, seconds: 10), TripSetting(.underVoltage, limit: 0.45, seconds: 0.16)]
    public static let standardFrequencyTrips = [TripSetting(.overFrequency, limit: 62.0 / 60, seconds: 0.16),
                                                TripSetting(.overFrequency, limit: 61.2 / 60, seconds: 300),
                                                TripSetting(.underFrequency, limit: 58.5 / 60, seconds: 300),
                                                TripSetting(.underFrequency, limit: 56.5 / 60, seconds: 0.16)]

    /// The reactive power the mode in force (volt-var's without one) asks for at `voltage`, per unit of rated apparent
    /// power, while the DER gives `active` (per unit of rated power); within what the DER can give.
    func reactiveTarget(at voltage: Double, active: Double) -> Double {
        let apparent = ratings.apparentPower
        func base(_ reference: ReactiveReference) -> Double {
            switch reference {
            case .ratedPower: ratings.ratedPower
            case .ratedReactivePower: ratings.reactivePower
            case .availableReactivePower: max(0, apparent * apparent - pow(active * ratings.ratedPower, 2)).squareRoot()
            case .ratedApparentPower: apparent
            }
        }
        let reactive: Double  // var
        switch reactiveMode {
        case .constant(let share, let reference)?: reactive = share * base(reference)
        case .powerFactor(let injecting, let absorbing)?:
            reactive = (active >= 0 ? injecting : absorbing)?.reactive(for: active * ratings.ratedPower) ?? 0
        case .wattVar(let curve, let reference)?: reactive = curve.value(at: active) * base(reference)
        case nil: reactive = voltVar.map { $0.value(at: voltage) * base(voltVarReference) } ?? 0
        }
        let capability = ratings.reactivePower / apparent
        return min(capability, max(-capability, reactive / apparent))
    }
}

/// Where the grid-support functions stand.
public struct GridSupportState: Sendable, Equatable {
    /// Reactive power now, per unit of rated apparent power (positive: injected); volt-watt's and droop's
    /// active-power ceilings, per unit of rated power. Each follows its target with a first-order lag.
    public var reactive = 0.0
    public var voltWattCeiling = 1.0
    public var droopCeiling = 1.0
    /// The active power when the frequency left droop's dead band (per unit), while it stays out.
    public var droopReference: Double?
    /// Seconds each trip setting has been violated without a break.
    public var violated: [Double] = []
    /// Tripped: not energizing until the grid has been within the enter-service bands for its delay.
    public var isTripped = false
    public var inBandFor = 0.0
    /// Seconds since the DER entered service again, while it ramps up (nil otherwise).
    public var rampingFor: Double?
    /// Trips since the start.
    public var trips = 0

    public init() {}

    /// The active-power ceiling now, per unit of rated power: volt-watt's, droop's and the enter-service ramp's
    /// (a trip is not a ceiling: the DER ceases to energize at once).
    public func powerCeiling(_ settings: GridSupportSettings) -> Double {
        let ramp = rampingFor.map { settings.enterService.ramp > 0 ? min(1, $0 / settings.enterService.ramp) : 1 } ?? 1
        return min(voltWattCeiling, droopCeiling, ramp)
    }
}

/// IEEE 1547-2018 responses of one DER: volt-var, volt-watt, frequency droop, must-trip on voltage and frequency,
/// and entering service again. Discrete events (a trip clearing, the enter-service delay running out) happen at
/// the end of a step; a caller that ends its steps at `nextEvent` times them exactly, whatever its step.
public enum GridSupport {
    /// Advances `seconds` on `grid`, held over the step, while the DER gives `active` and could give `available`
    /// (per unit of rated power).
    public static func step(_ state: GridSupportState, settings: GridSupportSettings, grid: GridConditions, active: Double, available: Double,
                            for seconds: Double) -> GridSupportState {
        var next = state
        if next.violated.count != settings.trips.count { next.violated = Array(repeating: 0, count: settings.trips.count) }
        for (index, trip) in settings.trips.enumerated() {
            next.violated[index] = trip.isViolated(by: grid) ? next.violated[index] + seconds : 0
        }
        if let ramping = state.rampingFor { next.rampingFor = ramping + seconds >= settings.enterService.ramp ? nil : ramping + seconds }
        if next.isTripped {
            next.inBandFor = settings.enterService.admits(grid) ? next.inBandFor + seconds : 0
            if next.inBandFor >= settings.enterService.delay - 1e-9 {
                next.isTripped = false
                next.rampingFor = 0
                next.voltWattCeiling = 1
                next.droopCeiling = 1
                next.droopReference = nil
            }
        } else if zip(settings.trips, next.violated).contains(where: { $0.0.seconds <= $0.1 + 1e-9 }) {
            next.isTripped = true
            next.inBandFor = 0
            next.rampingFor = nil
            next.trips += 1
        }
        /// A first-order lag reaching 90 % of a step in `response` seconds (time constant response / ln 10).
        func approach(_ value: Double, _ target: Double, response: Double) -> Double {
            let share = response > 0 ? 1 - exp(-seconds * 2.302585092994046 / response) : 1
            return value + (target - value) * share
        }
        /// A ceiling moving toward `target`; one that comes down starts from the output, not from above it.
        func ceiling(_ value: Double, _ target: Double, response: Double) -> Double {
            approach(min(value, max(active, target)), target, response: response)
        }
        guard !next.isTripped else {
            next.reactive = 0
            return next
        }
        next.reactive = approach(state.reactive, settings.reactiveTarget(at: grid.voltage, active: active),
                                 response: settings.reactiveMode == nil ? settings.voltVarResponse : settings.reactiveModeResponse)
        if let curve = settings.voltWatt {
            let share = curve.value(at: grid.voltage) * (settings.voltWattReference == .availablePower ? available : 1)
            next.voltWattCeiling = ceiling(state.voltWattCeiling, min(1, share), response: settings.voltWattResponse)
        } else {
            next.voltWattCeiling = 1
        }
        if let droop = settings.frequencyDroop, grid.frequency > 1 + droop.deadband {
            let reference = state.droopReference ?? active
            next.droopReference = reference
            let target = max(droop.minimumPower, reference - (grid.frequency - 1 - droop.deadband) / droop.droop)
            next.droopCeiling = ceiling(state.droopCeiling, min(1, target), response: droop.response)
        } else {
            next.droopReference = nil
            next.droopCeiling = settings.frequencyDroop.map { approach(state.droopCeiling, 1, response: $0.response) } ?? 1
        }
        return next
    }

    /// Seconds from now, on `grid` held, until the next discrete event: a trip setting's clearing time running out,
    /// or the enter-service delay; nil when none is coming.
    public static func nextEvent(_ state: GridSupportState, settings: GridSupportSettings, grid: GridConditions) -> Double? {
        if state.isTripped {
            return settings.enterService.admits(grid) ? max(0, settings.enterService.delay - state.inBandFor) : nil
        }
        let violated = state.violated.count == settings.trips.count ? state.violated : Array(repeating: 0, count: settings.trips.count)
        return zip(settings.trips, violated).filter { $0.0.isViolated(by: grid) }.map { max(0, $0.0.seconds - $0.1) }.min()
    }
}
