import Emulators
import Foundation
import Logging
import Modbus
import Physics
import Testing

/// One device on a free port with `faults` in force, starting at `start` (simulated seconds).
private func faulty(_ profileName: String, _ faults: [DeviceFault], seed: UInt64 = 1, start: Double = 12 * 3600) throws -> Fleet {
    try Fleet([DeviceSpec(id: DeviceID(house: "h1", name: "dev"), house: "h1", profile: try profile(profileName), port: 0)], weather: .clear(),
              baseLoads: ["h1": BaseLoad(mean: 400)], startTime: start, faults: FaultPlan(faults, seed: seed), logger: Logger(label: "test"))
}

/// The address of a named point of a profile.
private func address(_ profileName: String, _ point: String) throws -> UInt16 {
    try profile(profileName).blocks.flatMap(\.points).first { $0.name == point }!.address
}

@Suite("Scheduled faults, as a client meets them", .serialized, .timeLimit(.minutes(2)))
struct FaultTests {
    @Test("A battery refusing FC 16 with exception 4 for ten minutes: pymodbus gets exception 4, reads still work, writes land after")
    func exceptionFour() throws {
        let fleet = try faulty("sunspec-battery", [DeviceFault(device: "h1/dev", kind: .exception(.serverDeviceFailure), functions: [16],
                                                               start: 12 * 3600, end: 12 * 3600 + 600)])
        defer { fleet.stop() }
        let port = fleet.devices[0].port, storage = try address("sunspec-battery", "StorCtl_Mod")
        let during = try pymodbus(port, [["op": "write", "address": Int(storage), "values": [3]], ["op": "read", "address": Int(storage)],
                                         ["op": "write1", "address": Int(storage), "values": [3]]])
        #expect(exception(during[0]) == 4, "\(during)")
        #expect(registers(during[1]) == [0])
        #expect(exception(during[2]) == nil, "FC 6 is not in the fault's functions: \(during)")
        for _ in 0..<61 { fleet.step(for: 10) }
        let after = try pymodbus(port, [["op": "write", "address": Int(storage), "values": [1]], ["op": "read", "address": Int(storage)]])
        #expect(exception(after[0]) == nil && registers(after[1]) == [1], "\(after)")
    }

    @Test("A timeout fault: the read times out, and the next one after its count answers")
    func timeout() throws {
        let fleet = try faulty("sunspec-inverter", [DeviceFault(device: "h1/dev", kind: .noResponse, start: 0, count: 1)])
        defer { fleet.stop() }
        let client = try ModbusClient(port: fleet.devices[0].port, timeout: .milliseconds(300))
        #expect(throws: ModbusClientError.self) { _ = try client.read(.holdingRegisters, at: 40000, count: 2) }
        do { _ = try client.read(.holdingRegisters, at: 40000, count: 2) } catch { Issue.record("the second read failed: \(error)") }
    }

    @Test("Added latency delays the answer by at least its milliseconds")
    func latency() throws {
        let fleet = try faulty("sunspec-inverter", [DeviceFault(device: "h1/dev", kind: .delay(milliseconds: 250, jitter: 0), start: 0)])
        defer { fleet.stop() }
        let client = try ModbusClient(port: fleet.devices[0].port, timeout: .seconds(2))
        let started = ContinuousClock.now
        _ = try client.read(.holdingRegisters, at: 40000, count: 2)
        #expect(ContinuousClock.now - started >= .milliseconds(250))
    }

    @Test("A dropped connection: the client sees it closed")
    func drop() throws {
        let fleet = try faulty("sunspec-inverter", [DeviceFault(device: "h1/dev", kind: .drop, start: 0, count: 1)])
        defer { fleet.stop() }
        let client = try ModbusClient(port: fleet.devices[0].port, timeout: .seconds(1))
        do {
            _ = try client.read(.holdingRegisters, at: 40000, count: 2)
            Issue.record("the read was answered")
        } catch {
            #expect(error.kind == .closed || error.kind == .timeout, "\(error)")
        }
    }

