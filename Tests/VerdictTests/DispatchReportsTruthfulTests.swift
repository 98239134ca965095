import Emulators
import Messages
@testable import Modbus
import Physics
@testable import Rigs
import Testing
@testable import Verdict

@Suite("dispatch-reports-truthful: a battery's power and a PV limit as reported against what the writes pin")
struct DispatchReportsTruthfulTests {
    /// h1 awarded in interval 1, then one accepted write of `controls` to `device` and a report of `name` = `value`;
    /// `before` was written to the device before the awards, as the state the report's writes leave in place.
    func judge(_ device: String, _ name: SetpointName, reported value: Double, written controls: Settings, before: Settings = [:]) throws -> AssertionResult {
        var run = try RunFixture(intervals: 1, assertions: [AssertionSpec(.dispatchReportsTruthful)])
        run.clear(1, quantity: 1, awards: ["h1": []])
        let request = ModbusRequest.write(.holdingRegisters, address: 0, values: [1], isSingle: true)
        if !before.isEmpty {
            run.writes.append(LoggedWrite(device: device, simulatedTime: 0,
                                          record: WriteRecord(unixTime: 0.5, address: UnitAddress(port: 1502, unit: 1), request: request, exception: nil),
                                          controls: before))
        }
        run.writes.append(LoggedWrite(device: device, simulatedTime: 1,
                                      record: WriteRecord(unixTime: 1.3, address: UnitAddress(port: 1502, unit: 1), request: request, exception: nil),
                                      controls: controls))
        var house = MessageWriter(sender: "h1")
        run.messages.append((house.message(DispatchReport(house: "h1", awardsReceivedAt: 1.25, setpoints: [
            .init(id: try DeviceID(parsing: device), name: name, value: value, landedAt: 1.31)]), interval: 1), 1.5))
        return try #require(try run.result(.dispatchReportsTruthful))
    }

    @Test("A battery's power: 40 % rates on mode 3 pin 2 kW of its 5 kW; a report of 2 kW is true, of 20 kW false", arguments: [(2.0, true), (20.0, false)])
    func batteryPower(reported: Double, truthful: Bool) throws {
        let result = try judge("h1/battery", .power, reported: reported,
                               written: [.storageControlMode: 3, .chargeRatePercent: -40, .dischargeRatePercent: 40])
        #expect(result.passed == truthful, "\(result.detail)")
        if !truthful { #expect(result.detail == "interval 1: h1/battery power: reported 20.0, the device was written 2.0") }
    }

    @Test("A battery's power through 704's fixed W: -1.5 kW written, -1.5 reported is true")
    func batteryFixedPower() throws {
        #expect(try judge("h1/battery", .power, reported: -1.5, written: [.fixedPowerEnabled: 1, .fixedPowerMode: 1, .fixedPower: -1500]).passed)
        #expect(try !judge("h1/battery", .power, reported: 1.5, written: [.fixedPowerEnabled: 1, .fixedPowerMode: 1, .fixedPower: -1500]).passed)
    }

    @Test("A PV limit: 25 % of the 12 kW inverter is 3 kW; a limit reported over an unlimited inverter is false", arguments: [
        (3.0, [Control.powerLimitPercent: 25, .powerLimitEnabled: 1], true), (12.0, [.powerLimitPercent: 25, .powerLimitEnabled: 1], false),
        (3.0, [.powerLimitEnabled: 0], false),
    ])
    func solarLimit(reported: Double, written: Settings, truthful: Bool) throws {
        let result = try judge("h1/pv", .powerLimit, reported: reported, written: written)
        #expect(result.passed == truthful, "\(result.detail)")
    }

    @Test("A report's writes are read on the device's whole written state: the enable alone, on a percent written before, pins that percent")
    func earlierState() throws {
        #expect(try judge("h1/pv", .powerLimit, reported: 3, written: [.powerLimitEnabled: 1], before: [.powerLimitPercent: 25]).passed)
        let stale = try judge("h1/pv", .powerLimit, reported: 12, written: [.powerLimitEnabled: 1], before: [.powerLimitPercent: 25])
        #expect(!stale.passed && stale.detail == "interval 1: h1/pv power-limit: reported 12.0, the device was written 3.0", "\(stale.detail)")
    }

    @Test("Writes that leave the mode or the enable unwritten pin nothing, and are not compared")
    func notPinned() throws {
        #expect(try judge("h1/battery", .power, reported: 9, written: [.dischargeRatePercent: 40]).passed)
        #expect(try judge("h1/pv", .powerLimit, reported: 9, written: [.powerLimitPercent: 40]).passed)
    }
}
