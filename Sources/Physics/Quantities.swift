/// A live reading a profile can map to registers. Units are SI-ish and signs are stated per case.
public enum Quantity: String, Sendable, CaseIterable, Codable {
    // any kind
    case uptime                          // s since the emulator started
    case heartbeat                       // +1 every second, wrapping at 65536
    // inverter (AC output positive)
    case acPower = "ac-power"            // W
    case acCurrent = "ac-current"        // A, total over the phases
    case phaseCurrent = "phase-current"  // A, per phase
    case acVoltage = "ac-voltage"        // V phase to neutral
    case lineVoltage = "line-voltage"    // V phase to phase
    case frequency                       // Hz
    case apparentPower = "apparent-power" // VA
    case reactivePower = "reactive-power" // var
    case powerFactor = "power-factor"    // %, signed
    case powerFactorRatio = "power-factor-ratio" // the power factor as a fraction, signed (SunSpec 701 PF)
    case phaseActivePower = "phase-active-power" // W per phase, the AC power shared over the phases
    case phaseApparentPower = "phase-apparent-power" // VA per phase
    case phaseReactivePower = "phase-reactive-power" // var per phase
    case lifetimeEnergy = "lifetime-energy" // Wh produced
    case dcPower = "dc-power"            // W
    case dcVoltage = "dc-voltage"        // V
    case dcCurrent = "dc-current"        // A
    case stringPower = "string-power"    // W per MPPT input (the DC power shared over `mppt-count`)
    case stringCurrent = "string-current" // A per MPPT input
    case cabinetTemperature = "cabinet-temperature" // °C
    case inverterStatus = "inverter-status" // SunSpec St
    case ratedPower = "rated-power"      // W (WRtg/WMax)
    case ratedReactivePower = "rated-reactive-power" // var the inverter may inject or absorb (VArMaxQ1)
    case ratedApparentPower = "rated-apparent-power" // VA (VAMax)
    case derOn = "der-on"                // 1 while the DER is in service (connected, not tripped), else 0 (SunSpec 701 St)
    case gridConnected = "grid-connected" // 1 while connected to the grid (not tripped), else 0 (SunSpec 701 ConnSt)
    case derInverterState = "der-inverter-state" // SunSpec 701 InvSt: 0 off, 1 sleeping, 3 running, 4 throttled
    case trips                           // over- and under-voltage trips since the start
    case tripped                         // 1 while tripped (ceased to energize) until it enters service again
    case enterServiceRemaining = "enter-service-remaining" // s left of the enter-service delay while tripped
    case availablePower = "available-power" // W the array could give now, before any limit
    case rampRate = "ramp-rate"          // %WMax/s
    // battery (AC power positive = discharge)
    case batteryPower = "battery-power"  // W
    case stateOfCharge = "state-of-charge" // %
    case chargeStatus = "charge-status"  // SunSpec ChaSt
    case capacity                        // Wh
    case storedEnergy = "stored-energy"  // Wh stored now (SunSpec 713 WHAvail)
    case capacityAh = "capacity-ah"      // Ah at the nominal voltage
    case availableAh = "available-ah"    // Ah above the minimum SoC
    case maxChargePower = "max-charge-power"       // W
    case maxDischargePower = "max-discharge-power" // W
    case minimumSoC = "minimum-soc"      // %
    case maximumSoC = "maximum-soc"      // %
    case forcedPower = "forced-power"    // W, + discharge, a controller forces (0 when it forces none)
    case batteryVoltage = "battery-voltage" // V DC
    case batteryCurrent = "battery-current" // A DC, + discharge
    // meter (power positive = import)
    case gridPower = "grid-power"        // W
    case phasePower = "phase-power"      // W per phase
    case importedEnergy = "imported-energy" // Wh
    case exportedEnergy = "exported-energy" // Wh
    // thermostat
    case roomTemperature = "room-temperature"       // °C
    case outdoorTemperature = "outdoor-temperature" // °C
    case hvacAction = "hvac-action"      // HVACAction
    case hvacPower = "hvac-power"        // W electric
    case hvacEnergy = "hvac-energy"      // Wh electric
    case fanRunning = "fan-running"      // 0 / 1
    case effectiveSetpoint = "effective-setpoint" // °C the thermostat regulates to now
    // EV charger
    case pilotState = "pilot-state"      // PilotState index (A, B1, B2, C1, C2, D1, D2, E, F)
    case appliedCurrent = "applied-current" // A per phase the station allows now
    case chargingCurrent = "charging-current" // A per phase drawn
    case chargingCurrentL2L3 = "charging-current-l2l3" // A on phases 2 and 3 (0 when charging on one phase)
    case chargingCurrentSum = "charging-current-sum" // A summed over phases
    case chargingPowerL1 = "charging-power-l1"       // W on phase 1
    case chargingPowerL2L3 = "charging-power-l2l3"   // W on each of phases 2 and 3
    case chargingPower = "charging-power" // W
    case sessionEnergy = "session-energy" // Wh this session
    case totalEnergy = "total-energy"    // Wh delivered by the station
    case watchdogRemaining = "watchdog-remaining" // s before the fallback applies
    case setpointAccounted = "setpoint-accounted" // 1 when the written setpoint is the binding limit
    case activePhases = "active-phases"  // phases in use
    case vehicleSoC = "vehicle-soc"      // %
    case chargingSeconds = "charging-seconds" // s charged this session
}

