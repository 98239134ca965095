import Emulators
@testable import Files
import Foundation
import Logging
import Modbus
import Physics
@testable import RigFiles
@testable import Rigs
import TestSupport
import Testing

/// A one-inverter rig whose inverter replays `replay` (written next to the rig as `name`).
private func replayRig(_ name: String, _ content: String, key: String) throws -> Rig {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("replay-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    try content.write(to: folder.appendingPathComponent(name), atomically: true, encoding: .utf8)
    let rig = """
        name: replay
        start: "12:00"
        houses:
          - name: h1
            devices:
              - {name: pv, profile: sunspec-inverter, port: 0, replay: {\(key): \(name)}}
        """
    try rig.write(to: folder.appendingPathComponent("rig.yaml"), atomically: true, encoding: .utf8)
    return try RigLoader.load(file: folder.appendingPathComponent("rig.yaml").path, profiles: "\(repository)/Profiles", firstPort: 0)
}

private func serve(_ rig: Rig) throws -> Fleet {
    try Fleet(rig.devices, weather: rig.weather, baseLoads: rig.baseLoads, startTime: rig.start ?? 0, logger: Logger(label: "test"))
}

@Suite("Field replay, as a client meets it", .serialized, .timeLimit(.minutes(2)))
struct ReplayPeerTests {
    @Test("A recorded CSV trace: pymodbus reads the recorded W and Hz at the recorded times of the simulated clock, and the physics runs on")
    func measurements() throws {
        let fleet = try serve(replayRig("pv.csv", """
            time,W,frequency
            12:00,1000,50.02
            12:05:00,3200,
            43800,500,49.9
            """, key: "measurements"))
        defer { fleet.stop() }
        let port = fleet.devices[0].port
        let power = try profile("sunspec-inverter").blocks.flatMap(\.points).first { $0.name == "W" }!.address
        let hz = try profile("sunspec-inverter").blocks.flatMap(\.points).first { $0.name == "Hz" }!.address
        func read() throws -> (Int, Int) {
            let results = try pymodbus(port, [["op": "read", "address": Int(power)], ["op": "read", "address": Int(hz)]])
            return (int16(registers(results[0]).first ?? -1), registers(results[1]).first ?? -1)
        }
        fleet.fleetStep(seconds: 10)
        #expect(try read() == (1000, 5002))
        fleet.fleetStep(seconds: 290)  // 12:05
        #expect(try read() == (3200, 5002), "W follows its new sample; Hz holds its last one (the cell is empty)")
        fleet.fleetStep(seconds: 300)  // 12:10
        #expect(try read() == (500, 4990))
        #expect((fleet.devices[0].emulator.reading(.acPower) ?? 0) > 2000, "the physics behind the replay still runs in the midday sun")
    }

    @Test("A recorded Modbus log: the emulator answers the recorded requests as the device did then, and the rest from its own map")
    func traffic() throws {
        let fleet = try serve(replayRig("evcc.log", """
            [pv] TRACE 2026/06/01 12:00:00 modbus: send 00 01 00 00 00 06 01 03 9c 94 00 01
            [pv] TRACE 2026/06/01 12:00:00 modbus: recv 00 01 00 00 00 05 01 03 02 0b b8
            [pv] TRACE 2026/06/01 12:10:00 modbus: send 00 02 00 00 00 06 01 03 9c 94 00 01
            [pv] TRACE 2026/06/01 12:10:00 modbus: recv 00 02 00 00 00 05 01 03 02 0f a0
            [pv] TRACE 2026/06/01 12:10:00 modbus: send 00 03 00 00 00 09 01 10 9d 08 00 01 02 00 32
            [pv] TRACE 2026/06/01 12:10:00 modbus: recv 00 03 00 00 00 03 01 90 04
            """, key: "modbus"))
        defer { fleet.stop() }
        let port = fleet.devices[0].port
        let early = try pymodbus(port, [["op": "read", "address": 40084], ["op": "read", "address": 40000, "count": 2]])
        #expect(registers(early[0]) == [3000])
        #expect(registers(early[1]) == [0x5375, 0x6E53], "an unrecorded request is answered from the profile (\"SunS\")")
        fleet.fleetStep(seconds: 600)
        let later = try pymodbus(port, [["op": "read", "address": 40084], ["op": "write", "address": 40200, "values": [50]]])
        #expect(registers(later[0]) == [4000])
        #expect(exception(later[1]) == 4, "the recorded exception 4 to the write: \(later)")
        #expect(fleet.writeLog.all.last?.record.exception == .serverDeviceFailure)
    }

    @Test("Bad replay files name the file, line and column", arguments: [
        ("pv.csv", "time,Watts\n12:00,1", "measurements", "\"Watts\" is neither a measured point of sunspec-inverter"),
        ("pv.csv", "time,W\n12:00,lots", "measurements", "pv.csv:2:7"),
        ("pv.csv", "time,W\n12:05,1\n12:00,2", "measurements", "time: expected a time after 12:05 (the line before), found 12:00"),
        ("evcc.log", "12:00:00 send 00 01 zz", "modbus", "evcc.log:1:1"),
    ])
    func badReplay(name: String, content: String, key: String, message: String) throws {
        do {
            _ = try replayRig(name, content, key: key)
            Issue.record("loaded a bad replay")
        } catch let error as FileError {
            #expect(error.description.contains(message), "\(error)")
        }
    }
}
