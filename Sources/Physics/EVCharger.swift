/// Ratings of an AC charging station (IEC 61851 mode 3).
public struct EVChargerRatings: Sendable, Equatable {
    /// Highest current per phase the station and cable allow, A.
    public var maxCurrent: Double = 32
    /// IEC 61851 minimum: below it no PWM is offered, A.
    public var minimumCurrent: Double = 6
    /// Phases wired to the station (1 or 3).
    public var phases: Int = 3
    /// Phase-to-neutral voltage, V.
    public var voltage: Double = 230
    /// IEC 61851 lets the PWM duty cycle change at most this often, s.
    public var pwmInterval: Double = 5
    /// How long a vehicle takes to follow a new PWM current, s.
    public var vehicleResponseDelay: Double = 3

    public init() {}
}

/// A vehicle's visit to the charger.
public struct VehicleSession: Sendable, Equatable {
    /// Plug-in and departure, simulated seconds.
    public var arrival: Double
    public var departure: Double
    /// Traction battery, Wh.
    public var batteryCapacity: Double = 60_000
    public var initialSoC: Double = 0.3
    /// The vehicle stops asking for energy at this SoC.
    public var targetSoC: Double = 0.9
    /// On-board charger limit per phase, A, and its phases.
    public var maxCurrent: Double = 16
    public var phases: Int = 3
    /// Above this SoC the vehicle's current tapers linearly toward zero at 100 %.
    public var taperStartSoC: Double = 0.8
    /// AC to battery efficiency of the on-board charger.
    public var chargingEfficiency: Double = 0.92

    public init(arrival: Double, departure: Double) {
        self.arrival = arrival
        self.departure = departure
    }

    /// Energy the vehicle still wants at the battery, Wh, to reach `targetSoC` from `initialSoC`.
    public var energyNeeded: Double { max(0, targetSoC - initialSoC) * batteryCapacity }
}

/// IEC 61851-1 control pilot states, with Alfen's 1/2 suffix for "no PWM" / "PWM offered".
public enum PilotState: String, Sendable, CaseIterable {
    case a = "A", b1 = "B1", b2 = "B2", c1 = "C1", c2 = "C2", d1 = "D1", d2 = "D2", e = "E", f = "F"

    /// Position in `allCases`: the number a register map labels.
    public var index: Int { Self.allCases.firstIndex(of: self)! }
    public var isCharging: Bool { self == .c2 || self == .d2 }
}

/// What the controller asked of the charger.
public struct EVChargerSetpoint: Sendable, Equatable {
    /// Current limit per phase, A; below the IEC minimum means stop.
    public var currentLimit: Double
    /// 1 or 3 phases.
    public var phases: Int

    public init(currentLimit: Double, phases: Int = 3) {
        self.currentLimit = currentLimit
        self.phases = phases
    }
}

public struct EVChargerState: Sendable, Equatable {
    public var pilot: PilotState = .a
    /// The current the PWM offers now, A (0: no PWM).
    public var offeredCurrent: Double = 0
    /// When the PWM last changed, simulated seconds.
    public var pwmChangedAt: Double = -.infinity
    /// Current drawn per phase, A, and on how many phases.
    public var current: Double = 0
    public var activePhases: Int = 0
    /// Power drawn, W.
    public var power: Double = 0
    /// Energy in the vehicle's battery, Wh (0 with no vehicle).
    public var vehicleEnergy: Double = 0
    /// AC energy delivered in this session and over the station's life, Wh.
    public var sessionEnergy: Double = 0
    public var totalEnergy: Double = 1_000
    /// Whether a fault (state F) is latched, e.g. by a fault schedule.
    public var isFaulted: Bool = false

    public init() {}

    public func vehicleSoC(_ session: VehicleSession?) -> Double {
        guard let session, pilot != .a else { return 0 }
        return vehicleEnergy / session.batteryCapacity
    }
}

/// A charger and the vehicle plugged into it.
public struct EVCharger: Sendable, Equatable {
    public var ratings: EVChargerRatings

    public init(ratings: EVChargerRatings) { self.ratings = ratings }

    /// Advances from `time` by `seconds` (simulated). The PWM follows the setpoint at most every `pwmInterval`
    /// (a stop is immediate); the vehicle follows the PWM after `vehicleResponseDelay`.
    public func step(_ state: EVChargerState, applying setpoint: EVChargerSetpoint, at time: Double, for seconds: Double,
                     session: VehicleSession?) -> EVChargerState {
        var next = state
        let now = time + seconds
        guard let session, now > session.arrival, now <= session.departure else {
            if state.pilot != .a { next = EVChargerState(); next.totalEnergy = state.totalEnergy; next.isFaulted = state.isFaulted }
            next.pilot = state.isFaulted ? .f : .a
            return next
        }
        if state.pilot == .a {  // plugged in during this step: a new session
            next.vehicleEnergy = session.initialSoC * session.batteryCapacity
            next.sessionEnergy = 0
        }
        let commanded = min(max(setpoint.currentLimit, 0), ratings.maxCurrent)
        let offer = commanded >= ratings.minimumCurrent ? commanded : 0
        if offer != state.offeredCurrent, offer == 0 || now - state.pwmChangedAt >= ratings.pwmInterval {
            next.offeredCurrent = offer
            next.pwmChangedAt = now
        }
        let soc = next.vehicleEnergy / session.batteryCapacity
        let wants = soc < session.targetSoC && !state.isFaulted
        var vehicleLimit = session.maxCurrent
        if soc > session.taperStartSoC {
            vehicleLimit *= max(0, (1 - soc) / (1 - session.taperStartSoC))
        }
        let wanted = wants ? min(next.offeredCurrent, vehicleLimit) : 0
        let settled = now - next.pwmChangedAt >= ratings.vehicleResponseDelay
        // Before it settles, the vehicle keeps its old current (never above what it may take now).
        next.current = settled ? wanted : min(state.current, vehicleLimit, wants ? .infinity : 0)
        next.activePhases = next.current > 0 ? min(max(setpoint.phases, 1), session.phases, ratings.phases) : 0
        var power = next.current * ratings.voltage * Double(next.activePhases)
        let room = max(0, session.batteryCapacity - next.vehicleEnergy)
        power = min(power, room / session.chargingEfficiency / (seconds / 3600))
        next.power = seconds > 0 ? power : 0
        let delivered = next.power * seconds / 3600
        next.sessionEnergy += delivered
        next.totalEnergy += delivered
        next.vehicleEnergy += delivered * session.chargingEfficiency
        if state.isFaulted {
            next.pilot = .f
        } else if wants {
            next.pilot = next.offeredCurrent > 0 ? .c2 : .c1
        } else {
            next.pilot = next.offeredCurrent > 0 ? .b2 : .b1
        }
        return next
    }
}
