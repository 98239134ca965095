import Emulators
@testable import Files
import Foundation
import Logging
import Modbus
import Physics
import TestSupport
import Testing

/// A fleet of one house at noon on a clear day: the shipped SunSpec inverter and a house meter, on a grid the
/// test sets (as a feeder model would) or scripts (grid events).
private func house(settings: Settings = [:], events: [GridEvent] = []) throws -> (fleet: Fleet, pv: DeviceEmulator, meter: DeviceEmulator) {
    let inverter = try ProfileLoader.load(file: "\(repository)/Profiles/sunspec-inverter.yaml")
    let meter = try ProfileLoader.load(file: "\(repository)/Profiles/sunspec-meter.yaml")
    var parameters = DeviceParameters()
    parameters.settings = settings
    var logger = Logger(label: "test")
    logger.logLevel = .critical
    let fleet = try Fleet([DeviceSpec(id: DeviceID(house: "h1", name: "pv"), house: "h1", profile: inverter, parameters: parameters, port: 0),
                           DeviceSpec(id: DeviceID(house: "h1", name: "meter"), house: "h1", profile: meter, port: 0)],
                          weather: .clear(), baseLoads: ["h1": BaseLoad(mean: 300)], startTime: 12 * 3600, gridEvents: events, logger: logger)
    return (fleet, fleet.devices[0].emulator, fleet.devices[1].emulator)
}

/// The register of the point bound to `binding`, read or written in engineering units through the point's scale.
private func point(_ emulator: DeviceEmulator, _ binding: Point.Binding) throws -> Point {
    try #require(emulator.profile.blocks.flatMap(\.points).first { $0.binding == binding })
}

private func read(_ emulator: DeviceEmulator, _ binding: Point.Binding) throws -> Double {
    let point = try point(emulator, binding)
    guard case .values(_, let words) = emulator.respond(to: .read(.holdingRegisters, address: point.address, count: UInt16(point.type.registerCount)), unit: 1) else {
        Issue.record("no answer at \(point.address)")
        return .nan
    }
    return try #require(point.type.decode(words)) * point.scale
}

private func write(_ emulator: DeviceEmulator, _ control: Control, _ value: Double) throws -> ModbusException? {
    let point = emulator.profile.blocks.flatMap(\.points).first { if case .control(control, _) = $0.binding { true } else { false } }
    let target = try #require(point)
    let words = target.type.encode((value / target.scale).rounded())
    return emulator.respond(to: .write(.holdingRegisters, address: target.address, values: words, isSingle: words.count == 1), unit: 1).exception
}

/// The point `name` of SunSpec model `model` (names repeat across models: AdptCrvReq, V_SF).
private func point(_ emulator: DeviceEmulator, model: Int, _ name: String) throws -> Point {
    let points = emulator.profile.blocks.flatMap(\.points)
    let header = try #require(points.firstIndex { $0.name == "model \(model)" })
    return try #require(points[(header + 1)...].prefix { !$0.name.hasPrefix("model ") && $0.name != "end" }.first { $0.name == name })
}

/// Writes `value` (engineering units) to the point, as a client would; the exception if refused.
private func write(_ emulator: DeviceEmulator, model: Int, _ name: String, _ value: Double) throws -> ModbusException? {
    let target = try point(emulator, model: model, name)
    let words = target.type.encode((value / target.scale).rounded())
    return emulator.respond(to: .write(.holdingRegisters, address: target.address, values: words, isSingle: words.count == 1), unit: 1).exception
}

private func read(_ emulator: DeviceEmulator, model: Int, _ name: String) throws -> Double {
    let target = try point(emulator, model: model, name)
    guard case .values(_, let words) = emulator.respond(to: .read(.holdingRegisters, address: target.address, count: UInt16(target.type.registerCount)), unit: 1) else {
        Issue.record("no answer at \(target.address)")
        return .nan
    }
    return try #require(target.type.decode(words)) * target.scale
}

private func run(_ fleet: Fleet, at voltage: Double, for seconds: Int) {
    fleet.setGrid(GridPoint(voltage: voltage), at: "h1")
    for _ in 0..<seconds / 10 { fleet.step(for: 10) }
}

