/// What a dispatch report's setpoint set (docs/PROTOCOL.md, "Dispatch reports"); any other name is refused as not
/// protocol v1.
public enum SetpointName: String, Sendable, CaseIterable {
    /// An EV charger's current, A per phase (0 stops it).
    case currentLimit = "current-limit"
    /// A battery's power, kW, + discharge.
    case power
    /// A thermostat's setpoints, °C.
    case heatSetpoint = "heat-setpoint", coolSetpoint = "cool-setpoint"
    /// A PV inverter's limit, kW (none: no limit).
    case powerLimit = "power-limit"
}
