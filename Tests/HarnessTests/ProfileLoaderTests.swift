import Foundation
import Testing
import Emulators
@testable import Harness

/// The repository's root, found from this file.
let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

/// Writes `text` to a temporary profile file and loads it.
func loadProfile(_ text: String) throws(FileError) -> DeviceProfile {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("profile-\(UUID().uuidString).yaml").path
    _ = FileManager.default.createFile(atPath: path, contents: Data(text.utf8))
    defer { try? FileManager.default.removeItem(atPath: path) }
    return try ProfileLoader.load(file: path)
}

func loadError(_ text: String) -> FileError? {
    do { _ = try loadProfile(text); return nil } catch { return error }
}

let header = """
    kind: inverter
    product: test
    blocks:
      - table: holding-registers
        start: 0
        points:

    """

@Suite("Profile files")
struct ProfileLoaderTests {
    @Test("Every shipped profile loads", arguments: ["sunspec-inverter", "sunspec-battery", "sunspec-meter", "alfen-ng9xx", "phoenix-ev-eth", "intesis-thermostat"])
    func shippedProfilesLoad(name: String) throws {
        let profile = try ProfileLoader.load(file: "\(repository)/Profiles/\(name).yaml")
        #expect(profile.name == name)
        #expect(!profile.blocks.isEmpty)
    }

    @Test("Bad YAML names the file, line and column")
    func badYAML() throws {
        let error = try #require(loadError("kind: inverter\nproduct: [unclosed\n"))
        #expect(error.file.hasSuffix(".yaml"))
        #expect(error.line >= 2)
        #expect(error.message.contains("not valid YAML"))
    }

    @Test("An unknown key names the key and lists the allowed ones")
    func unknownKey() throws {
        let error = try #require(loadError(header + "      - {name: W, type: int16, quantty: ac-power}\n"))
        #expect(error.path == "blocks[0].points[0].quantty")
        #expect(error.line == 7)
        #expect(error.message.contains("unknown key; expected one of"))
    }

    @Test("A missing field is named")
    func missingField() throws {
        let error = try #require(loadError("kind: inverter\nblocks: []\n"))
        #expect(error.description.contains("missing key 'product'"))
    }

    @Test("Overlapping registers name the point they fall inside")
    func overlap() throws {
        let error = try #require(loadError(header + "      - {name: WH, type: uint32, value: 1}\n      - {name: W, address: 1, type: int16, value: 2}\n"))
        #expect(error.path == "blocks[0].points[1].address")
        #expect(error.message.contains("expected a free address at or after 2, found \"1\" (inside 'WH' at 0)"))
    }

    @Test("A wrong type says what was expected and what was found")
    func wrongType() throws {
        let error = try #require(loadError(header + "      - {name: W, type: int17, value: 1}\n"))
        #expect(error.path == "blocks[0].points[0].type")
        #expect(error.message.contains("expected a type: string, "))
        #expect(error.message.contains("found \"int17\""))
        let kind = try #require(loadError("kind: toaster\nproduct: x\nblocks: []\n"))
        #expect(kind.message == "expected one of inverter, battery, meter, thermostat, ev-charger, found \"toaster\"")
    }

    @Test("A control that the kind does not have is refused")
    func foreignControl() throws {
        let error = try #require(loadError(header + "      - {name: A, type: float32, control: max-current}\n"))
        #expect(error.message.contains("expected a control of a inverter"))
    }

    @Test("A SunSpec model whose points do not add up to its length is refused")
    func modelLength() throws {
        let error = try #require(loadError(header + "      - {model: 1, length: 3}\n      - {name: Mn, type: string, size: 2, value: x}\n"))
        #expect(error.message == "model 1 declares length 3 but its points take 2 registers")
    }

    @Test("An unknown scale factor name lists the known ones")
    func unknownScaleFactor() throws {
        let error = try #require(loadError(header + "      - {name: W, type: int16, quantity: ac-power, sf: W_SF}\n      - {name: X_SF, type: sunssf, value: 0}\n"))
        #expect(error.message.contains("the name of a sunssf point in this model (X_SF)"))
    }
}

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

    @Test("A misspelt profile names the rig line and the profiles there are")
    func unknownProfile() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("rig-\(UUID().uuidString).yaml").path
        _ = FileManager.default.createFile(atPath: path, contents: Data("houses:\n  - name: h1\n    devices:\n      - {profile: sunspec-invertr}\n".utf8))
        do {
            _ = try RigLoader.load(file: path, profiles: "\(repository)/Profiles")
            Issue.record("expected an error")
        } catch {
            #expect(error.line == 4)
            #expect(error.path == "houses[0].devices[0].profile")
            #expect(error.message.contains("expected a profile in"))
            #expect(error.message.contains("sunspec-inverter"))
        }
    }
}
