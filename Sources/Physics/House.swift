import Foundation  // exp only

/// A house as one thermal node (1R1C) heated or cooled by a heat pump.
public struct HouseRatings: Sendable, Equatable {
    /// Envelope resistance to outdoors, K/W (1 / UA).
    public var thermalResistance: Double = 1.0 / 180
    /// Thermal mass of air, furniture and structure, J/K.
    public var thermalCapacitance: Double = 1.5e7
    /// Effective window area for solar gain, m² (irradiance × area = W into the room).
    public var solarAperture: Double = 3
    /// People and appliances, W of heat.
    public var internalGains: Double = 300
    /// Heat pump thermal output at full fan, W.
    public var heatingCapacity: Double = 6000
    public var coolingCapacity: Double = 5000
    /// Coefficients of performance: thermal watts per electric watt.
    public var heatingCOP: Double = 3.5
    public var coolingCOP: Double = 3.0
    /// Indoor fan, W electric, while the fan runs.
    public var fanPower: Double = 120
    /// Compressor minimum run and rest time, s (short-cycle protection).
    public var minimumCycle: Double = 180

    public init() {}

    /// The thermal time constant R·C, s.
    public var timeConstant: Double { thermalResistance * thermalCapacitance }
}

/// Thermostat modes, as the Intesis map numbers them: 0 auto, 1 heat, 2 dry, 3 fan, 4 cool; plus off.
public enum HVACMode: String, Sendable, CaseIterable {
    case off, auto, heat, dry, fan, cool
}

/// HVAC action, numbered as Home Assistant's HVACAction (0 off, 1 idle, 2 heating, 3 cooling, 4 fan, 5 drying).
public enum HVACAction: Int, Sendable {
    case off = 0, idle = 1, heating = 2, cooling = 3, fan = 4, drying = 5
}

/// What the thermostat holds.
public struct ThermostatSetpoint: Sendable, Equatable {
    public var mode: HVACMode
    /// °C. In auto, heating keeps above `heat` and cooling below `cool`.
    public var heat: Double
    public var cool: Double
    /// Total hysteresis band around a setpoint, K.
    public var deadband: Double
    /// 0 auto (full capacity), 1...5 fixed fan speeds (40 % to 100 % of capacity).
    public var fanSpeed: Int

    public init(mode: HVACMode = .auto, heat: Double = 20, cool: Double = 24, deadband: Double = 1, fanSpeed: Int = 0) {
        self.mode = mode
        self.heat = heat
        self.cool = cool
        self.deadband = deadband
        self.fanSpeed = fanSpeed
    }
}

public struct HouseState: Sendable, Equatable {
    /// Room air temperature, °C.
    public var roomTemperature: Double
    public var action: HVACAction = .idle
    /// Time since the compressor last started or stopped, s.
    public var compressorTimer: Double = .infinity
    /// HVAC electric power now, W.
    public var electricPower: Double = 0
    /// HVAC electric energy since the start, Wh.
    public var electricEnergy: Double = 0
    /// Heat into the room (HVAC + sun + internal gains) and out through the envelope since the start, J.
    public var heatGained: Double = 0
    public var heatLost: Double = 0

    public init(roomTemperature: Double) { self.roomTemperature = roomTemperature }
}

/// The house, its heat pump and the thermostat's on/off control with deadband and short-cycle protection.
public struct House: Sendable, Equatable {
    public var ratings: HouseRatings

    public init(ratings: HouseRatings) { self.ratings = ratings }

    /// Advances `seconds` (the exact 1R1C solution for constant heat input over the step).
    public func step(_ state: HouseState, applying setpoint: ThermostatSetpoint, for seconds: Double, weather: Weather) -> HouseState {
        guard seconds > 0 else { return state }
        var next = state
        let action = decide(state, setpoint)
        if (action == .heating || action == .cooling) != (state.action == .heating || state.action == .cooling) {
            next.compressorTimer = 0
        }
        next.compressorTimer += seconds
        next.action = action
        let capacityShare = setpoint.fanSpeed == 0 ? 1.0 : 0.4 + 0.15 * Double(min(max(setpoint.fanSpeed, 1), 5) - 1)
        let hvacHeat: Double
        switch action {
        case .heating: hvacHeat = ratings.heatingCapacity * capacityShare
        case .cooling: hvacHeat = -ratings.coolingCapacity * capacityShare
        case .drying: hvacHeat = -ratings.coolingCapacity * 0.4
        default: hvacHeat = 0
        }
        let fanRuns = action != .off && action != .idle
        next.electricPower = (hvacHeat > 0 ? hvacHeat / ratings.heatingCOP : -hvacHeat / ratings.coolingCOP) + (fanRuns ? ratings.fanPower : 0)
        next.electricEnergy += next.electricPower * seconds / 3600

        let gains = hvacHeat + ratings.internalGains + ratings.solarAperture * max(weather.irradiance, 0)
        let tau = ratings.timeConstant
        let equilibrium = weather.outdoorTemperature + ratings.thermalResistance * gains
        let decay = exp(-seconds / tau)
        next.roomTemperature = equilibrium + (state.roomTemperature - equilibrium) * decay
        // ∫ (T − Tout)/R dt over the step, from the same exact solution.
        let lossIntegral = (equilibrium - weather.outdoorTemperature) * seconds + (state.roomTemperature - equilibrium) * tau * (1 - decay)
        next.heatLost += lossIntegral / ratings.thermalResistance
        next.heatGained += gains * seconds
        return next
    }

    private func decide(_ state: HouseState, _ setpoint: ThermostatSetpoint) -> HVACAction {
        let temperature = state.roomTemperature
        let half = setpoint.deadband / 2
        let running = state.action == .heating || state.action == .cooling || state.action == .drying
        let mayChange = state.compressorTimer >= ratings.minimumCycle
        func keep(_ wanted: HVACAction) -> HVACAction {
            let wantsRun = wanted == .heating || wanted == .cooling || wanted == .drying
            return wantsRun == running || mayChange ? wanted : (running ? state.action : .idle)
        }
        switch setpoint.mode {
        case .off:
            return running && !mayChange ? state.action : .off
        case .fan:
            return keep(.fan)
        case .heat, .cool, .dry, .auto:
            let heats = setpoint.mode == .heat || setpoint.mode == .auto
            let cools = setpoint.mode != .heat
            let cooling: HVACAction = setpoint.mode == .dry ? .drying : .cooling
            if heats, state.action == .heating ? temperature < setpoint.heat + half : temperature < setpoint.heat - half {
                return keep(.heating)
            }
            if cools, state.action == cooling ? temperature > setpoint.cool - half : temperature > setpoint.cool + half {
                return keep(cooling)
            }
            return keep(.idle)
        }
    }
}
