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
