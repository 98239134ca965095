@testable import Conformance
import Emulators
import Foundation
import Physics
@testable import RigFiles
@testable import Rigs
import TestSupport
import Testing

/// Claims files (docs/CONFORMANCE.md, "Claims"): what they may say, and the house under test built from them.
@Suite("Claims build the house under test")
struct ClaimsTests {
    static let suite = "\(repository)/Conformance"
    static let profiles = "\(repository)/Profiles"

    static func claims(_ text: String) throws -> Claims {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("claims-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: "\(profiles)/sunspec-battery.yaml", toPath: "\(folder)/acme-battery.yaml")
        let path = "\(folder)/claims.yaml"
        _ = FileManager.default.createFile(atPath: path, contents: Data(text.utf8))
        let functions = try ConformanceSuite.load(folder: suite, role: .household).functions
        return try Claims.load(file: path, profiles: profiles, functions: functions)
    }

    @Test("A claimed device takes the place of the case's device of its kind, keeping its name, port and situation; unclaimed kinds and their faults are left out")
    func houseFromClaims() throws {
        let claims = try Self.claims("devices: [{profile: acme-battery.yaml}, {profile: phoenix-ev-eth}]\nfunctions: [battery, ev]\n")
        let file = "\(Self.suite)/household/comms-loss.yaml"
        let own = try RigLoader.load(file: file, profiles: Self.profiles)
        let built = try RigLoader.load(file: file, profiles: Self.profiles, houseUnderTest: ("h2", claims))
        let house = built.devices.filter { $0.house == "h2" }
        #expect(house.map(\.name) == ["h2/battery", "h2/ev"])
        #expect(house.map(\.profile.name) == ["acme-battery", "phoenix-ev-eth"])
        let ownEV = try #require(own.devices.first { $0.name == "h2/ev" })
        #expect(house[1].parameters.vehicle == ownEV.parameters.vehicle && house[1].parameters.vehicle != nil)
        #expect(house[0].parameters.initialSoC == 50)
        #expect(Set(built.faults.map(\.device)) == ["h2/ev", "h2/battery"])
        #expect(built.run.comfort["h2/thermostat"] == nil && own.run.comfort["h2/thermostat"] != nil)
        #expect(built.devices.filter { $0.house != "h2" }.map(\.name) == own.devices.filter { $0.house != "h2" }.map(\.name))
    }

    @Test("Bad claims name what is wrong and where", arguments: [
        ("devices: [{profile: sunspec-battery}]\nfunctions: [ev]\n", "claims.yaml:2:13: functions[0]: ev needs a device of kind ev-charger, and none is claimed"),
        ("devices: [{profile: sunspec-battery}]\nfunctions: [flying]\n", "functions[0]: expected a function of the suite (follow-awards, battery"),
        ("devices: [{profile: sunspec-battery}, {profile: acme-battery.yaml}]\nfunctions: [battery]\n", "devices[1]: a second battery (the first is sunspec-battery)"),
        ("devices: [{profile: sunspec-meter}]\nfunctions: [follow-awards]\n", "sunspec-meter is a meter"),
        ("devices: [{profile: nope.yaml}]\nfunctions: [follow-awards]\n", "devices[0].profile: expected a profile file"),
        ("devices: [{profile: sunspec-battery, colour: red}]\nfunctions: [battery]\n", "devices[0].colour: unknown key"),
        ("devices: [{profile: sunspec-battery}]\n", "missing key 'functions'"),
    ])
    func badClaims(text: String, message: String) throws {
        #expect { try Self.claims(text) } throws: { error in
            "\(error)".contains(message)
        }
    }
}
