import Emulators
import Foundation
@testable import Harness
import Logging
import Modbus
import Physics
import Testing

/// A fleet of one house at noon on a clear day: the shipped SunSpec inverter and a house meter, on a grid the
/// test sets (as a feeder model would).
private func house(settings: Settings = [:]) throws -> (fleet: Fleet, pv: DeviceEmulator, meter: DeviceEmulator) {
    let inverter = try ProfileLoader.load(file: "\(repository)/Profiles/sunspec-inverter.yaml")
    let meter = try ProfileLoader.load(file: "\(repository)/Profiles/sunspec-meter.yaml")
    var parameters = DeviceParameters()
    parameters.settings = settings
    var logger = Logger(label: "test")
    logger.logLevel = .critical
    let fleet = try Fleet([DeviceSpec(name: "h1/pv", house: "h1", profile: inverter, parameters: parameters, port: 0),
                           DeviceSpec(name: "h1/meter", house: "h1", profile: meter, port: 0)],
                          weather: .clear(), baseLoads: ["h1": BaseLoad(mean: 300)], startTime: 12 * 3600, logger: logger)
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
    let point = try emulator.profile.blocks.flatMap(\.points).first { if case .control(control, _) = $0.binding { true } else { false } }
    let target = try #require(point)
    let words = target.type.encode((value / target.scale).rounded())
    return emulator.respond(to: .write(.holdingRegisters, address: target.address, values: words, isSingle: words.count == 1), unit: 1).exception
}

private func run(_ fleet: Fleet, at voltage: Double, for seconds: Int) {
    fleet.setGrid(GridPoint(voltage: voltage), at: "h1")
    for _ in 0..<seconds / 10 { fleet.step(for: 10) }
}

@Suite("Grid support in the emulated inverter (SunSpec 705-708) and the meter's voltage and reactive power")
struct GridSupportEmulationTests {
    @Test("The AC voltage registers follow the grid given; at 108 % volt-var absorbs, volt-watt halves the output, and the meter sees both")
    func followsTheGrid() throws {
        let (fleet, pv, meter) = try house()
        defer { fleet.stop() }
        run(fleet, at: 230, for: 120)
        let full = try read(pv, .quantity(.acPower))
        #expect(full > 3000)
        run(fleet, at: 248.4, for: 300)
        #expect(abs(try read(pv, .quantity(.acVoltage)) - 248.4) < 0.05)
        #expect(abs(try read(pv, .quantity(.reactivePower)) - -968) <= 1)  // -44 % of 2200 var, absorbed
        #expect(try read(pv, .quantity(.acPower)) <= 2501)                 // volt-watt: 50 % of 5000 W at 108 %
        #expect(try read(pv, .quantity(.inverterStatus)) == 5)              // throttled
        #expect(abs(try read(meter, .quantity(.acVoltage)) - 248.4) < 2)     // the meter's own noise is 0.3 V
        #expect(abs(try read(meter, .quantity(.reactivePower)) - 968) <= 1)  // drawn from the grid
        run(fleet, at: 230, for: 300)
        #expect(abs(try read(pv, .quantity(.reactivePower))) < 1)
        #expect(try read(pv, .quantity(.acPower)) > 3000)
    }

    @Test("A client rewrites the volt-var curve point by point; a half-written curve whose voltages do not rise leaves the last good one in force")
    func curveWrites() throws {
        let (fleet, pv, _) = try house()
        defer { fleet.stop() }
        run(fleet, at: 248.4, for: 60)
        #expect(try read(pv, .quantity(.reactivePower)) < -900)
        #expect(try write(pv, .voltVarV3, 110) == nil)  // past V4 (108 %): not rising, so not in force yet
        run(fleet, at: 248.4, for: 60)
        #expect(try read(pv, .quantity(.reactivePower)) < -900)
        #expect(try read(pv, .control(.voltVarV3, initial: nil)) == 110)  // it reads back as written
        #expect(try write(pv, .voltVarV4, 115) == nil)  // now 102, 98 → 110, 115: 108 % is in the dead band
        run(fleet, at: 248.4, for: 60)
        #expect(abs(try read(pv, .quantity(.reactivePower))) < 1)
        #expect(try write(pv, .voltVarV1, 200) == .illegalDataValue)  // outside the point's range
    }

    @Test("Turning volt-watt off (Ena 0) lets the inverter produce in full at 108 %")
    func voltWattOff() throws {
        let (fleet, pv, _) = try house(settings: [.voltWattEnabled: 0])
        defer { fleet.stop() }
        run(fleet, at: 248.4, for: 120)
        #expect(try read(pv, .quantity(.acPower)) > 3000)
        #expect(try write(pv, .voltWattEnabled, 1) == nil)
        run(fleet, at: 248.4, for: 120)
        #expect(try read(pv, .quantity(.acPower)) <= 2501)
    }