    @Test("Frozen registers hold their values while the physics moves on, and follow it again after")
    func frozen() throws {
        let fleet = try faulty("sunspec-inverter", [DeviceFault(device: "h1/dev", kind: .frozen, start: 7 * 3600, end: 8 * 3600)], start: 7 * 3600)
        defer { fleet.stop() }
        let power = try address("sunspec-inverter", "W")
        let client = try ModbusClient(port: fleet.devices[0].port)
        fleet.fleetStep(seconds: 10)
        let before = try client.read(.holdingRegisters, at: power, count: 1)
        let physicsBefore = fleet.devices[0].emulator.reading(.acPower) ?? 0
        fleet.fleetStep(seconds: 1800)
        #expect(try client.read(.holdingRegisters, at: power, count: 1) == before)
        #expect((fleet.devices[0].emulator.reading(.acPower) ?? 0) > physicsBefore + 100, "the sun did not rise")
        fleet.fleetStep(seconds: 1900)
        #expect(try client.read(.holdingRegisters, at: power, count: 1) != before)
    }

    @Test("A minimum gap: a request hard on the heels of another is refused with exception 6; one after a pause is served")
    func minimumGap() throws {
        let fleet = try faulty("sunspec-inverter", [DeviceFault(device: "h1/dev", kind: .minimumGap(milliseconds: 200, code: .serverDeviceBusy), start: 0)])
        defer { fleet.stop() }
        let client = try ModbusClient(port: fleet.devices[0].port)
        _ = try client.read(.holdingRegisters, at: 40000, count: 1)
        do {
            _ = try client.read(.holdingRegisters, at: 40000, count: 1)
            Issue.record("the back-to-back read was served")
        } catch {
            #expect(error.kind == .exception(.serverDeviceBusy), "\(error)")
        }
        Thread.sleep(forTimeInterval: 0.25)  // the fault is about wall-clock spacing, so the test must space its requests
        _ = try client.read(.holdingRegisters, at: 40000, count: 1)
    }

    @Test("An offset, a drift and seeded noise: the register reads the physics plus the error; the same seed, the same noise")
    func distortedMeasurements() throws {
        func readings(seed: UInt64, _ kind: DeviceFault.Kind) throws -> [(register: Double, physics: Double)] {
            let fleet = try faulty("sunspec-inverter", [DeviceFault(device: "h1/dev", kind: kind, start: 12 * 3600)], seed: seed)
            defer { fleet.stop() }
            let client = try ModbusClient(port: fleet.devices[0].port)
            let power = try address("sunspec-inverter", "W"), scale = try profile("sunspec-inverter").blocks.flatMap(\.points).first { $0.name == "W" }!.scale
            return try (0..<5).map { _ in
                fleet.fleetStep(seconds: 720)
                return (try client.read(.int16, at: power) * scale, fleet.devices[0].emulator.reading(.acPower) ?? 0)
            }
        }
        let offset = try readings(seed: 1, .distortion(offset: 300, drift: 0, noise: 0, quantity: .acPower))
        #expect(offset.allSatisfy { abs($0.register - $0.physics - 300) <= 10 }, "\(offset)")
        let drift = try readings(seed: 1, .distortion(offset: 0, drift: 1000, noise: 0, quantity: .acPower))
        // 1000 W per hour, read every 12 minutes: 200, 400, ... W above the physics.
        #expect(drift.enumerated().allSatisfy { abs($1.register - $1.physics - 200 * Double($0 + 1)) <= 10 }, "\(drift)")
        let noisy = try readings(seed: 3, .distortion(offset: 0, drift: 0, noise: 200, quantity: nil)).map { $0.register - $0.physics }
        #expect(try readings(seed: 3, .distortion(offset: 0, drift: 0, noise: 200, quantity: nil)).map { $0.register - $0.physics } == noisy)
        #expect(Set(noisy.map { ($0 / 10).rounded() }).count > 2, "no noise: \(noisy)")
    }