@Suite("Grid support in the emulated inverter (SunSpec 705-708) and the meter's voltage and reactive power")
struct GridSupportEmulationTests {
    @Test("The AC voltage registers follow the grid given; at 108 % volt-var absorbs 44 % of rated VA, volt-watt holds 60 %, and the meter sees both")
    func followsTheGrid() throws {
        let (fleet, pv, meter) = try house()
        defer { fleet.stop() }
        run(fleet, at: 230, for: 120)
        let full = try read(pv, .quantity(.acPower))
        #expect(full > 3000)
        run(fleet, at: 248.4, for: 300)
        #expect(abs(try read(pv, .quantity(.acVoltage)) - 248.4) < 0.05)
        #expect(abs(try read(pv, .quantity(.reactivePower)) - -2200) <= 1)  // -44 % of 5000 VA, absorbed
        #expect(try read(pv, .quantity(.acPower)) <= 3001)                  // volt-watt: 60 % of 5000 W at 108 %
        #expect(try read(pv, .quantity(.inverterStatus)) == 5)              // throttled
        #expect(abs(try read(meter, .quantity(.acVoltage)) - 248.4) < 2)     // the meter's own noise is 0.3 V
        #expect(abs(try read(meter, .quantity(.reactivePower)) - 2200) <= 1)  // drawn from the grid
        run(fleet, at: 230, for: 300)
        #expect(abs(try read(pv, .quantity(.reactivePower))) < 1)
        #expect(try read(pv, .quantity(.acPower)) > 3000)
    }

    @Test("Curves are adopted, not written in place: curve 1 is read-only, curve 2 is checked when AdptCrvReq names it, FAILED leaves curve 1 in force")
    func curveAdoption() throws {
        let (fleet, pv, _) = try house()
        defer { fleet.stop() }
        run(fleet, at: 248.4, for: 60)
        #expect(try read(pv, .quantity(.reactivePower)) < -2000)
        #expect(try read(pv, model: 705, "ReadOnly") == 1 && read(pv, model: 705, "Crv2_ReadOnly") == 0)
        #expect(try write(pv, model: 705, "V3", 110) == .illegalDataAddress)  // curve 1, the one in force, is read-only
        #expect(try read(pv, model: 705, "Crv2_V4") == 108)                   // curve 2 starts as curve 1
        #expect(try write(pv, model: 705, "Crv2_V3", 110) == nil)             // past V4 (108 %): the order breaks
        #expect(try write(pv, model: 705, "AdptCrvReq", 2) == nil)
        #expect(try read(pv, model: 705, "AdptCrvRslt") == 2)                 // FAILED
        run(fleet, at: 248.4, for: 60)
        #expect(try read(pv, model: 705, "V3") == 102 && read(pv, .quantity(.reactivePower)) < -2000)
        #expect(try write(pv, model: 705, "Crv2_V4", 115) == nil)             // 92, 98, 110, 115: 108 % is in the dead band
        #expect(try write(pv, model: 705, "Crv2_VRef", 101) == nil)
        #expect(try write(pv, model: 705, "AdptCrvReq", 2) == nil)
        #expect(try read(pv, model: 705, "AdptCrvRslt") == 0)                 // IN_PROGRESS for the product's 1-s latency
        #expect(try read(pv, model: 705, "AdptCrvReq") == 2)
        run(fleet, at: 248.4, for: 60)
        #expect(try read(pv, model: 705, "AdptCrvRslt") == 1)                 // COMPLETED
        #expect(try read(pv, model: 705, "V3") == 110 && read(pv, model: 705, "V4") == 115 && read(pv, model: 705, "VRef") == 101)
        #expect(abs(try read(pv, .quantity(.reactivePower))) < 1)
        #expect(try write(pv, model: 705, "Crv2_V1", 200) == .illegalDataValue)  // outside the point's range
        #expect(try write(pv, model: 705, "AdptCrvReq", 4) == .illegalDataValue)  // there are 3 curves
        // Volt-watt (706) and must-trip (707) follow the same rules: power must not rise with voltage, nor a
        // must-trip time with its distance from nominal.
        #expect(try write(pv, model: 706, "Crv3_W2", 100) == nil && write(pv, model: 706, "Crv3_W1", 50) == nil)
        #expect(try write(pv, model: 706, "AdptCrvReq", 3) == nil && read(pv, model: 706, "AdptCrvRslt") == 2)
        #expect(try write(pv, model: 707, "Crv2_MustTrip_Tms2", 20) == nil)
        #expect(try write(pv, model: 707, "AdptCrvReq", 2) == nil && read(pv, model: 707, "AdptCrvRslt") == 2)
        #expect(try read(pv, model: 707, "MustTrip_Tms2") == 0.16)
    }

