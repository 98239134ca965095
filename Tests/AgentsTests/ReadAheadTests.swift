@testable import Agents
import Logging
import Market
import Modbus
import Physics
import Testing

/// A device that never answers: every request times out.
private struct Silent: ModbusHooks {
    func verdict(for request: ModbusRequest, at address: UnitAddress) -> ReplyVerdict { .noResponse }
}

/// A loop reads what its households will need ahead of their messages, in one batch (docs/MARKET.md, "Requests
/// together"): what was read ahead serves the wake-up's reads without asking the device again, until the
/// wake-up's writes go out; at the awards the followers reuse what the agent read for its bids at that instant.
@Suite("Reads ahead", .serialized, .timeLimit(.minutes(1)))
struct ReadAheadTests {
    private let server = ModbusServer(logger: Logger(label: "test"))
    private let batch = ModbusBatch()
    private let device: RecordingDevice
    private let port: UInt16

    init() throws {
        (device, port) = try RecordingDevice.serve(on: server)
    }

    /// A battery: power (W) at 0, state of charge (%) at 1, capacity (Wh), charge and discharge limits (W) and
    /// minimum state of charge (%) at 5...8, and its control mode and rates (%) at 10...12.
    private func battery(port: UInt16? = nil) -> DeviceDriver {
        func point(_ address: UInt16, _ type: RegisterType = .int16) -> RegisterPoint {
            RegisterPoint(unit: 1, table: .holdingRegisters, address: address, type: type)
        }
        let map = DeviceMap(host: "127.0.0.1", port: port ?? self.port,
                            readings: [.batteryPower: point(0), .stateOfCharge: point(1), .capacity: point(5), .maxChargePower: point(6),
                                       .maxDischargePower: point(7), .minimumSoC: point(8)],
                            settings: [.storageControlMode: point(10, .uint16), .chargeRatePercent: point(11), .dischargeRatePercent: point(12)])
        return DeviceDriver(DeviceSetup(id: DeviceID(house: "h1", name: "battery"), kind: .battery, profile: "test", map: map), batch: batch)
    }

    @Test("What was read ahead serves the wake-up's reads with no request of its own; once the writes went out, it is read again")
    func servesTheWakeUp() throws {
        defer { server.stop() }
        device.set([1500, 40], at: 0)
        let driver = battery()
        driver.readAhead([.batteryPower, .stateOfCharge], writing: false)
        #expect(device.takeReads().isEmpty, "planned, not sent")
        #expect(batch.send().isEmpty)
        #expect(device.takeReads() == ["0+2"], "one request for both points")
        device.set([UInt16(bitPattern: -800), 41], at: 0)
        let state = try driver.batteryState()
        #expect(state.power == 1.5 && state.stateOfCharge == 0.40)
        #expect(device.takeReads().isEmpty)
        batch.expireReads()
        let again = try driver.batteryState()
        #expect(again.power == -0.8 && again.stateOfCharge == 0.41)
        #expect(device.takeReads() == ["0+2"])
    }

    @Test("A read ahead asks only for what the wake-up's reads ahead have not read: the awards at the bids' instant read nothing")
    func asksOnlyWhatIsMissing() throws {
        defer { server.stop() }
        let map = DeviceMap(host: "127.0.0.1", port: port,
                            readings: [.batteryPower: RegisterPoint(unit: 1, table: .holdingRegisters, address: 0, type: .int16, scaleFactor: 1)],
                            settings: [.chargeRatePercent: RegisterPoint(unit: 1, table: .holdingRegisters, address: 10, type: .int16, scaleFactor: 19),
                                       // mapped (SunSpec 704 on a battery), never written by a battery's agent: its factor is not read
                                       .powerLimitPercent: RegisterPoint(unit: 1, table: .holdingRegisters, address: 11, type: .int16, scaleFactor: 18)])
        let driver = DeviceDriver(DeviceSetup(id: DeviceID(house: "h1", name: "battery"), kind: .battery, profile: "test", map: map), batch: batch)
        driver.readAhead([.batteryPower], writing: true)
        #expect(batch.send().isEmpty)
        #expect(device.takeReads() == ["0+2", "19+1"], "the reading with its factor, and the factor of the setting it writes")
        driver.readAhead([], writing: true)
        driver.readAhead([.batteryPower], writing: false)
        #expect(batch.send().isEmpty)
        #expect(device.takeReads().isEmpty, "both were read ahead already")
        batch.expireReads()
        driver.readAhead([], writing: true)
        #expect(batch.send().isEmpty)
        #expect(device.takeReads() == ["19+1"], "once the writes went out, the factor is read again")
    }

    @Test("Points of one block the device serves whole are read in one request, however far apart; points of two are not",
          arguments: [([], ["0+1", "18+1"]), ([ReadableBlock(unit: 1, table: .holdingRegisters, start: 0, end: 20)], ["0+19"]),
                      ([ReadableBlock(unit: 1, table: .holdingRegisters, start: 0, end: 10), ReadableBlock(unit: 1, table: .holdingRegisters, start: 10, end: 20)],
                       ["0+1", "18+1"]),
                      ([ReadableBlock(unit: 2, table: .holdingRegisters, start: 0, end: 20)], ["0+1", "18+1"])])
    func blocksReadWhole(blocks: [ReadableBlock], reads: [String]) throws {
        defer { server.stop() }
        device.set([1500], at: 0)
        device.set([40], at: 18)
        func point(_ address: UInt16) -> RegisterPoint { RegisterPoint(unit: 1, table: .holdingRegisters, address: address, type: .int16) }
        let map = DeviceMap(host: "127.0.0.1", port: port, readings: [.batteryPower: point(0), .stateOfCharge: point(18)], blocks: blocks)
        let driver = DeviceDriver(DeviceSetup(id: DeviceID(house: "h1", name: "battery"), kind: .battery, profile: "test", map: map), batch: batch)
        driver.readAhead(DeviceDriver.batteryStatus, writing: false)
        #expect(batch.send().isEmpty)
        #expect(device.takeReads() == reads, "17 registers apart: read together only within one block")
        let state = try driver.batteryState()
        #expect(state.power == 1.5 && state.stateOfCharge == 0.40)
        #expect(device.takeReads().isEmpty)
    }