    @Test("Out of service: a tripped inverter gives nothing while still answering; a failed heat pump stays off; both recover")
    func outOfService() throws {
        let inverter = try faulty("sunspec-inverter", [DeviceFault(device: "h1/dev", kind: .outOfService, start: 12 * 3600, end: 12 * 3600 + 600)])
        defer { inverter.stop() }
        let client = try ModbusClient(port: inverter.devices[0].port)
        inverter.fleetStep(seconds: 300)
        #expect(inverter.devices[0].emulator.reading(.acPower) == 0)
        _ = try client.read(.holdingRegisters, at: 40000, count: 2)  // the Modbus face still answers
        inverter.fleetStep(seconds: 600)
        #expect((inverter.devices[0].emulator.reading(.acPower) ?? 0) > 1000, "the inverter did not reconnect")

        let heatPump = try faulty("intesis-thermostat", [DeviceFault(device: "h1/dev", kind: .outOfService, start: 12 * 3600, end: 13 * 3600)])
        defer { heatPump.stop() }
        let thermostat = try ModbusClient(port: heatPump.devices[0].port)
        try thermostat.write([1], at: 0)   // on
        try thermostat.write([1], at: 1)   // heat
        try thermostat.write([280], at: 4)  // the active setpoint, 28.0 °C: it would run
        heatPump.fleetStep(seconds: 600)
        #expect(heatPump.devices[0].emulator.reading(.hvacPower) == 0)
        #expect(try thermostat.read(.holdingRegisters, at: 0, count: 1) == [1], "the written setting still reads back")
        heatPump.fleetStep(seconds: 3600)
        #expect((heatPump.devices[0].emulator.reading(.hvacPower) ?? 0) > 0, "the heat pump did not come back")
    }

    @Test("Shade: the array gets the given share of the sun while the physics of the others is untouched")
    func shade() throws {
        let clear = try faulty("sunspec-inverter", [])
        let shaded = try faulty("sunspec-inverter", [DeviceFault(device: "h1/dev", kind: .shade(0.3), start: 12 * 3600)])
        defer { clear.stop(); shaded.stop() }
        clear.fleetStep(seconds: 600)
        shaded.fleetStep(seconds: 600)
        let full = clear.devices[0].emulator.reading(.acPower) ?? 0, dim = shaded.devices[0].emulator.reading(.acPower) ?? 0
        #expect(full > 1000 && abs(dim - 0.3 * full) < 0.05 * full, "\(dim) W against \(full) W")
    }

