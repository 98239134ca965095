import Emulators
import Foundation
import Physics
import TestSupport
import Testing

/// py20305's SunSpec connector (the IEEE 2030.5 client's way to a DER) against the site's inverter or battery, with
/// simulated time 10 times the wall clock's: its adoptions wait for the product's latency.
private func py20305(_ site: TestSite, _ device: String, _ action: String, _ params: [String: Any] = [:]) throws -> [String: Any] {
    let json = String(decoding: try JSONSerialization.data(withJSONObject: params), as: UTF8.self)
    let result = try runStepping(site, scale: 10, ["python3", "\(repository)/Tests/PeerTests/peers/py20305_control.py", "\(site.port(device))", action, json])
    #expect(result.status == 0, "py20305 \(action) on \(device): \(result.json)")
    return result.json
}

/// The timer writes py20305 leaves out, for a 704 control (`RvrtTms` 120 s) or a curve model (back to curve 3,
/// Category B's, after 120 s).
private func timer(_ model: Int, _ point: String) -> [[String: Any]] { [["model": model, "point": point, "value": 120]] }
private func curveTimer(_ model: Int, revertTo point: String = "RvrtCrv") -> [[String: Any]] {
    [["model": model, "point": point, "value": 3], ["model": model, "point": "RvrtTms", "value": 120]]
}

@Suite("py20305, an IEEE 2030.5 client, controls the emulated inverter and battery over SunSpec", .serialized, .timeLimit(.minutes(5)))
struct Py20305Tests {
    @Test("It scans the inverter and reads monitoring, nameplate, status and configuration as the physics has them")
    func reads() throws {
        let site = try TestSite()
        defer { site.fleet.stop() }
        let pv = try py20305(site, "h1/pv", "read")
        let monitoring = try #require(pv["monitoring"] as? [String: Any])
        let power = site.reading("h1/pv", .acPower)
        #expect(abs((monitoring["W"] as? Double ?? 0) - power) <= max(20, 0.02 * power), "\(monitoring)")
        #expect(monitoring["Hz"] as? Double == 50 && monitoring["VL1"] as? Double == 230)
        let nameplate = try #require(pv["nameplate"] as? [String: Any])
        #expect((nameplate["WMaxRtg"] as? [String: Any])?["value"] as? Int == 5000)
        #expect((nameplate["VarMaxAbsRtg"] as? [String: Any])?["value"] as? Int == 2200)
        #expect(((pv["status"] as? [String: Any])?["connectStatus"] as? [String: Any])?["value"] as? Int == 1)
        // 10 kWh × SoC, read while the physics runs at 10 times the wall clock (the battery serving its house): at
        // a state of charge between the ones before and after the read, however long the client takes.
        let before = site.reading("h1/battery", .stateOfCharge) * 100
        let battery = try py20305(site, "h1/battery", "read")
        let after = site.reading("h1/battery", .stateOfCharge) * 100
        let stored = (battery["monitoring"] as? [String: Any])?["WHAvail"] as? Double ?? 0
        #expect(stored >= min(before, after) - 10 && stored <= max(before, after) + 10, "\(stored) against \(before)...\(after)")
    }

    @Test("Its power limit, fixed W, fixed var and power factor act on the inverter (704) and revert when their timers run out")
    func acControls() throws {
        let site = try TestSite()
        defer { site.fleet.stop() }
        func settle() { site.run(seconds: 20) }
        let full = site.reading("h1/pv", .acPower)
        #expect(full > 4000)

        _ = try py20305(site, "h1/pv", "update_p_lim", ["p_lim_mode_enable": 1, "p_lim_w": 40, "revert": timer(704, "WMaxLimPctRvrtTms")])
        settle()
        #expect(abs(site.reading("h1/pv", .acPower) - 2000) < 1)
        site.run(seconds: 120)
        #expect(site.reading("h1/pv", .acPower) > 4000 && site.device("h1/pv").emulator.applied(.powerLimitEnabled) == 0)

        _ = try py20305(site, "h1/pv", "update_fixed_w", ["WSetEna": 1, "WSetMod": 0, "WSet": 50, "revert": timer(704, "WSetRvrtTms")])
        settle()
        #expect(abs(site.reading("h1/pv", .acPower) - 2500) < 1)
        site.run(seconds: 120)
        #expect(site.reading("h1/pv", .acPower) > 4000)

        // IEEE 2030.5 refType 8 (% of setMaxVA) is SunSpec VarSetMod 3.
        _ = try py20305(site, "h1/pv", "update_const_q", ["const_q_mode_enable": 1, "ref_type": 8, "const_q_pct": 20, "revert": timer(704, "VarSetRvrtTms")])
        settle()
        #expect(abs(site.reading("h1/pv", .reactivePower) - 1000) <= 1)  // injected
        site.run(seconds: 120)
        #expect(abs(site.reading("h1/pv", .reactivePower)) < 1)  // volt-var at nominal voltage

        _ = try py20305(site, "h1/pv", "update_const_pf", ["inj": ["mode": 1, "pf": 0.95, "excitation": 1], "revert": timer(704, "PFWInjRvrtTms")])
        settle()
        let active = site.reading("h1/pv", .acPower)
        #expect(abs(site.reading("h1/pv", .reactivePower) - min(2200, active * (1 / (0.95 * 0.95) - 1).squareRoot())) <= 2)
        site.run(seconds: 120)
        #expect(abs(site.reading("h1/pv", .reactivePower)) < 1)
    }

