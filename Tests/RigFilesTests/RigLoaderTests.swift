import Emulators
import Files
import Foundation
import RigFiles
import Rigs
import TestSupport
import Testing

@Suite("Rig files")
struct RigLoaderTests {
    @Test("The default rig loads with its houses, devices and ports")
    func neighborhood() throws {
        let rig = try RigLoader.load(file: "\(repository)/Rigs/neighborhood.yaml", profiles: "\(repository)/Profiles")
        #expect(rig.devices.count == 9)
        #expect(rig.devices.first?.port == 1502)
        #expect(rig.baseLoads.count == 4)
        #expect(rig.devices.map(\.name).contains("h2/ev"))
    }

    /// The error loading `text` as a rig, if any.
    func loadError(rig text: String) -> FileError? {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("rig-\(UUID().uuidString).yaml").path
        _ = FileManager.default.createFile(atPath: path, contents: Data(text.utf8))
        defer { try? FileManager.default.removeItem(atPath: path) }
        do { _ = try RigLoader.load(file: path, profiles: "\(repository)/Profiles"); return nil } catch { return error }
    }

    @Test("A misspelt profile names the rig line and the profiles there are")
    func unknownProfile() throws {
        let error = try #require(loadError(rig: "houses:\n  - name: h1\n    devices:\n      - {profile: sunspec-invertr}\n"))
        #expect(error.line == 4)
        #expect(error.path == "houses[0].devices[0].profile")
        #expect(error.message.contains("expected a profile in"))
        #expect(error.message.contains("sunspec-inverter"))
    }

    /// Each would be read back as something else: a device id's or a topic's slash, GRIDRIG_HOUSEHOLDS' comma, a blank.
    @Test("A house name that is no house name is refused at its line", arguments: ["h/1", "h1,h2", "'h 1'"])
    func badHouseName(name: String) throws {
        let error = try #require(loadError(rig: "houses:\n  - name: \(name)\n    devices:\n      - {profile: sunspec-inverter}\n"))
        #expect(error.line == 2)
        #expect(error.path == "houses[0].name")
        #expect(error.message.hasPrefix("expected a house name (letters, digits, '-', '_' or '.'), found"))
    }

    @Test("The PCC's and the bus's other participants' names are no house's", arguments: ["pcc", "conductor", "market", "grid"])
    func reservedHouseName(name: String) throws {
        let error = try #require(loadError(rig: "houses:\n  - name: \(name)\n    devices:\n      - {profile: sunspec-inverter}\n"))
        #expect(error.line == 2)
        #expect(error.message == "'\(name)' is not a house's to take: conductor, grid, market, pcc name the PCC and the bus's other participants")
    }

    @Test("Two houses of one name are refused")
    func duplicateHouse() throws {
        let house = "  - name: h1\n    devices:\n      - {profile: sunspec-inverter}\n"
        let error = try #require(loadError(rig: "houses:\n" + house + house))
        #expect(error.line == 5)
        #expect(error.message == "duplicate house name 'h1'")
    }
}