    @Test("Points of two blocks are read apart even within 16 registers: the device refuses a read that leaves its block")
    func nearPointsOfTwoBlocks() throws {
        defer { server.stop() }
        func point(_ address: UInt16) -> RegisterPoint { RegisterPoint(unit: 1, table: .holdingRegisters, address: address, type: .int16) }
        let map = DeviceMap(host: "127.0.0.1", port: port, readings: [.batteryPower: point(0), .stateOfCharge: point(4)],
                            blocks: [ReadableBlock(unit: 1, table: .holdingRegisters, start: 0, end: 2),
                                     ReadableBlock(unit: 1, table: .holdingRegisters, start: 4, end: 6)])
        let driver = DeviceDriver(DeviceSetup(id: DeviceID(house: "h1", name: "battery"), kind: .battery, profile: "test", map: map), batch: batch)
        driver.readAhead(DeviceDriver.batteryStatus, writing: false)
        #expect(batch.send().isEmpty)
        #expect(device.takeReads() == ["0+1", "4+1"], "4 registers apart, in two blocks")
    }

    @Test("A charger that counts its session's energy is not asked for its lifetime counter", arguments: [true, false])
    func sessionCounterStandsIn(mapsSession: Bool) throws {
        defer { server.stop() }
        device.set([1, 0, 2500], at: 0)
        device.set([0, 9000], at: 18)
        func point(_ address: UInt16, _ type: RegisterType) -> RegisterPoint { RegisterPoint(unit: 1, table: .holdingRegisters, address: address, type: type) }
        var readings: [Quantity: RegisterPoint] = [.pilotState: point(0, .uint16), .totalEnergy: point(18, .uint32)]
        if mapsSession { readings[.sessionEnergy] = point(1, .uint32) }
        let map = DeviceMap(host: "127.0.0.1", port: port, readings: readings)
        let driver = DeviceDriver(DeviceSetup(id: DeviceID(house: "h1", name: "ev"), kind: .evCharger, profile: "test", map: map), batch: batch)
        #expect(driver.readings.contains(.totalEnergy) == !mapsSession)
        driver.readAhead(driver.evStatus, writing: false)
        #expect(batch.send().isEmpty)
        #expect(device.takeReads() == (mapsSession ? ["0+3"] : ["0+1", "18+2"]))
        let status = try driver.ev(at: 43_200)
        #expect(status.delivered == (mapsSession ? 2.5 : 0), "the session's 2.5 kWh, or none yet since the plug-in")
        #expect(device.takeReads().isEmpty)
    }

    @Test("A device silent to the read ahead fails the wake-up's reads at once: one timeout, not one per read")
    func silentDevice() throws {
        defer { server.stop() }
        let silent = ModbusServer(logger: Logger(label: "test"))
        defer { silent.stop() }
        let silentPort = try RecordingDevice.serve(on: silent, hooks: Silent()).port
        let driver = battery(port: silentPort)
        driver.readAhead(DeviceSetup.Kind.battery.readings, writing: false)
        #expect(batch.send().isEmpty)
        let began = ContinuousClock.now
        #expect(throws: DeviceLinkError.self) { try driver.battery() }
        #expect(throws: DeviceLinkError.self) { try driver.batteryState() }
        #expect(ContinuousClock.now - began < .milliseconds(500), "the reads waited for the device again")
    }

    @Test("At the awards a follower reuses the reading of that instant: the battery is read for the bids, then only written")
    func followerReusesTheInstant() throws {
        defer { server.stop() }
        device.set([0, 50, 0, 0, 0, 10_000, 5000, 5000, 5], at: 0)
        let driver = battery(), follower = BatteryFollower(driver: driver, mutation: nil)
        let (reading, power) = try driver.battery()
        follower.observe(reading, power: power, at: 43_200)
        _ = device.takeReads()
        follower.begin(award: -2, at: 43_200, end: 43_500, islanded: false)
        follower.readAhead(at: 43_200)
        _ = follower.follow(at: 43_200, .awards)
        #expect(batch.send().isEmpty)
        #expect(device.takeReads().isEmpty, "read again at the instant of the bids")
        #expect(device.takeWrites() == ["10=3", "11=\(UInt16(bitPattern: -40))", "12=40"], "2 kW sold of 5 kW: discharge at 40 %")
        batch.expireReads()
        // A minute on, the battery is read again (ahead, in the batch) before it is set.
        follower.readAhead(at: 43_260)
        #expect(batch.send().isEmpty)
        #expect(device.takeReads() == ["0+2"])
        _ = follower.follow(at: 43_260, .controlStep)
        #expect(device.takeReads().isEmpty)
    }
}
