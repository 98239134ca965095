@testable import Emulators
@testable import Files
import Modbus
import Testing

@Suite("Field replay: Modbus traffic logs")
struct ModbusLogTests {
    @Test("evcc trace lines, TCP and RTU: requests paired with their answers, at the time of day the log gives")
    func parsesEvccTraces() throws {
        let trace = try ModbusLog.parse(path: "log", """
            [lp-1  ] DEBUG 2024/07/29 11:25:24 charger status: C
            [pv    ] TRACE 2024/07/29 11:25:25 modbus: send 00 01 00 00 00 06 01 03 9c 94 00 01
            [pv    ] TRACE 2024/07/29 11:25:25 modbus: send 00 02 00 00 00 09 01 10 9d 08 00 01 02 00 32
            [pv    ] TRACE 2024/07/29 11:25:25 modbus: recv 00 02 00 00 00 03 01 90 04
            [pv    ] TRACE 2024/07/29 11:25:25 modbus: recv 00 01 00 00 00 05 01 03 02 0b b8
            [delta ] TRACE 2024/07/29 11:25:55 modbus: send 01 03 06 40 00 02 c5 57
            [delta ] TRACE 2024/07/29 11:25:55 modbus: recv 01 03 04 00 00 10 9b b6 58
            [delta ] TRACE 2024/07/29 11:26:30 modbus: send 01 04 03 ed 00 02 e1 ba
            """)
        let read = ModbusRequest.read(.holdingRegisters, address: 40084, count: 1)
        let write = ModbusRequest.write(.holdingRegisters, address: 40200, values: [50], isSingle: false)
        let rtu = ModbusRequest.read(.holdingRegisters, address: 0x0640, count: 2)
        #expect(trace.exchanges.map(\.request) == [write, read, rtu], "answers pair by transaction id, and an unanswered request is left out")
        #expect(trace.exchanges.map(\.time) == [41125, 41125, 41155])
        #expect(trace.response(to: read, at: 50_000) == .values(function: 3, [3000]))
        #expect(trace.response(to: write, at: 50_000) == .exception(function: 16, .serverDeviceFailure))
        #expect(trace.response(to: rtu, at: 0) == .values(function: 3, [0, 0x109B]), "before its first record, the earliest answer")
        #expect(trace.response(to: .read(.inputRegisters, address: 1, count: 1), at: 50_000) == nil)
    }

    @Test("The answer in force is the latest recorded at or before the time of day", arguments: [(3600.0, 1), (7199.0, 1), (7200.0, 2), (86_400.0 + 7300, 2)])
    func answerByTime(time: Double, expected: UInt16) throws {
        let trace = try ModbusLog.parse(path: "log", """
            01:00:00 send 00 01 00 00 00 06 01 03 00 00 00 01
            01:00:00 recv 00 01 00 00 00 05 01 03 02 00 01
            02:00:00 send 00 02 00 00 00 06 01 03 00 00 00 01
            02:00:00 recv 00 02 00 00 00 05 01 03 02 00 02
            """)
        #expect(trace.response(to: .read(.holdingRegisters, address: 0, count: 1), at: time) == .values(function: 3, [expected]))
    }

    @Test("A trace that is not Modbus is refused with its line", arguments: [
        ("12:00:00 send 00 01 zz", 1, "expected hex bytes"),
        ("12:00:00 send 01 03 06 40 00 02 c5 58", 1, "its CRC is wrong"),
        ("12:00:00 send 00 01 00 00 00 06 01 03 9c 94 00 01\n12:00:00 recv 00 01 00 00 00 05 01 04 02 0b b8", 2, "does not fit the request at line 1"),
        ("x\n12:00:00 send 00 01 00 00 00 06 01 2b 0e 01 00 00", 2, "not a Modbus request this emulator serves"),
    ])
    func badTraces(text: String, line: Int, message: String) {
        do {
            _ = try ModbusLog.parse(path: "log", text)
            Issue.record("parsed a bad trace")
        } catch {
            #expect(error.line == line && error.message.contains(message), "\(error)")
        }
    }
}
