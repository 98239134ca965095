/// The reference household agent with one deliberate bug. Each is a controller fault seen in the field, and each
/// is one the verdict must catch: a rig runs a mutant (`controller.households.h2: {mutant: battery-sign}`) to show
/// that the assertion exists for a reason (docs/RIGS.md, "Mutants").
public enum HouseholdMutation: String, Sendable, CaseIterable {
    /// Writes the battery's power with the wrong sign: charges when awarded a sale, and the other way round.
    case batterySign = "battery-sign"
    /// Sets the EV charger 2 A above the current its award implies.
    case evOverCurrent = "ev-over-current"
    /// Sets the EV charger to full current whenever a vehicle is plugged in, award or not.
    case evWithoutAward = "ev-without-award"
    /// Bids and dispatches the battery as if it were half full, whatever its state of charge: it sells when empty
    /// and forces a discharge the battery must refuse.
    case batteryIgnoresSoC = "battery-ignores-soc"
    /// Acts only at interval starts (protocol v1 firmware): one write per interval, no control steps, so a
    /// product's watchdog expires between writes.
    case intervalStartOnly = "interval-start-only"
    /// Leaves the thermostat at the occupant's preferred setpoint, whatever it was awarded.
    case thermostatIgnoresAward = "thermostat-ignores-award"
    /// Reports ten times the battery power it wrote (a kW/W slip in the report).
    case batteryPowerMisreported = "battery-power-misreported"
}
