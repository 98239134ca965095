import Emulators
import Modbus
import Physics
import Testing

/// An Alfen-like charger map, built in code: current limit (float32 RW), applied current, watchdog countdown.
func chargerProfile(latency: Double = 1) -> DeviceProfile {
    DeviceProfile(
        name: "test-charger", kind: .evCharger, product: "test", latency: latency,
        watchdog: Watchdog(timeout: 60, rearmedBy: [.maxCurrent], fallback: [.maxCurrent: 6]),
        exceptions: ExceptionPolicy(readOnly: .serverDeviceFailure),
        blocks: [PointBlock(unit: 1, table: .holdingRegisters, start: 1206, points: [
            Point(name: "Applied", address: 1206, type: .float32, binding: .quantity(.appliedCurrent)),
            Point(name: "ValidTime", address: 1208, type: .uint32, binding: .quantity(.watchdogRemaining)),
            Point(name: "MaxCurrent", address: 1210, type: .float32, binding: .control(.maxCurrent, initial: 16), range: 0...80),
            Point(name: "Phases", address: 1215, type: .uint16, binding: .control(.phases, initial: 3), allowed: [1, 3]),
        ])])
}

let site = SiteConditions(weather: Weather(irradiance: 0, outdoorTemperature: 10))

func write(_ emulator: DeviceEmulator, _ values: [UInt16], at address: UInt16) -> ModbusException? {
    emulator.respond(to: .write(.holdingRegisters, address: address, values: values, isSingle: values.count == 1), unit: 1).exception
}

func readFloat(_ emulator: DeviceEmulator, at address: UInt16) -> Double? {
    guard case .values(_, let words) = emulator.respond(to: .read(.holdingRegisters, address: address, count: 2), unit: 1) else { return nil }
    return RegisterType.float32.decode(words)
}

@Suite("Device emulator")
struct DeviceEmulatorTests {
    @Test("Controls are told apart by case, as their names tell them apart: every case equal only to itself, and a key of its own")
    func controlIdentity() {
        let all = Control.allCases
        #expect(Set(all).count == all.count)
        for control in all { #expect(Control(rawValue: control.rawValue) == control) }
        #expect(all.filter { $0 == .powerLimitPercent } == [.powerLimitPercent])
        let settings = Dictionary(uniqueKeysWithValues: all.enumerated().map { ($1, Double($0)) })
        #expect(all.enumerated().allSatisfy { settings[$1] == Double($0) })
    }

    @Test("A fixed-timeout watchdog starts expired: the fallback is in force until the first write")
    func startsAtFallback() throws {
        let emulator = try DeviceEmulator(name: "ev", profile: chargerProfile())
        emulator.step(for: 1, site: site)
        #expect(readFloat(emulator, at: 1206) == 6)
        #expect(emulator.requested(.maxCurrent) == 16)
    }

    @Test("A write reads back at once, reaches the physics after the latency, and re-arms the watchdog")
    func latencyAndWatchdog() throws {
        let emulator = try DeviceEmulator(name: "ev", profile: chargerProfile(latency: 2))
        #expect(write(emulator, RegisterType.float32.encode(10), at: 1210) == nil)
        #expect(readFloat(emulator, at: 1210) == 10)
        #expect(emulator.applied(.maxCurrent) == 6)
        emulator.step(for: 1, site: site)
        #expect(emulator.applied(.maxCurrent) == 6)
        emulator.step(for: 1, site: site)
        emulator.step(for: 1, site: site)
        #expect(emulator.applied(.maxCurrent) == 10)
        for _ in 0..<56 { emulator.step(for: 1, site: site) }
        #expect(emulator.reading(.watchdogRemaining)! > 0)
        for _ in 0..<5 { emulator.step(for: 1, site: site) }
        #expect(emulator.applied(.maxCurrent) == 6)
        #expect(emulator.reading(.watchdogRemaining) == 0)
    }

    @Test("Refused writes change nothing: read-only, partial, out of range, not allowed")
    func refusals() throws {
        let emulator = try DeviceEmulator(name: "ev", profile: chargerProfile(latency: 0))
        #expect(write(emulator, [1, 2], at: 1206) == .serverDeviceFailure)
        #expect(write(emulator, [0x4120], at: 1210) == .illegalDataValue)
        #expect(write(emulator, RegisterType.float32.encode(100), at: 1210) == .illegalDataValue)
        #expect(write(emulator, [2], at: 1215) == .illegalDataValue)
        #expect(write(emulator, [0], at: 1300) == .illegalDataAddress)
        #expect(emulator.requested(.maxCurrent) == 16)
        #expect(emulator.requested(.phases) == 3)
    }

    @Test("A write spanning a control and a read-only point is refused whole")
    func allOrNothing() throws {
        let emulator = try DeviceEmulator(name: "ev", profile: chargerProfile(latency: 0))
        let words = RegisterType.float32.encode(12) + [0, 0]
        #expect(write(emulator, words, at: 1210) == .serverDeviceFailure)
        #expect(emulator.requested(.maxCurrent) == 16)
    }

    @Test("The same seed gives the same meter readings")
    func determinism() throws {
        let meter = DeviceProfile(name: "m", kind: .meter, product: "test", blocks: [PointBlock(unit: 1, table: .holdingRegisters, start: 0, points: [
            Point(name: "V", address: 0, type: .float32, binding: .quantity(.acVoltage))])])
        func run(_ seed: UInt64) throws -> [Double] {
            let emulator = try DeviceEmulator(name: "m", profile: meter, parameters: .init(seed: seed))
            return (0..<50).map { _ in emulator.step(for: 1, site: SiteConditions(weather: site.weather, houseLoad: 2000)); return readFloat(emulator, at: 0)! }
        }
        #expect(try run(9) == run(9))
        #expect(try run(9) != run(10))
    }
}