    @Test("An adopted curve with RvrtTms reverts to RvrtCrv when the timer runs out; RvrtRem counts down; RvrtTms 0 cancels the timer")
    func curveReversion() throws {
        for cancel in [false, true] {
            let (fleet, pv, _) = try house()
            defer { fleet.stop() }
            // Curve 2 moves the dead band past 108 %; curve 3 keeps Category B's. Revert to curve 3 after 60 s.
            for (name, value) in [("Crv2_V3", 110.0), ("Crv2_V4", 115), ("RvrtCrv", 3), ("RvrtTms", 60), ("AdptCrvReq", 2)] {
                #expect(try write(pv, model: 705, name, value) == nil, "\(name)")
            }
            run(fleet, at: 248.4, for: 30)  // in force from +1 s: it reverts at +61 s
            #expect(abs(try read(pv, .quantity(.reactivePower))) < 1)
            #expect(try read(pv, model: 705, "RvrtRem") == 31)
            if cancel { #expect(try write(pv, model: 705, "RvrtTms", 0) == nil) }
            run(fleet, at: 248.4, for: 40)
            #expect(try read(pv, model: 705, "V3") == (cancel ? 110 : 102), "cancelled: \(cancel)")
            #expect(try read(pv, model: 705, "RvrtRem") == 0 && read(pv, model: 705, "AdptCrvRslt") == 1)
            let reactive = try read(pv, .quantity(.reactivePower))
            #expect(cancel ? abs(reactive) < 1 : reactive < -1980, "\(reactive) var")  // 9 s back on curve 3: past 90 % of -2200
        }
    }

    @Test("Turning volt-watt off (Ena 0) lets the inverter produce in full at 108 %")
    func voltWattOff() throws {
        let (fleet, pv, _) = try house(settings: [.voltWattEnabled: 0])
        defer { fleet.stop() }
        run(fleet, at: 248.4, for: 120)
        #expect(try read(pv, .quantity(.acPower)) > 3000)
        #expect(try write(pv, .voltWattEnabled, 1) == nil)
        run(fleet, at: 248.4, for: 120)
        #expect(try read(pv, .quantity(.acPower)) <= 3001)
    }

    @Test("At 112 % the inverter trips within its clearing time: no output, fault status, one trip; it enters service 300 s after the voltage is back in band")
    func tripAndReturn() throws {
        let (fleet, pv, _) = try house(settings: [.voltVarEnabled: 0, .voltWattEnabled: 0])
        defer { fleet.stop() }
        run(fleet, at: 230, for: 60)
        run(fleet, at: 257.6, for: 10)
        #expect(try read(pv, .quantity(.acPower)) == 0)
        #expect(try read(pv, .quantity(.inverterStatus)) == 7)
        #expect(pv.reading(.trips) == 1)
        run(fleet, at: 235, for: 290)
        #expect(try read(pv, .quantity(.acPower)) == 0)
        run(fleet, at: 235, for: 20)
        #expect(try read(pv, .quantity(.acPower)) > 0)
        #expect(pv.reading(.trips) == 1)
    }

    @Test("The trip settings are served in SunSpec 708 and a client can move them by adopting a curve: at 112 % with must-trip at 115 % nothing trips")
    func tripSettings() throws {
        let (fleet, pv, _) = try house(settings: [.voltVarEnabled: 0, .voltWattEnabled: 0])
        defer { fleet.stop() }
        #expect(try read(pv, model: 708, "MustTrip_V1") == 110)
        #expect(try read(pv, model: 708, "MustTrip_Tms1") == 2)
        #expect(try write(pv, model: 708, "Crv2_MustTrip_V1", 115) == nil)
        #expect(try write(pv, model: 708, "AdptCrvReq", 2) == nil)
        fleet.step(for: 1)  // the adopted curve is in force after the product's latency
        #expect(try read(pv, model: 708, "AdptCrvRslt") == 1 && read(pv, model: 708, "MustTrip_V1") == 115)
        run(fleet, at: 257.6, for: 60)
        #expect(pv.reading(.trips) == 0)
        #expect(try read(pv, .quantity(.acPower)) > 3000)
    }
}

@Suite("Device timers run out at their exact simulated times, whatever the step")
struct DeviceTimingTests {
    @Test("Every must-trip setting clears at its time within max(1 %, 10 ms) at 1-s and 10-s steps: OV2, OV1, UV1, UV2, OF2, OF1, UF1, UF2", arguments: [
        (GridEvent.Level.voltage(1.25), 0.16), (.voltage(1.12), 2), (.voltage(0.6), 10), (.voltage(0.4), 0.16),
        (.frequency(52), 0.16), (.frequency(51.3), 300), (.frequency(48.5), 300), (.frequency(46.5), 0.16),
    ])
    func clearingTimes(level: GridEvent.Level, clearing: Double) throws {
        for step in [1.0, 10.0] {
            let start = 12 * 3600.0 + 3, steps = Int(((3 + clearing + 10) / step).rounded(.up))
            let (fleet, pv, _) = try house(settings: [.voltVarEnabled: 0, .voltWattEnabled: 0, .frequencyDroopEnabled: 0],
                                           events: [GridEvent(house: "h1", level: level, start: start, end: start + Double(steps) * step)])
            defer { fleet.stop() }
            let output = try #require(pv.reading(.acPower))
            let before = energy(pv)
            for _ in 0..<steps { fleet.step(for: step) }
            #expect(pv.reading(.tripped) == 1 && pv.reading(.trips) == 1)
            let energized = (energy(pv) - before) * 3600 / output  // the sun is steady enough at noon
            #expect(abs(energized - (3 + clearing)) <= max(0.01 * clearing, 0.01), "\(level) stepped by \(step) s: energized \(energized) s")
        }
    }

