@testable import Agents
import Logging
import Market
import Messages
import Modbus
import Physics
import Synchronization
import Testing

/// A device's registers behind a real Modbus TCP server, with every write and read asked of it on record.
final class RecordingDevice: ModbusUnit {
    private let bank: Mutex<RegisterBank>
    private let log = Mutex<[(address: UInt16, values: [UInt16])]>([])
    private let reads = Mutex<[String]>([])

    init() throws {
        bank = Mutex(try RegisterBank(blocks: [RegisterBlock(table: .holdingRegisters, start: 0, values: Array(repeating: 0, count: 20))]))
    }

    func respond(to request: ModbusRequest, unit: UInt8) -> ModbusResponse {
        switch request {
        case .write(_, let address, let values, _): log.withLock { $0.append((address, values)) }
        case .read(_, let address, let count): reads.withLock { $0.append("\(address)+\(count)") }
        }
        return bank.withLock { $0.respond(to: request) }
    }

    /// The writes so far, as "address=values", emptied.
    func takeWrites() -> [String] {
        log.withLock { log in
            defer { log = [] }
            return log.map { "\($0.address)=\($0.values.map(String.init).joined(separator: ","))" }
        }
    }

    /// The reads so far, as "address+count", emptied.
    func takeReads() -> [String] {
        reads.withLock { reads in
            defer { reads = [] }
            return reads
        }
    }

    /// A new device served as unit 1 on a free port of `server`, started: the device and its port.
    static func serve(on server: ModbusServer, hooks: any ModbusHooks = NoHooks()) throws -> (device: RecordingDevice, port: UInt16) {
        let device = try RecordingDevice()
        let port = try server.listen(port: 0, options: .init())
        server.serve(device, at: UnitAddress(port: port, unit: 1), hooks: hooks)
        server.start()
        return (device, port)
    }

    func set(_ values: [UInt16], at address: UInt16) { bank.withLock { _ = $0.store(values, in: .holdingRegisters, at: address) } }
}

/// What the reference agent writes to a device (docs/MARKET.md, "Following the awards through the interval"): a
/// write goes out when it would change the registers the last write on the connection left; the setpoint always at
/// the awards (the dispatch report claims it) and at every step to a product with a watchdog (its heartbeat).
@Suite("The reference agent's writes", .serialized, .timeLimit(.minutes(1)))
struct DeviceWritesTests {
    private let server = ModbusServer(logger: Logger(label: "test"))
    private let writes = ModbusBatch()
    private let device: RecordingDevice
    private let port: UInt16

    init() throws {
        (device, port) = try RecordingDevice.serve(on: server)
    }

    /// A thermostat's on/off, mode and cooling setpoint (°C × 10), its room temperature, and a battery's discharge
    /// rate (% with a SunSpec scale factor at register 10).
    private func driver(kind: DeviceSetup.Kind, watchdog: Double? = nil, port: UInt16? = nil) -> DeviceDriver {
        let settings: [Control: RegisterPoint] = [
            .power: RegisterPoint(unit: 1, table: .holdingRegisters, address: 0, type: .uint16),
            .mode: RegisterPoint(unit: 1, table: .holdingRegisters, address: 1, type: .uint16),
            .coolSetpoint: RegisterPoint(unit: 1, table: .holdingRegisters, address: 4, type: .int16, scale: 0.1),
            .dischargeRatePercent: RegisterPoint(unit: 1, table: .holdingRegisters, address: 9, type: .int16, scaleFactor: 10),
        ]
        let room = RegisterPoint(unit: 1, table: .holdingRegisters, address: 2, type: .int16, scale: 0.1)
        let map = DeviceMap(host: "127.0.0.1", port: port ?? self.port, readings: [.roomTemperature: room], settings: settings)
        return DeviceDriver(DeviceSetup(id: DeviceID(house: "h1", name: "device"), kind: kind, profile: "test", map: map, watchdogTimeout: watchdog),
                           batch: writes)
    }

    @Test("A thermostat's setpoint: written at the awards, again at a step only when it changes (to the register's 0.1 °C); on/off and mode once")
    func thermostat() throws {
        defer { server.stop() }
        let thermostat = driver(kind: .thermostat)
        _ = thermostat.apply(ThermostatDispatch(season: .cooling, setpoint: 22), at: .awards)
        _ = writes.send()
        #expect(device.takeWrites() == ["0=1", "1=4", "4=220"])
        _ = thermostat.apply(ThermostatDispatch(season: .cooling, setpoint: 22.000_01), at: .controlStep)
        _ = writes.send()
        #expect(device.takeWrites().isEmpty, "the same register value was written again")
        _ = thermostat.apply(ThermostatDispatch(season: .cooling, setpoint: 26), at: .controlStep)
        _ = writes.send()
        #expect(device.takeWrites() == ["4=260"])
        _ = thermostat.apply(ThermostatDispatch(season: .cooling, setpoint: 26), at: .awards)
        _ = writes.send()
        #expect(device.takeWrites() == ["4=260"], "the awards' setpoint is claimed in the dispatch report: it goes out")
    }

    @Test("A product with a watchdog gets its setpoint at every step, unchanged or not: the heartbeat")
    func heartbeat() throws {
        defer { server.stop() }
        let thermostat = driver(kind: .thermostat, watchdog: 60)
        _ = thermostat.apply(ThermostatDispatch(season: .cooling, setpoint: 22), at: .awards)
        _ = writes.send()
        _ = device.takeWrites()
        _ = thermostat.apply(ThermostatDispatch(season: .cooling, setpoint: 22), at: .controlStep)
        _ = writes.send()
        #expect(device.takeWrites() == ["4=220"])
    }

