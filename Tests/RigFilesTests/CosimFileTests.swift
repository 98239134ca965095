import Emulators
import Files
import Foundation
import Physics
import RigFiles
import Rigs
import TestSupport
import Testing
import Verdict

@Suite("Grid support and co-simulation in profile and rig files")
struct CosimFileTests {
    @Test("A profile that binds a volt-var register without listing volt-var is refused, and only an inverter may list grid support")
    func profileDeclares() throws {
        let unlisted = try #require(loadError(profileHeader + "      - {name: V1, type: uint16, control: volt-var-v1}\n"))
        #expect(unlisted.message == "a point binds volt-var-v1, but grid-support does not list volt-var")
        let listed = try loadProfile("grid-support: [volt-var]\n" + profileHeader + "      - {name: V1, type: uint16, control: volt-var-v1}\n")
        #expect(listed.gridSupport == [.voltVar])
        let battery = try #require(loadError(profileHeader.replacingOccurrences(of: "kind: inverter", with: "kind: battery") + "grid-support: [volt-var]\n"))
        #expect(battery.message.contains("only an inverter has grid-support functions"))
        let unknown = try #require(loadError("grid-support: [volt-hertz]\n" + profileHeader))
        #expect(unknown.message.contains("expected one of volt-var, volt-watt, watt-var, voltage-trip"))
    }

    @Test("Curve points need a SunSpec model, every curve curve 1's points, and a model with curves its adopt request and result", arguments: [
        ("      - {name: V1, type: uint16, control: volt-var-v1, curve: 1}\n", "curves and their adoption belong inside a SunSpec model"),
        ("      - {model: 705, length: 3}\n      - {name: R, type: uint16, adopt: request}\n      - {name: S, type: enum16, adopt: result}\n"
         + "      - {name: V1, type: uint16, control: volt-var-v1, curve: 1}\n", ""),
        ("      - {model: 705, length: 5}\n      - {name: R, type: uint16, adopt: request}\n      - {name: S, type: enum16, adopt: result}\n"
         + "      - {name: V1, type: uint16, control: volt-var-v1, curve: 1}\n      - {name: V1b, type: uint32, control: volt-var-v1, curve: 2}\n",
         "model 705: curve 2 does not have curve 1's points"),
        ("      - {model: 705, length: 1}\n      - {name: V1, type: uint16, control: volt-var-v1, curve: 1}\n",
         "model 705 has curves but not both 'adopt: request' (AdptCrvReq) and 'adopt: result' (AdptCrvRslt)"),
        ("      - {model: 705, length: 1}\n      - {name: V1, type: uint16, value: 3, curve: 2}\n", "a curve's point is a 'control' (the setting it becomes) or a 'store'"),
        ("      - {model: 705, length: 1}\n      - {name: R, type: uint16, adopt: maybe}\n", "expected request (AdptCrvReq), result (AdptCrvRslt), revert-seconds (RvrtTms)"),
    ])
    func curveKeys(points: String, message: String) throws {
        let text = "grid-support: [volt-var]\n" + profileHeader + points
        guard !message.isEmpty else {
            let profile = try loadProfile(text)
            #expect(profile.blocks[0].points.contains { if case .curve(.voltVarV1, 705, 1, _) = $0.binding { true } else { false } })
            return
        }
        let error = try #require(loadError(text))
        #expect(error.message.contains(message), "\(error)")
    }

    private func rigError(_ cosim: String, extra: String = "") -> FileError? {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("rig-\(UUID().uuidString).yaml").path
        let text = "houses:\n  - {name: h1, devices: [{profile: sunspec-inverter}, {name: battery, profile: sunspec-battery}]}\n  - {name: h2, devices: [{profile: sunspec-inverter}]}\n" + extra + "cosim:\n" + cosim
        _ = FileManager.default.createFile(atPath: path, contents: Data(text.utf8))
        defer { try? FileManager.default.removeItem(atPath: path) }
        do { _ = try RigLoader.load(file: path, profiles: "\(repository)/Profiles"); return nil } catch { return error }
    }

    @Test("Bad cosim keys name the line and what was expected", arguments: [
        ("  helics: {broker: localhost}\n", "expected host:port"),
        ("  helics: {period: 2.5}\n", "expected whole simulated seconds"),
        ("  helics: {voltage: feeder/voltage}\n", "expected a key with {house} in it"),
        ("  helics: {shards: 3}\n", "expected an integer in 1...2"),
        ("  gridlabd: {}\n", "unknown key"),
        ("  helics: {shards: 2, voltage: \"feeder/{house}/voltage\"}\n", "a split run cannot take voltages from a feeder model yet"),
    ])
    func badKeys(cosim: String, message: String) throws {
        let error = try #require(rigError(cosim))
        #expect(error.message.contains(message), "\(error)")
        #expect(error.line >= 4)
    }

    @Test("A split run refuses assertions that need the shards' request logs, and an island")
    func splitLimits() throws {
        let island = try #require(rigError("  helics: {shards: 2}\n", extra: "grid: {mode: islanded, grid-forming: h1/battery}\n"))
        #expect(island.message.contains("a split run cannot have an island"), "\(island)")
        let logs = try #require(rigError("  helics: {shards: 2}\n", extra: "assertions: {writes-accepted: true}\n"))
        #expect(logs.message.contains("writes-accepted judges the devices' request logs"))
    }

    @Test("A cosim rig is held to the voltage assertions by default; a plain rig is not")
    func defaults() throws {
        let feeder = try RigLoader.load(file: "\(repository)/Rigs/feeder-voltage.yaml", profiles: "\(repository)/Profiles")
        #expect(feeder.run.cosim?.voltage == "feeder/{house}/voltage")
        #expect(feeder.run.cosim?.federates == [["python3", "examples/cosim/feeder.py"]])
        #expect(feeder.run.assertions.map(\.kind).contains(.voltageRange))
        let plain = try RigLoader.load(file: "\(repository)/Rigs/neighborhood.yaml", profiles: "\(repository)/Profiles")
        #expect(!plain.run.assertions.map(\.kind).contains(.voltageRange))
    }
}