    @Test("After the event the inverter counts down ESDlyRemTms in SunSpec 703 and enters service 300 s later, ramping over 300 s")
    func entersService() throws {
        let start = 12 * 3600.0
        let (fleet, pv, _) = try house(events: [GridEvent(house: "h1", level: .voltage(1.25), start: start, end: start + 10)])
        defer { fleet.stop() }
        let available = try #require(pv.reading(.availablePower))
        fleet.step(for: 10)
        #expect(pv.reading(.tripped) == 1)
        fleet.step(for: 100)
        #expect(try read(pv, .quantity(.enterServiceRemaining)) == 200)
        fleet.step(for: 200)
        #expect(pv.reading(.tripped) == 0 && pv.reading(.acPower) == 0)
        fleet.step(for: 150)
        #expect(abs((pv.reading(.acPower) ?? 0) - 2500) < 1)  // half of 5 kW, half way up the ramp
        fleet.step(for: 150)
        #expect(abs((pv.reading(.acPower) ?? 0) - min(available, 5000)) < 50)
        #expect(try write(pv, .enterServiceDelaySeconds, 601) == .illegalDataValue)
        #expect(try write(pv, .enterServicePermitted, 2) == .illegalDataValue)
    }

    @Test("Stepping 10 s across a trip, a watchdog timeout or a latency leaves a device exactly as stepping to the event and then the rest")
    func stepsSplitAtEvents() throws {
        func twin(_ prepare: (DeviceEmulator) throws -> Void, events: [GridEvent] = []) throws -> [(Fleet, DeviceEmulator)] {
            try (0..<2).map { _ in
                let (fleet, pv, _) = try house(settings: [.voltVarEnabled: 0, .voltWattEnabled: 0], events: events)
                try prepare(pv)
                return (fleet, pv)
            }
        }
        func compare(_ twins: [(Fleet, DeviceEmulator)], splitAt: Double) {
            twins[0].1.step(for: 10, site: SiteConditions(weather: Weather(irradiance: 800, outdoorTemperature: 20), voltage: 257.6))
            twins[1].1.step(for: splitAt, site: SiteConditions(weather: Weather(irradiance: 800, outdoorTemperature: 20), voltage: 257.6))
            twins[1].1.step(for: 10 - splitAt, site: SiteConditions(weather: Weather(irradiance: 800, outdoorTemperature: 20), voltage: 257.6))
            for quantity in [Quantity.acPower, .lifetimeEnergy, .tripped, .trips] {
                #expect(twins[0].1.reading(quantity) == twins[1].1.reading(quantity), "\(quantity)")
            }
            #expect(twins[0].1.isOnFallback == twins[1].1.isOnFallback)
            for (fleet, _) in twins { fleet.stop() }
        }
        // OV1 at 112 %: the trip at 2 s.
        compare(try twin { _ in }, splitAt: 2)
        // A 20 % limit with a 4-s reversion timer (and OV1 off): the limit reverts at 4 s, after the 1-s latency.
        compare(try twin { pv throws in
            for (control, value) in [(Control.tripHighEnabled, 0.0), (.powerLimitRevertSeconds, 3), (.powerLimitPercent, 20), (.powerLimitEnabled, 1)] {
                #expect(try write(pv, control, value) == nil)
            }
        }, splitAt: 4)
    }