    @Test("A scale-factor point is compared at the scale it was written with: 15.92 % and 15.920000001 % are one register value")
    func scaleFactor() throws {
        defer { server.stop() }
        device.set([UInt16(bitPattern: -2)], at: 10)
        let battery = driver(kind: .battery)
        _ = battery.apply(.power, 1, writes: [(.dischargeRatePercent, 15.92)], at: .awards)
        _ = writes.send()
        #expect(device.takeWrites() == ["9=1592"])
        _ = battery.apply(.power, 1, writes: [(.dischargeRatePercent, 15.920_000_001)], at: .controlStep)
        _ = writes.send()
        #expect(device.takeWrites().isEmpty)
        _ = battery.apply(.power, 1, writes: [(.dischargeRatePercent, 15.93)], at: .controlStep)
        _ = writes.send()
        #expect(device.takeWrites() == ["9=1593"])
    }

    @Test("A setpoint's writes wait for the loop's batch: nothing reaches the device before it is sent, and the setpoint lands when every write is answered")
    func batched() throws {
        defer { server.stop() }
        let thermostat = driver(kind: .thermostat)
        let outcome = thermostat.apply(ThermostatDispatch(season: .cooling, setpoint: 22), at: .awards)
        var landed = false
        outcome.whenLanded { landed = true }
        #expect(device.takeWrites().isEmpty)
        #expect(outcome.landedAt == nil && !landed)
        #expect(writes.send().isEmpty)
        #expect(device.takeWrites() == ["0=1", "1=4", "4=220"])
        #expect(outcome.landedAt != nil && outcome.error == nil && landed)
        // Nothing to write (a step, the registers already hold it): landed at once, with no batch to wait for.
        #expect(thermostat.apply(ThermostatDispatch(season: .cooling, setpoint: 22), at: .controlStep).landedAt != nil)
    }

    @Test("A write the device refuses (an exception) fails its setpoint, naming the point and the device's answer; the other writes of the batch land")
    func refusedWrite() throws {
        defer { server.stop() }
        let thermostat = driver(kind: .thermostat)
        // Register 30 lies outside the device's registers: a write there is refused with an exception.
        let outside = RegisterPoint(unit: 1, table: .holdingRegisters, address: 30, type: .uint16)
        let map = DeviceMap(host: "127.0.0.1", port: port, settings: [.power: outside])
        let refused = DeviceDriver(DeviceSetup(id: DeviceID(house: "h2", name: "device"), kind: .thermostat, profile: "test", map: map), batch: writes)
        let failing = refused.apply(.power, 1, writes: [(.power, 1)], at: .awards)
        let landing = thermostat.apply(ThermostatDispatch(season: .cooling, setpoint: 22), at: .awards)
        #expect(writes.send().isEmpty)
        #expect(failing.landedAt == nil)
        #expect(failing.error?.hasPrefix("h2/device: write power = 1.0") == true, "\(failing.error ?? "no error")")
        #expect(landing.landedAt != nil && landing.error == nil)
        // The device records what it was asked, refused or not; the two connections' requests interleave.
        #expect(Set(device.takeWrites()) == ["0=1", "1=4", "4=220", "30=1"])
    }

    @Test("A setpoint lands when its own device answers, not when the slowest device of the batch does")
    func landsOnItsOwnAnswer() throws {
        defer { server.stop() }
        struct Slow: ModbusHooks {
            func verdict(for request: ModbusRequest, at address: UnitAddress) -> ReplyVerdict { .delay(.milliseconds(600)) }
        }
        let slow = ModbusServer(logger: Logger(label: "test"))
        defer { slow.stop() }
        let slowPort = try RecordingDevice.serve(on: slow, hooks: Slow()).port
        let late = driver(kind: .thermostat, port: slowPort).apply(.power, 1, writes: [(.power, 1)], at: .awards)
        let quick = driver(kind: .thermostat).apply(.power, 1, writes: [(.power, 1)], at: .awards)
        #expect(writes.send().isEmpty)
        let lateAt = try #require(late.landedAt), quickAt = try #require(quick.landedAt)
        #expect(lateAt - quickAt > 0.4, "the quick device's write was timed by the slow one's answer")
    }

    @Test("A new connection forgets what was written: the device may have restarted, so on/off and mode go out again")
    func newConnection() throws {
        let thermostat = driver(kind: .thermostat)
        _ = thermostat.apply(ThermostatDispatch(season: .cooling, setpoint: 22), at: .awards)
        _ = writes.send()
        _ = device.takeWrites()
        server.stop()
        let restarted = ModbusServer(logger: Logger(label: "test"))
        defer { restarted.stop() }
        _ = try restarted.listen(port: port, options: .init())
        restarted.serve(device, at: UnitAddress(port: port, unit: 1))
        restarted.start()
        // The agent learns of the drop at its next request (a follower reads before it writes): that read fails, the
        // next one opens a new connection.
        #expect(throws: DeviceLinkError.self) { try thermostat.connection.read(.roomTemperature) }
        #expect(try thermostat.connection.read(.roomTemperature) == 0)
        _ = thermostat.apply(ThermostatDispatch(season: .cooling, setpoint: 22), at: .controlStep)
        _ = writes.send()
        #expect(device.takeWrites() == ["0=1", "1=4", "4=220"])
    }
}
