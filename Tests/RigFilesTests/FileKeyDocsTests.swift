import Files
import Foundation
@testable import RigFiles
import TestSupport
import Testing

/// Every key a table reads is one a user can find: the file format's doc names it.
@Suite("The keys of rig files, as their docs name them")
struct FileKeyDocsTests {
    static let tables: [(what: String, doc: String, keys: [String])] = [
        ("rig", "docs/RIGS.md", RigRoot.keys.map(\.name)),
        ("weather", "docs/RIGS.md", WeatherEntry.keys.map(\.name)),
        ("controller role", "docs/RIGS.md", RigLoader.roleKeys(household: true).map(\.name)),
        ("house", "docs/RIGS.md", HouseEntry.keys.map(\.name)),
        ("device", "docs/RIGS.md", DeviceEntry.keys(profiles: ProfileShelf(folder: ""), folder: "").map(\.name)),
        ("vehicle", "docs/RIGS.md", RigLoader.vehicleKeys.map(\.name)),
        ("comfort", "docs/RIGS.md", RigLoader.comfortKeys.map(\.name)),
        ("market", "docs/RIGS.md", RigLoader.marketKeys.map(\.name)),
        ("market.deadlines", "docs/RIGS.md", RigLoader.deadlineKeys.map(\.name)),
        ("bus", "docs/RIGS.md", RigLoader.busKeys(folder: URL(fileURLWithPath: "/")).map(\.name)),
        ("neighborhood", "docs/RIGS.md", RigLoader.neighborhoodKeys.map(\.name)),
        ("grid", "docs/RIGS.md", GridEntry.keys(priceCap: 1).map(\.name)),
        ("scripted-bids", "docs/RIGS.md", ScriptEntry.keys(intervals: 1).map(\.name)),
        ("controller", "docs/RIGS.md", RigLoader.controllerKeys(houses: []).map(\.name)),
        ("cosim.helics", "docs/COSIM.md", RigLoader.helicsKeys(houses: 1).map(\.name)),
        ("claims", "docs/CONFORMANCE.md", Claims.keys(entryKeys: [], functions: []).map(\.name)),
        ("fault", "docs/FAULTS.md", FaultEntry.keys.map(\.name)),
    ]

    @Test("Each table's keys are named in the file format's doc, and none twice in its table", arguments: tables.map(\.what))
    func documented(what: String) throws {
        let table = try #require(Self.tables.first { $0.what == what })
        let doc = try String(contentsOfFile: "\(repository)/\(table.doc)", encoding: .utf8)
        #expect(Set(table.keys).count == table.keys.count)
        for key in table.keys { #expect(doc.contains(key), "\(what).\(key) is not in \(table.doc)") }
    }

    @Test("A key outside a table is refused, listing the table's keys; a required key left out is named")
    func refused() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("rig-\(UUID().uuidString).yaml").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        func error(_ text: String) -> FileError? {
            _ = FileManager.default.createFile(atPath: path, contents: Data(text.utf8))
            do { _ = try RigLoader.load(file: path, profiles: "\(repository)/Profiles"); return nil } catch { return error }
        }
        let house = "houses:\n  - name: h1\n    devices:\n      - {profile: phoenix-ev-eth, vehicle: "
        let unknown = try #require(error(house + "{arrival: \"17:00\", departure: \"07:00\", colour: red}}\n"))
        #expect(unknown.path == "houses[0].devices[0].vehicle.colour")
        #expect(unknown.message == "unknown key; expected one of arrival, departure, capacity, initial-soc, target-soc, max-current, phases")
        let missing = try #require(error(house + "{arrival: \"17:00\"}}\n"))
        #expect(missing.message == "missing key 'departure' (when it leaves, HH:MM; the next morning when not after the arrival)")
        #expect(error(house + "{arrival: \"17:00\", departure: \"07:00\", target-soc: 120}}\n")?.message == #"expected a percentage in 0...100, found "120""#)
        let battery = "houses:\n  - name: h1\n    devices:\n      - {profile: sunspec-battery, "
        #expect(error(battery + "vehicle: {arrival: \"17:00\", departure: \"07:00\"}}\n")?.message == "'vehicle' applies to an ev-charger, not a battery")
        #expect(error(battery + "initial-soc: 40, unit: 3}\n") == nil)
    }
}