    @Test("Its volt-var, volt-watt, watt-var and frequency-droop settings are adopted (705, 706, 712, 711), act, and revert to curve 3 when their timers run out")
    func curves() throws {
        let site = try TestSite()
        defer { site.fleet.stop() }
        let pv = site.device("h1/pv").emulator
        site.fleet.setGrid(GridPoint(voltage: 248.4), at: "h1")  // 108 %
        site.run(seconds: 60)
        #expect(abs(site.reading("h1/pv", .reactivePower) - -2200) <= 1)  // Category B: 44 % of 5 kVA absorbed

        _ = try py20305(site, "h1/pv", "update_qv", ["qv_mode_enable": 1, "qv_curve_v_pts": [92, 98, 102, 108], "qv_curve_q_pts": [30, 0, 0, -30],
                                                     "qv_vref": 100, "qv_olrt": 5, "revert": curveTimer(705)])
        site.run(seconds: 30)
        #expect(abs(site.reading("h1/pv", .reactivePower) - -1500) <= 1)  // 30 % of 5 kVA
        site.run(seconds: 120)
        #expect(abs(site.reading("h1/pv", .reactivePower) - -2200) <= 1 && pv.applied(.voltVarQ4) == -44)

        _ = try py20305(site, "h1/pv", "update_pv", ["pv_mode_enable": 1, "pv_curve_v_pts": [105, 109], "pv_curve_p_pts": [100, 30],
                                                     "pv_olrt": 10, "revert": curveTimer(706)])
        site.run(seconds: 60)
        #expect(abs(site.reading("h1/pv", .acPower) - 2375) < 5)  // 100 - 70 × 3/4 % of 5 kW at 108 %
        site.run(seconds: 120)
        #expect(abs(site.reading("h1/pv", .acPower) - 3000) < 5)  // Category B: 60 % at 108 %

        site.fleet.setGrid(GridPoint(voltage: 230), at: "h1")
        _ = try py20305(site, "h1/pv", "update_qp", ["qp_mode_enable": 1, "qp_curve_p_pts": [20, 40, 100], "qp_curve_q_pts": [0, 0, -30],
                                                     "revert": curveTimer(712)])
        site.run(seconds: 60)
        let share = site.reading("h1/pv", .acPower) / 5000
        #expect(abs(site.reading("h1/pv", .reactivePower) - -30 * (share - 0.4) / 0.6 * 50) <= 5, "at \(share) of rated power")
        site.run(seconds: 120)
        // Curve 3 is Category B's watt-var: nothing below half of rated power; off again, volt-var gives none at 230 V.
        #expect(pv.applied(.wattVarP2) == 50)

        let before = site.reading("h1/pv", .acPower)
        site.fleet.setGrid(GridPoint(voltage: 230, frequency: 50.5), at: "h1")
        _ = try py20305(site, "h1/pv", "update_pf", ["pf_mode_enable": 1, "pf_olrt": 5, "pf_dbof": 0.05, "pf_dbuf": 0.05, "pf_kof": 0.04,
                                                     "pf_kuf": 0.04, "revert": curveTimer(711, revertTo: "RvrtCtl")])
        site.run(seconds: 40)
        #expect(pv.applied(.frequencyDroopK) == 0.04 && pv.applied(.frequencyDroopDeadband) == 0.05)
        // Down by (0.5 - 0.05) / 50 / 0.04 of rated power from where it was when the frequency rose.
        let expected = before - (0.45 / 50 / 0.04) * 5000
        #expect(abs(site.reading("h1/pv", .acPower) - expected) < 0.02 * 5000, "\(site.reading("h1/pv", .acPower)) W against \(expected)")
        site.run(seconds: 120)
        #expect(pv.applied(.frequencyDroopK) == 0.05)
    }

    @Test("Its storage charge and discharge setpoints (opModTargetW, 704 WSet in watts) move the battery and revert to self-consumption")
    func storage() throws {
        let site = try TestSite()
        defer { site.fleet.stop() }
        _ = try py20305(site, "h1/battery", "update_target_w", ["mode_enable": 1, "watts": -2000, "revert": timer(704, "WSetRvrtTms")])
        site.run(seconds: 20)
        #expect(abs(site.reading("h1/battery", .batteryPower) - -2000) < 1)  // charging
        _ = try py20305(site, "h1/battery", "update_target_w", ["mode_enable": 1, "watts": 1500])
        site.run(seconds: 20)
        #expect(abs(site.reading("h1/battery", .batteryPower) - 1500) < 1)
        site.run(seconds: 120)
        #expect(site.device("h1/battery").emulator.applied(.fixedPowerEnabled) == 0)
        #expect(abs(site.reading("h1/battery", .batteryPower) - 1500) > 100)  // back on self-consumption
    }
}
