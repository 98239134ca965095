import Emulators
@testable import Files
import Foundation
import TestSupport
import Testing

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
        let error = try #require(loadError(profileHeader + "      - {name: W, type: int16, quantty: ac-power}\n"))
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
        let error = try #require(loadError(profileHeader + "      - {name: WH, type: uint32, value: 1}\n      - {name: W, address: 1, type: int16, value: 2}\n"))
        #expect(error.path == "blocks[0].points[1].address")
        #expect(error.message.contains("expected a free address at or after 2, found \"1\" (inside 'WH' at 0)"))
    }

    @Test("A wrong type says what was expected and what was found")
    func wrongType() throws {
        let error = try #require(loadError(profileHeader + "      - {name: W, type: int17, value: 1}\n"))
        #expect(error.path == "blocks[0].points[0].type")
        #expect(error.message.contains("expected a type: string, "))
        #expect(error.message.contains("found \"int17\""))
        let kind = try #require(loadError("kind: toaster\nproduct: x\nblocks: []\n"))
        #expect(kind.message == "expected one of inverter, battery, meter, thermostat, ev-charger, found \"toaster\"")
    }

    @Test("A control that the kind does not have is refused")
    func foreignControl() throws {
        let error = try #require(loadError(profileHeader + "      - {name: A, type: float32, control: max-current}\n"))
        #expect(error.message.contains("expected a control of a inverter"))
    }

    @Test("A SunSpec model whose points do not add up to its length is refused")
    func modelLength() throws {
        let error = try #require(loadError(profileHeader + "      - {model: 1, length: 3}\n      - {name: Mn, type: string, size: 2, value: x}\n"))
        #expect(error.message == "model 1 declares length 3 but its points take 2 registers")
    }

    @Test("An unknown scale factor name lists the known ones")
    func unknownScaleFactor() throws {
        let error = try #require(loadError(profileHeader + "      - {name: W, type: int16, quantity: ac-power, sf: W_SF}\n      - {name: X_SF, type: sunssf, value: 0}\n"))
        #expect(error.message.contains("the name of a sunssf point in this model (X_SF)"))
    }
}

@Suite("The keys of profile files, as docs/PROFILES.md names them")
struct ProfileKeyDocsTests {
    @Test("Every key of a profile's tables is named in docs/PROFILES.md, and none twice in its table", arguments: DeviceKind.allCases)
    func documented(kind: DeviceKind) throws {
        let doc = try String(contentsOfFile: "\(repository)/docs/PROFILES.md", encoding: .utf8)
        let tables = [ProfileLoader.keys.map(\.name), ProfileLoader.transportKeys.map(\.name), ProfileLoader.exceptionKeys.map(\.name),
                      ProfileLoader.timerKeys(of: kind, reversion: false).map(\.name), ProfileLoader.blockKeys.map(\.name),
                      PointEntry.keys.map(\.name)]
        for table in tables {
            #expect(Set(table).count == table.count)
            for key in table { #expect(doc.contains(key), "\(key) is not in docs/PROFILES.md") }
        }
    }

    @Test("A reversion has no 'reverts' key of its own; a watchdog without what rearms it is refused, naming the key")
    func timers() throws {
        #expect(!ProfileLoader.timerKeys(of: .battery, reversion: true).map(\.name).contains("reverts"))
        let text = profileHeader.replacingOccurrences(of: "kind: inverter", with: "kind: ev-charger")
            + "      - {name: I, type: uint16, control: current-limit}\nwatchdog: {timeout: 60, fallback: {current-limit: 6}}\n"
        let error = try #require(loadError(text))
        #expect(error.message == "missing key 'rearmed-by' (the controls whose writes rearm it)")
    }
}