    @Test("A vehicle that arrives emptier than planned and leaves early: the charger's Mode 3 state reads A from the departure on")
    func vehiclePlanChanges() throws {
        var vehicle = VehicleSession(arrival: 12 * 3600 + 60, departure: 18 * 3600)
        vehicle.initialSoC = 0.6
        let spec = DeviceSpec(id: DeviceID(house: "h1", name: "dev"), house: "h1", profile: try profile("alfen-ng9xx"), parameters: .init(vehicle: vehicle), port: 0)
        let fleet = try Fleet([spec], weather: .clear(), startTime: 12 * 3600, faults: FaultPlan([
            DeviceFault(device: "h1/dev", kind: .arrivalSoC(20), start: 0),
            DeviceFault(device: "h1/dev", kind: .departure, start: 13 * 3600),
        ], seed: 1), logger: Logger(label: "test"))
        defer { fleet.stop() }
        let client = try ModbusClient(port: fleet.devices[0].port)
        let state = try address("alfen-ng9xx", "Mode3State")
        func pilot() throws -> String {
            let words = try client.read(.holdingRegisters, at: state, count: 5)
            return String(decoding: words.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xFF)] }.filter { $0 != 0 }, as: UTF8.self)
        }
        fleet.fleetStep(seconds: 120)
        let charger = fleet.devices[0].emulator
        #expect(abs((charger.reading(.vehicleSoC) ?? 0) - 20) < 1, "arrived at \(charger.reading(.vehicleSoC) ?? 0) %, not 20 %")
        let charging = try pilot()
        #expect(charging.hasPrefix("C"), "\(charging)")
        fleet.fleetStep(seconds: 3600)
        let departed = try pilot()
        #expect(departed == "A", "the vehicle is still plugged in after its early departure: \(departed)")
        #expect(charger.reading(.chargingPower) == 0)
    }

    @Test("A partial frame: the client gets half an answer and times out; the next request after the count is answered whole")
    func partialFrame() throws {
        let fleet = try faulty("sunspec-inverter", [DeviceFault(device: "h1/dev", kind: .partialFrame, start: 0, count: 1)])
        defer { fleet.stop() }
        let client = try ModbusClient(port: fleet.devices[0].port, timeout: .milliseconds(300))
        do {
            _ = try client.read(.holdingRegisters, at: 40000, count: 2)
            Issue.record("a half frame was read whole")
        } catch {
            #expect(error.kind == .timeout, "\(error)")
        }
        let fresh = try ModbusClient(port: fleet.devices[0].port, timeout: .seconds(1))
        #expect(try fresh.read(.holdingRegisters, at: 40000, count: 2) == [0x5375, 0x6E53])
    }

    @Test("A slow frame: the header at once, the rest after its milliseconds; a patient client reads the right value")
    func slowFrame() throws {
        let fleet = try faulty("sunspec-inverter", [DeviceFault(device: "h1/dev", kind: .slowFrame(milliseconds: 300), start: 0)])
        defer { fleet.stop() }
        let client = try ModbusClient(port: fleet.devices[0].port, timeout: .seconds(2))
        let started = ContinuousClock.now
        #expect(try client.read(.holdingRegisters, at: 40000, count: 2) == [0x5375, 0x6E53])
        #expect(ContinuousClock.now - started >= .milliseconds(300))
        let hasty = try ModbusClient(port: fleet.devices[0].port, timeout: .milliseconds(100))
        #expect(throws: ModbusClientError.self) { _ = try hasty.read(.holdingRegisters, at: 40000, count: 2) }
    }

    @Test("Connections refused while the device's server is down: connecting fails, and works again after the window")
    func refused() throws {
        let fleet = try faulty("sunspec-inverter", [DeviceFault(device: "h1/dev", kind: .refused, start: 12 * 3600, end: 12 * 3600 + 60)])
        defer { fleet.stop() }
        let port = fleet.devices[0].port
        do {
            let client = try ModbusClient(port: port, timeout: .milliseconds(500))
            _ = try client.read(.holdingRegisters, at: 40000, count: 2)
            Issue.record("a refusing device answered")
        } catch {
            #expect([.closed, .refused, .timeout].contains(error.kind) || { if case .other = error.kind { true } else { false } }(), "\(error)")
        }
        fleet.fleetStep(seconds: 60)
        #expect(try ModbusClient(port: port).read(.holdingRegisters, at: 40000, count: 2) == [0x5375, 0x6E53])
    }

    @Test("One client only: a second connection is reset while the first keeps being served")
    func singleClient() throws {
        let fleet = try faulty("sunspec-inverter", [DeviceFault(device: "h1/dev", kind: .singleClient, start: 0)])
        defer { fleet.stop() }
        let port = fleet.devices[0].port
        let first = try ModbusClient(port: port)
        #expect(try first.read(.holdingRegisters, at: 40000, count: 2) == [0x5375, 0x6E53])
        let second = try? ModbusClient(port: port, timeout: .milliseconds(500))
        #expect((try? second?.read(.holdingRegisters, at: 40000, count: 2)) == nil, "the second client was served")
        #expect(try first.read(.holdingRegisters, at: 40000, count: 2) == [0x5375, 0x6E53])
    }

    @Test("A reboot: unreachable and idle for its boot time, then back with its setpoints lost")
    func reboot() throws {
        let fleet = try faulty("sunspec-inverter", [DeviceFault(device: "h1/dev", kind: .reboot, start: 12 * 3600 + 60, end: 12 * 3600 + 180)])
        defer { fleet.stop() }
        let port = fleet.devices[0].port
        let limit = try address("sunspec-inverter", "WMaxLimPct")
        let client = try ModbusClient(port: port)
        try client.write([40], at: limit)
        #expect(try client.read(.holdingRegisters, at: limit, count: 1) == [40])
        fleet.fleetStep(seconds: 70)
        #expect(fleet.devices[0].emulator.reading(.acPower) == 0, "the inverter produces while booting")
        #expect((try? ModbusClient(port: port, timeout: .milliseconds(300)).read(.holdingRegisters, at: limit, count: 1)) == nil, "answered while booting")
        fleet.fleetStep(seconds: 120)
        #expect(try ModbusClient(port: port).read(.holdingRegisters, at: limit, count: 1) != [40], "the setpoint survived the reboot")
        #expect((fleet.devices[0].emulator.reading(.acPower) ?? 0) > 0)
    }

    @Test("A swapped word order and a changed scale factor: a client that assumes the old ones reads wrong values")
    func wordOrderAndScale() throws {
        let fleet = try faulty("sunspec-inverter", [DeviceFault(device: "h1/dev", kind: .wordSwap, start: 0),
                                                    DeviceFault(device: "h1/dev", kind: .scaleFactor(point: "W_SF", exponent: 1), start: 0)])
        defer { fleet.stop() }
        fleet.fleetStep(seconds: 600)
        let client = try ModbusClient(port: fleet.devices[0].port)
        let energy = fleet.devices[0].emulator.reading(.lifetimeEnergy) ?? 0
        let words = try client.read(.holdingRegisters, at: try address("sunspec-inverter", "WH"), count: 2)
        #expect(Double(UInt32(words[1]) << 16 | UInt32(words[0])) == energy.rounded(.down) || Double(UInt32(words[1]) << 16 | UInt32(words[0])) == energy.rounded(),
                "low word first: \(words) for \(energy)")
        let power = fleet.devices[0].emulator.reading(.acPower) ?? 0
        let w = try client.read(.holdingRegisters, at: try address("sunspec-inverter", "W"), count: 2)
        #expect(Int16(bitPattern: w[1]) == 1, "W_SF reads \(w[1])")
        #expect(abs(Double(Int16(bitPattern: w[0])) * 10 - power) <= 10, "W reads \(w[0]) (×10) for \(power) W")
    }

    @Test("A fault on one unit id: Alfen's unit 200 refuses with exception 4 while unit 1 of the same product answers")
    func perUnit() throws {
        let fleet = try faulty("alfen-ng9xx", [DeviceFault(device: "h1/dev", kind: .exception(.serverDeviceFailure), unit: 200, start: 0)])
        defer { fleet.stop() }
        #expect(fleet.devices[0].units.contains(200) && fleet.devices[0].units.contains(1))
        let port = fleet.devices[0].port
        let station = try ModbusClient(port: port, unit: 200), socket = try ModbusClient(port: port, unit: 1)
        do {
            _ = try station.read(.holdingRegisters, at: 100, count: 2)
            Issue.record("unit 200 answered")
        } catch {
            #expect(error.kind == .exception(.serverDeviceFailure), "\(error)")
        }
        #expect(throws: Never.self) { _ = try socket.read(.holdingRegisters, at: 300, count: 2) }
    }

    @Test("A fault on some addresses: a battery refuses StorCtl_Mod with exception 2 while W and MinRsvPct answer")
    func perAddress() throws {
        let storage = try address("sunspec-battery", "StorCtl_Mod"), power = try address("sunspec-battery", "W")
        let reserve = try address("sunspec-battery", "MinRsvPct")
        let fleet = try faulty("sunspec-battery", [DeviceFault(device: "h1/dev", kind: .exception(.illegalDataAddress), addresses: storage...storage, start: 0)])
        defer { fleet.stop() }
        let results = try pymodbus(fleet.devices[0].port, [
            ["op": "write1", "address": Int(storage), "values": [1]], ["op": "read", "address": Int(storage) - 1, "count": 2],
            ["op": "read", "address": Int(power)], ["op": "write1", "address": Int(reserve), "values": [10]],
        ])
        #expect(exception(results[0]) == 2 && exception(results[1]) == 2, "a request touching the address is refused: \(results)")
        #expect(exception(results[2]) == nil && exception(results[3]) == nil, "others are served: \(results)")
    }

    @Test("The same seed gives the same faults for the same requests; another seed, others")
    func seeded() throws {
        func pattern(seed: UInt64) throws -> [Bool] {
            let fleet = try faulty("sunspec-inverter", [DeviceFault(device: "h1/dev", kind: .exception(.serverDeviceBusy), start: 0, probability: 0.5)], seed: seed)
            defer { fleet.stop() }
            let client = try ModbusClient(port: fleet.devices[0].port)
            return (0..<40).map { _ in (try? client.read(.holdingRegisters, at: 40000, count: 1)) == nil }
        }
        let first = try pattern(seed: 7)
        #expect(try pattern(seed: 7) == first)
        #expect(try pattern(seed: 8) != first)
        #expect(first.contains(true) && first.contains(false))
    }
}

extension Fleet {
    /// Runs the physics `seconds` in 10-second steps.
    func fleetStep(seconds: Int) { for _ in 0..<(seconds / 10) { step(for: 10) } }
}