    @Test("A refresh that lands before or at the reversion timeout keeps the limit; one after it comes too late: the fallback happened")
    func watchdogEdges() throws {
        // WMaxLimPct 20 % with a 30-s timer, written at noon: in force at 12:00:01 (1-s latency), timing out at 12:00:31.
        for (refresh, fellBack) in [(29.5, false), (30.0, false), (30.5, true)] {
            let (fleet, pv, _) = try house(settings: [.voltVarEnabled: 0, .voltWattEnabled: 0])
            defer { fleet.stop() }
            for (control, value) in [(Control.powerLimitRevertSeconds, 30.0), (.powerLimitPercent, 20), (.powerLimitEnabled, 1)] {
                #expect(try write(pv, control, value) == nil)
            }
            fleet.step(for: refresh)  // the refresh lands 1 s later, at 12:00:00 + refresh + 1
            #expect(try write(pv, .powerLimitPercent, 20) == nil)
            var sawFallback = false
            for _ in 0..<20 {
                fleet.step(for: 0.25)
                sawFallback = sawFallback || pv.isOnFallback
            }
            #expect(sawFallback == fellBack, "refreshed at +\(refresh) s")
            #expect(!pv.isOnFallback, "a refresh that arrives after the fallback brings the limit back; the fallback still happened")
            #expect(abs((pv.reading(.acPower) ?? 0) - 1000) < 1 || fellBack)
        }
    }

    @Test("A rewrite of a running reversion timer restarts it from the write, and 0 cancels it (SunSpec 123 WMaxLimPct_RvrtTms)")
    func reversionTimerRewritten() throws {
        // The rewrite is in force at +7 s: 30 s from then is +37 s; a sample each second sees it first at +38 s.
        for (rewrite, firstSeen) in [(30.0, 38.0), (0, Double.infinity)] {
            let (fleet, pv, _) = try house(settings: [.voltVarEnabled: 0, .voltWattEnabled: 0])
            defer { fleet.stop() }
            // 20 % with a 12-s timer, in force at +1 s: it would revert at +13 s.
            for (control, value) in [(Control.powerLimitRevertSeconds, 12.0), (.powerLimitPercent, 20), (.powerLimitEnabled, 1)] {
                #expect(try write(pv, control, value) == nil)
            }
            fleet.step(for: 6)
            #expect(try write(pv, .powerLimitRevertSeconds, rewrite) == nil)  // in force at +7 s
            var reverted: Double?
            for second in 7..<60 {
                fleet.step(for: 1)
                if reverted == nil, pv.isOnFallback { reverted = Double(second) }
            }
            #expect((reverted ?? .infinity) == firstSeen, "timer rewritten to \(rewrite) s: reverted by +\(reverted ?? .infinity) s")
        }
    }

    @Test("After a reversion the registers read the reverted state: WMaxLim_Ena 0 (123), StorCtl_Mod 0 and the rates at 100 % (124)")
    func revertedRegisters() throws {
        let (fleet, pv, _) = try house(settings: [.voltVarEnabled: 0, .voltWattEnabled: 0])
        defer { fleet.stop() }
        for (control, value) in [(Control.powerLimitRevertSeconds, 10.0), (.powerLimitPercent, 20), (.powerLimitEnabled, 1)] {
            #expect(try write(pv, control, value) == nil)
        }
        fleet.step(for: 5)
        #expect(try read(pv, .control(.powerLimitEnabled, initial: nil)) == 1)
        fleet.step(for: 10)
        #expect(try read(pv, .control(.powerLimitEnabled, initial: nil)) == 0)
        #expect(try read(pv, .control(.powerLimitPercent, initial: nil)) == 100)  // 704's WMaxLimPctRvrt, 100 % unless written
        // Control is lost: a new percentage alone limits nothing until the limit is enabled again.
        #expect(try write(pv, .powerLimitPercent, 20) == nil)
        fleet.step(for: 20)
        #expect((pv.reading(.acPower) ?? 0) > 2000)
        // That write re-armed the 10-s timer, which reverted the percentage to 100 % again.
        #expect(try read(pv, .control(.powerLimitPercent, initial: nil)) == 100)
        #expect(try write(pv, .powerLimitRevertSeconds, 0) == nil)  // no timer from now on
        #expect(try write(pv, .powerLimitPercent, 20) == nil && write(pv, .powerLimitEnabled, 1) == nil)
        fleet.step(for: 60)
        #expect(abs((pv.reading(.acPower) ?? 0) - 1000) < 1 && !pv.isOnFallback)

        let battery = try DeviceEmulator(name: "h1/battery", profile: try ProfileLoader.load(file: "\(repository)/Profiles/sunspec-battery.yaml"),
                                         parameters: DeviceParameters(initialSoC: 50), time: 12 * 3600)
        let site = SiteConditions(weather: Weather(irradiance: 800, outdoorTemperature: 20), houseLoad: 500)
        for (control, value) in [(Control.rateRevertSeconds, 30.0), (.chargeRatePercent, -40), (.dischargeRatePercent, 40), (.storageControlMode, 3)] {
            #expect(try write(battery, control, value) == nil)
        }
        battery.step(for: 20, site: site)
        #expect(try read(battery, .control(.storageControlMode, initial: nil)) == 3)
        #expect(abs((battery.reading(.batteryPower) ?? 0) - 2000) < 1)  // forced: 40 % of 5 kW
        battery.step(for: 20, site: site)
        #expect(try read(battery, .control(.storageControlMode, initial: nil)) == 0)
        #expect(try read(battery, .control(.chargeRatePercent, initial: nil)) == 100)
        #expect(try read(battery, .control(.dischargeRatePercent, initial: nil)) == 100)
        #expect(battery.isOnFallback)
    }