/// A setting a client writes. Values are in engineering units after the point's scale.
public enum Control: String, Sendable, CaseIterable, Codable {
    // inverter (SunSpec 123)
    case connect                                          // 0 standby, 1 connected
    case powerLimitPercent = "power-limit-percent"        // % of rated power
    case powerLimitEnabled = "power-limit-enabled"        // 0 / 1
    case powerLimitRevertSeconds = "power-limit-revert-seconds" // watchdog, 0 = none
    case powerLimitRampSeconds = "power-limit-ramp-seconds"     // time to reach a new limit, 0 = ramp rate
    // inverter and battery, SunSpec 704 (the power limit is 123's, for the battery of its discharge): what each control
    // reverts to when its reversion timer runs out is itself a control (`…-revert`)
    case powerLimitRevertEnabled = "power-limit-revert-enabled", powerLimitRevertPercent = "power-limit-revert-percent"
    case fixedPowerEnabled = "fixed-power-enabled"         // WSetEna: hold the active power at a setpoint
    case fixedPowerMode = "fixed-power-mode"               // WSetMod: 0 fixed-power-percent (% of rated power), 1 fixed-power (W)
    case fixedPower = "fixed-power", fixedPowerPercent = "fixed-power-percent" // W, % of rated power; + produced/discharged
    case fixedPowerRevertSeconds = "fixed-power-revert-seconds" // 0 = none
    case fixedPowerRevertEnabled = "fixed-power-revert-enabled", fixedPowerRevert = "fixed-power-revert"
    case fixedPowerRevertPercent = "fixed-power-revert-percent"
    // inverter, SunSpec 704: constant reactive power and constant power factor, in place of volt-var while enabled
    case fixedVarEnabled = "fixed-var-enabled"             // VarSetEna
    case fixedVarMode = "fixed-var-mode"                   // VarSetMod: 0-3 fixed-var-percent of a ReactiveReference, 4 fixed-var (var)
    case fixedVar = "fixed-var", fixedVarPercent = "fixed-var-percent" // var, %; positive injects
    case fixedVarRevertSeconds = "fixed-var-revert-seconds"
    case fixedVarRevertEnabled = "fixed-var-revert-enabled", fixedVarRevert = "fixed-var-revert", fixedVarRevertPercent = "fixed-var-revert-percent"
    case pfInjectEnabled = "pf-inject-enabled", pfInject = "pf-inject" // PFWInjEna, PFWInj.PF (0-1) while producing
    case pfInjectExcitation = "pf-inject-excitation"       // PFWInj.Ext: 0 over-excited (injects var), 1 under-excited
    case pfInjectRevertSeconds = "pf-inject-revert-seconds"
    case pfInjectRevertEnabled = "pf-inject-revert-enabled", pfInjectRevert = "pf-inject-revert"
    case pfInjectRevertExcitation = "pf-inject-revert-excitation"
    case pfAbsorbEnabled = "pf-absorb-enabled", pfAbsorb = "pf-absorb" // PFWAbsEna, PFWAbs.PF while drawing active power
    case pfAbsorbExcitation = "pf-absorb-excitation"
    case pfAbsorbRevertSeconds = "pf-absorb-revert-seconds"
    case pfAbsorbRevertEnabled = "pf-absorb-revert-enabled", pfAbsorbRevert = "pf-absorb-revert"
    case pfAbsorbRevertExcitation = "pf-absorb-revert-excitation"
    // inverter grid support (IEEE 1547-2018; SunSpec 703, 705-712): voltages in % of nominal, frequencies in Hz,
    // reactive power in % of the curve's reference (positive injects), active power in % of its reference, times in s
    case voltVarEnabled = "volt-var-enabled"
    case voltVarV1 = "volt-var-v1", voltVarV2 = "volt-var-v2", voltVarV3 = "volt-var-v3", voltVarV4 = "volt-var-v4"
    case voltVarQ1 = "volt-var-q1", voltVarQ2 = "volt-var-q2", voltVarQ3 = "volt-var-q3", voltVarQ4 = "volt-var-q4"
    case voltVarReference = "volt-var-reference"          // 705 DeptRef: 0 W, 1 var, 2 available var, 3 VA (ReactiveReference)
    case voltVarResponseSeconds = "volt-var-response-seconds"
    case voltWattEnabled = "volt-watt-enabled"
    case voltWattV1 = "volt-watt-v1", voltWattV2 = "volt-watt-v2", voltWattP1 = "volt-watt-p1", voltWattP2 = "volt-watt-p2"
    case voltWattReference = "volt-watt-reference"        // 706 DeptRef: 0 rated W, 1 available W (ActiveReference)
    case voltWattResponseSeconds = "volt-watt-response-seconds"
    case wattVarEnabled = "watt-var-enabled"              // 712: reactive power by active power (% of rated power)
    case wattVarP1 = "watt-var-p1", wattVarP2 = "watt-var-p2", wattVarP3 = "watt-var-p3"
    case wattVarQ1 = "watt-var-q1", wattVarQ2 = "watt-var-q2", wattVarQ3 = "watt-var-q3"
    case wattVarReference = "watt-var-reference"          // 712 DeptRef, as volt-var's
    case frequencyDroopEnabled = "frequency-droop-enabled" // 711
    case frequencyDroopDeadband = "frequency-droop-deadband" // DbOf, Hz above nominal
    case frequencyDroopK = "frequency-droop-k"            // KOf, per-unit frequency change for rated power (0.05: 5 %)
    case frequencyDroopResponseSeconds = "frequency-droop-response-seconds"
    case frequencyDroopMinimumPercent = "frequency-droop-minimum-percent" // PMin, % of rated power
    case enterServicePermitted = "enter-service-permitted"
    case enterServiceVoltageHigh = "enter-service-v-high", enterServiceVoltageLow = "enter-service-v-low"
    case enterServiceFrequencyHigh = "enter-service-hz-high", enterServiceFrequencyLow = "enter-service-hz-low"
    case enterServiceDelaySeconds = "enter-service-delay-seconds"
    case enterServiceRampSeconds = "enter-service-ramp-seconds"
    case tripHighEnabled = "trip-hv-enabled"
    case tripHighV1 = "trip-hv-v1", tripHighT1 = "trip-hv-t1", tripHighV2 = "trip-hv-v2", tripHighT2 = "trip-hv-t2"
    case tripLowEnabled = "trip-lv-enabled"
    case tripLowV1 = "trip-lv-v1", tripLowT1 = "trip-lv-t1", tripLowV2 = "trip-lv-v2", tripLowT2 = "trip-lv-t2"
    case tripHighFrequencyEnabled = "trip-hf-enabled"     // 710; frequencies in Hz
    case tripHighF1 = "trip-hf-f1", tripHighFrequencyT1 = "trip-hf-t1", tripHighF2 = "trip-hf-f2", tripHighFrequencyT2 = "trip-hf-t2"
    case tripLowFrequencyEnabled = "trip-lf-enabled"      // 709
    case tripLowF1 = "trip-lf-f1", tripLowFrequencyT1 = "trip-lf-t1", tripLowF2 = "trip-lf-f2", tripLowFrequencyT2 = "trip-lf-t2"
    // battery (SunSpec 124)
    case storageControlMode = "storage-control-mode"      // bit0 apply charge rate, bit1 apply discharge rate
    case chargeRatePercent = "charge-rate-percent"        // InWRte, % of max charge power
    case dischargeRatePercent = "discharge-rate-percent"  // OutWRte, % of max charge power
    case rateRevertSeconds = "rate-revert-seconds"        // InOutWRte_RvrtTms, 0 = none
    case chargePowerLimit = "charge-power-limit"          // WChaMax, W
    case minimumReservePercent = "minimum-reserve-percent" // MinRsvPct, %
    case gridCharging = "grid-charging"                   // ChaGriSet: 0 PV only, 1 grid
    // thermostat (Intesis + extension)
    case power                                            // 0 off, 1 on
    case mode                                             // 0 auto, 1 heat, 2 dry, 3 fan, 4 cool
    case fanSpeed = "fan-speed"                           // 0 auto, 1...5
    case activeSetpoint = "active-setpoint"               // °C, the active mode's setpoint (an alias)
    case heatSetpoint = "heat-setpoint"                   // °C
    case coolSetpoint = "cool-setpoint"                   // °C
    case setpointOffset = "setpoint-offset"               // K added by demand response
    // EV charger
    case maxCurrent = "max-current"                       // A per phase, 0 = stop
    case phases                                           // 1 or 3
    case chargingEnabled = "charging-enabled"             // 0 / 1 (Phoenix coil 400)
}

extension Control {
    /// Compared and hashed by case, not by name: RawRepresentable's defaults would hash and compare the string, and
    /// the physics looks its controls up many times a step. A case is one byte (fewer than 256 cases).
    public static func == (lhs: Control, rhs: Control) -> Bool { lhs.tag == rhs.tag }
    public func hash(into hasher: inout Hasher) { hasher.combine(tag) }
    private var tag: UInt8 { unsafeBitCast(self, to: UInt8.self) }
}