    @Test("At 112 % the inverter trips within its clearing time: no output, fault status, one trip; it returns 300 s after the voltage is back in band")
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

    @Test("The trip settings are served in SunSpec 708 and a client can move them: at 112 % with must-trip at 115 % nothing trips")
    func tripSettings() throws {
        let (fleet, pv, _) = try house(settings: [.voltVarEnabled: 0, .voltWattEnabled: 0])
        defer { fleet.stop() }
        #expect(try read(pv, .control(.tripHighV1, initial: nil)) == 110)
        #expect(try read(pv, .control(.tripHighT1, initial: nil)) == 2)
        #expect(try write(pv, .tripHighV1, 115) == nil)
        run(fleet, at: 257.6, for: 60)
        #expect(pv.reading(.trips) == 0)
        #expect(try read(pv, .quantity(.acPower)) > 3000)
    }
}

@Suite("Grid support and co-simulation in profile and rig files")
struct CosimFileTests {
    @Test("A profile that binds a volt-var register without listing volt-var is refused, and only an inverter may list grid support")
    func profileDeclares() throws {
        let unlisted = try #require(loadError(header + "      - {name: V1, type: uint16, control: volt-var-v1}\n"))
        #expect(unlisted.message == "a point binds volt-var-v1, but grid-support does not list volt-var")
        let listed = try loadProfile("grid-support: [volt-var]\n" + header + "      - {name: V1, type: uint16, control: volt-var-v1}\n")
        #expect(listed.gridSupport == [.voltVar])
        let battery = try #require(loadError(header.replacingOccurrences(of: "kind: inverter", with: "kind: battery") + "grid-support: [volt-var]\n"))
        #expect(battery.message.contains("only an inverter has grid-support functions"))
        let unknown = try #require(loadError("grid-support: [volt-hertz]\n" + header))
        #expect(unknown.message.contains("expected one of volt-var, volt-watt, voltage-trip"))
    }

    private func rigError(_ cosim: String, extra: String = "") -> FileError? {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("rig-\(UUID().uuidString).yaml").path
        let text = "houses:\n  - {name: h1, devices: [{profile: sunspec-inverter}, {name: battery, profile: sunspec-battery}]}\n  - {name: h2, devices: [{profile: sunspec-inverter}]}\n" + extra + "cosim:\n" + cosim
        _ = FileManager.default.createFile(atPath: path, contents: Data(text.utf8))
        defer { try? FileManager.default.removeItem(atPath: path) }
        do { _ = try RigLoader.load(file: path, profiles: "\(repository)/Profiles"); return nil } catch { return error }
    }

    @Test("Bad cosim keys name the line and what was expected", arguments: [
        ("  helics: {broker: localhost}\n", "expected host:port"),
        ("  helics: {period: 2.5}\n", "expected whole simulated seconds"),
        ("  helics: {voltage: feeder/voltage}\n", "expected a key with {house} in it"),
        ("  helics: {shards: 3}\n", "expected an integer in 1...2"),
        ("  gridlabd: {}\n", "unknown key"),
        ("  helics: {shards: 2, voltage: \"feeder/{house}/voltage\"}\n", "a split run cannot take voltages from a feeder model yet"),
    ])
    func badKeys(cosim: String, message: String) throws {
        let error = try #require(rigError(cosim))
        #expect(error.message.contains(message), "\(error)")
        #expect(error.line >= 4)
    }

    @Test("A split run refuses assertions that need the shards' request logs, and an island")
    func splitLimits() throws {
        let island = try #require(rigError("  helics: {shards: 2}\n", extra: "grid: {mode: islanded, grid-forming: h1/battery}\n"))
        #expect(island.message.contains("a split run cannot have an island"), "\(island)")
        let logs = try #require(rigError("  helics: {shards: 2}\n", extra: "assertions: {writes-accepted: true}\n"))
        #expect(logs.message.contains("writes-accepted judges the devices' request logs"))
    }

    @Test("A cosim rig is held to the voltage assertions by default; a plain rig is not")
    func defaults() throws {
        let feeder = try RigLoader.load(file: "\(repository)/Rigs/feeder-voltage.yaml", profiles: "\(repository)/Profiles")
        #expect(feeder.run.cosim?.voltage == "feeder/{house}/voltage")
        #expect(feeder.run.cosim?.federates == [["python3", "examples/cosim/feeder.py"]])
        #expect(feeder.run.assertions.map(\.kind).contains(.voltageRange))
        let plain = try RigLoader.load(file: "\(repository)/Rigs/neighborhood.yaml", profiles: "\(repository)/Profiles")
        #expect(!plain.run.assertions.map(\.kind).contains(.voltageRange))
    }
}