    @Test("SunSpec enumerations and ranges hold for stored points as for controls; 121's and 705's settings read back as written")
    func enumerationsAndStores() throws {
        let (fleet, pv, _) = try house()
        defer { fleet.stop() }
        #expect(try write(pv, model: 123, "OutPFSet_Ena", 2) == .illegalDataValue)
        #expect(try write(pv, model: 123, "OutPFSet_Ena", 1) == nil)
        #expect(try write(pv, model: 123, "VArPct_Mod", 4) == .illegalDataValue)
        #expect(try write(pv, model: 121, "WMax", 4000) == nil && read(pv, model: 121, "WMax") == 4000)
        #expect(try write(pv, model: 705, "Crv2_VRef", 101) == nil)  // % of nominal
        #expect(try write(pv, model: 705, "Crv2_VRef", 110) == .illegalDataValue)
        #expect(try write(pv, model: 705, "Crv2_DeptRef", 4) == .illegalDataValue)  // DeptRef: W_MAX_PCT 0 ... VA_MAX_PCT 3
        #expect(try write(pv, model: 705, "Crv2_DeptRef", 1) == nil)                 // % of VArMax
        #expect(try write(pv, model: 705, "AdptCrvReq", 2) == nil)
        #expect(try read(pv, model: 705, "DeptRef") == 1)
        #expect(try write(pv, model: 706, "Crv2_DeptRef", 2) == .illegalDataValue)
        #expect(try write(pv, model: 1, "DA", 7) == nil)
    }
}

/// The shipped battery at noon, half full, beside a house drawing 500 W.
private func halfFullBattery() throws -> DeviceEmulator {
    try DeviceEmulator(name: "h1/battery", profile: try ProfileLoader.load(file: "\(repository)/Profiles/sunspec-battery.yaml"),
                       parameters: DeviceParameters(initialSoC: 50), time: 12 * 3600)
}

private let noon = SiteConditions(weather: Weather(irradiance: 800, outdoorTemperature: 20), houseLoad: 500)

@Suite("SunSpec 704 (DER AC controls) on the inverter and the battery: fixed W, constant var, power factor, the shared limit, a timer each")
struct ACControlTests {
    @Test("Fixed W holds the inverter at WSetPct of WMax or at WSet watts, and a PV inverter cannot go below 0")
    func fixedPower() throws {
        let (fleet, pv, _) = try house(settings: [.voltVarEnabled: 0, .voltWattEnabled: 0])
        defer { fleet.stop() }
        for (name, value) in [("WSetPct", 40.0), ("WSetEna", 1)] { #expect(try write(pv, model: 704, name, value) == nil) }
        run(fleet, at: 230, for: 60)
        #expect(abs((pv.reading(.acPower) ?? 0) - 2000) < 1)
        for (name, value) in [("WSet", 1234.0), ("WSetMod", 1)] { #expect(try write(pv, model: 704, name, value) == nil) }
        run(fleet, at: 230, for: 60)
        #expect(abs((pv.reading(.acPower) ?? 0) - 1234) < 1)
        #expect(try write(pv, model: 704, "WSet", -1000) == nil)
        run(fleet, at: 230, for: 60)
        #expect(pv.reading(.acPower) == 0)
        #expect(try write(pv, model: 704, "WSetMod", 2) == .illegalDataValue)
        #expect(try write(pv, model: 704, "WSetEna", 0) == nil)
        run(fleet, at: 230, for: 60)
        #expect((pv.reading(.acPower) ?? 0) > 3000)
    }

    @Test("Constant var (VarSet) and constant power factor (PFWInj) take the place of volt-var; var first; off again, volt-var is back")
    func reactiveModes() throws {
        let (fleet, pv, _) = try house(settings: [.voltWattEnabled: 0])
        defer { fleet.stop() }
        run(fleet, at: 248.4, for: 60)
        #expect(try read(pv, .quantity(.reactivePower)) < -2000)  // volt-var absorbs at 108 %
        for (name, value) in [("PFWInj_PF", 0.9), ("PFWInj_Ext", 0), ("PFWInjEna", 1)] { #expect(try write(pv, model: 704, name, value) == nil) }
        run(fleet, at: 248.4, for: 60)
        let active = try #require(pv.reading(.acPower))
        let expected = min(active * (1 / 0.81 - 1).squareRoot(), 2200)  // over-excited: injects, within 44 % of 5 kVA
        #expect(abs(try read(pv, .quantity(.reactivePower)) - expected) <= 2, "at \(active) W")
        for (name, value) in [("VarSetMod", 3.0), ("VarSetPct", -20), ("VarSetEna", 1)] { #expect(try write(pv, model: 704, name, value) == nil) }
        run(fleet, at: 248.4, for: 60)
        #expect(abs(try read(pv, .quantity(.reactivePower)) - -1000) <= 1)  // 20 % of 5 kVA absorbed
        for (name, value) in [("VarSet", 700.0), ("VarSetMod", 4)] { #expect(try write(pv, model: 704, name, value) == nil) }
        run(fleet, at: 248.4, for: 60)
        #expect(abs(try read(pv, .quantity(.reactivePower)) - 700) <= 1)
        #expect(try write(pv, model: 704, "PFWInj_PF", 0) == .illegalDataValue)
        for name in ["VarSetEna", "PFWInjEna"] { #expect(try write(pv, model: 704, name, 0) == nil) }
        run(fleet, at: 248.4, for: 60)
        #expect(try read(pv, .quantity(.reactivePower)) < -2000)
    }

    @Test("704's WMaxLimPct is 123's: what one face writes the other reads, and one timer reverts both to WMaxLimPctRvrt")
    func sharedLimit() throws {
        let (fleet, pv, _) = try house(settings: [.voltVarEnabled: 0, .voltWattEnabled: 0])
        defer { fleet.stop() }
        #expect(try write(pv, model: 123, "WMaxLimPct", 30) == nil)
        #expect(try read(pv, model: 704, "WMaxLimPct") == 30)
        for (name, value) in [("WMaxLimPctRvrt", 50.0), ("WMaxLimPctEnaRvrt", 1), ("WMaxLimPctRvrtTms", 20), ("WMaxLimPctEna", 1)] {
            #expect(try write(pv, model: 704, name, value) == nil)
        }
        #expect(try read(pv, model: 123, "WMaxLim_Ena") == 1 && read(pv, model: 123, "WMaxLimPct_RvrtTms") == 20)
        run(fleet, at: 230, for: 10)
        #expect(abs((pv.reading(.acPower) ?? 0) - 1500) < 1)
        #expect(try read(pv, model: 704, "WMaxLimPctRvrtRem") == 11)  // in force after the product's 1-s latency
        run(fleet, at: 230, for: 20)
        #expect(abs((pv.reading(.acPower) ?? 0) - 2500) < 1)  // reverted to 50 %, still enabled
        #expect(try read(pv, model: 123, "WMaxLimPct") == 50 && read(pv, model: 704, "WMaxLimPctRvrtRem") == 0)
    }

    @Test("Each 704 control reverts on its own timer to its *Rvrt values; RvrtRem counts down, a rewrite restarts it, 0 cancels it", arguments: [
        ("WSet", [("WSetPct", 40.0), ("WSetEna", 1)], "WSetEna"),
        ("VarSet", [("VarSetPct", 10.0), ("VarSetEna", 1)], "VarSetEna"),
        ("PFWInj", [("PFWInj_PF", 0.95), ("PFWInjEna", 1)], "PFWInjEna"),
        ("PFWAbs", [("PFWAbs_PF", 0.95), ("PFWAbsEna", 1)], "PFWAbsEna"),
    ])
    func reversion(prefix: String, writes: [(String, Double)], enable: String) throws {
        for rewrite in [nil, 50.0, 0] as [Double?] {
            let (fleet, pv, _) = try house()
            defer { fleet.stop() }
            #expect(try write(pv, model: 704, "\(prefix)RvrtTms", 30) == nil)
            for (name, value) in writes { #expect(try write(pv, model: 704, name, value) == nil) }
            run(fleet, at: 230, for: 20)
            #expect(try read(pv, model: 704, "\(prefix)RvrtRem") == 11 && read(pv, model: 704, enable) == 1)  // from +1 s: the latency
            if let rewrite { #expect(try write(pv, model: 704, "\(prefix)RvrtTms", rewrite) == nil) }
            run(fleet, at: 230, for: 20)
            let reverted = rewrite == nil
            #expect(try read(pv, model: 704, enable) == (reverted ? 0 : 1), "\(prefix), rewritten to \(rewrite.map { "\($0)" } ?? "nothing")")
            #expect(try read(pv, model: 704, "\(prefix)RvrtRem") == (rewrite == 50 ? 31 : 0))
        }
    }

    @Test("On the battery, fixed W sets the power whatever 124's window, the limit caps discharging, 713 reads the storage")
    func battery() throws {
        let battery = try halfFullBattery()
        battery.step(for: 60, site: noon)
        #expect(abs((battery.reading(.batteryPower) ?? 0) - 500) < 1)  // self-consumption
        for (name, value) in [("WSet", -2000.0), ("WSetMod", 1), ("WSetEna", 1)] { #expect(try write(battery, model: 704, name, value) == nil) }
        battery.step(for: 60, site: noon)
        #expect(abs((battery.reading(.batteryPower) ?? 0) - -2000) < 1)
        for (name, value) in [("WSet", 3000.0), ("WMaxLimPct", 40), ("WMaxLimPctEna", 1)] { #expect(try write(battery, model: 704, name, value) == nil) }
        battery.step(for: 60, site: noon)
        #expect(abs((battery.reading(.batteryPower) ?? 0) - 2000) < 1)  // 40 % of 5 kW
        #expect(try write(battery, model: 704, "VarSetEna", 1) == .serverDeviceFailure)  // not implemented: the battery's read-only answer
        #expect(try read(battery, model: 713, "WHRtg") == 10000)
        let stored = try read(battery, model: 713, "WHAvail")
        #expect(abs(stored - (battery.reading(.stateOfCharge) ?? 0) / 100 * 10000) <= 10)
    }
}

@Suite("Frequency trips in the emulated inverter (SunSpec 709/710)")
struct FrequencyTripTests {
    @Test("The frequency trips are served in SunSpec 709/710 (the standard's per-unit settings at 50 Hz): at 51.8 Hz OF2 clears in 0.16 s; with OF2 adopted at 52 Hz, OF1's 300 s holds")
    func frequencyTrips() throws {
        for adopt in [false, true] {
            let (fleet, pv, _) = try house()
            defer { fleet.stop() }
            #expect(abs(try read(pv, model: 710, "MustTrip_Hz2") - 51.67) < 0.01)
            #expect(try read(pv, model: 709, "MustTrip_Hz1") == 48.75)
            if adopt {
                #expect(try write(pv, model: 710, "Crv2_MustTrip_Hz2", 52) == nil && write(pv, model: 710, "AdptCrvReq", 2) == nil)
                #expect(try write(pv, model: 709, "Crv3_MustTrip_Hz2", 49) == nil && write(pv, model: 709, "AdptCrvReq", 3) == nil)
                #expect(try read(pv, model: 709, "AdptCrvRslt") == 2)  // UF2 above UF1 (48.75 Hz): FAILED
            }
            fleet.step(for: 2)
            let before = energy(pv), output = try #require(pv.reading(.acPower))
            fleet.setGrid(GridPoint(voltage: 230, frequency: 51.8), at: "h1")
            fleet.step(for: 10)
            #expect(pv.reading(.tripped) == (adopt ? 0 : 1), "adopted: \(adopt)")
            if !adopt { #expect(abs((energy(pv) - before) * 3600 / output - 0.16) < 0.01) }  // energized 0.16 s of the 10
        }
    }
}

/// The inverter's lifetime energy, Wh, read from the physics.
private func energy(_ pv: DeviceEmulator) -> Double { pv.reading(.lifetimeEnergy) ?? .nan }
