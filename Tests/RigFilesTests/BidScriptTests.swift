import Foundation
import Market
import Messages
import Physics
@testable import RigFiles
@testable import Rigs
import TestSupport
import Testing

/// Scripted bids (docs/RIGS.md, "Scripted bids"): what a rig's `scripted-bids:` may say, and the messages the
/// conductor sends from it.
@Suite("Scripted bids")
struct BidScriptTests {
    /// A rig of one PCC meter and `script`, with the book files `books` (name → JSON) beside it.
    static func rig(_ script: String, books: [String: String] = [:], houses: String = "") throws -> Rig {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("script-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        for (name, text) in books { _ = FileManager.default.createFile(atPath: "\(folder)/\(name)", contents: Data(text.utf8)) }
        let text = "start: \"12:00\"\nduration: 0.5\nfirst-port: 0\n\(houses)pcc:\n  meter: {name: pcc/meter, profile: sunspec-meter}\nscripted-bids:\n\(script)"
        _ = FileManager.default.createFile(atPath: "\(folder)/rig.yaml", contents: Data(text.utf8))
        return try RigLoader.load(file: "\(folder)/rig.yaml", profiles: "\(repository)/Profiles")
    }

    static let book = #"{"buyers": [{"id": "b1/load", "price": 0.4, "quantity": 2}, {"id": "b1/ev", "price": 0.3, "quantity": 1}], "sellers": [{"id": "o1/pv", "price": 0, "quantity": 2}]}"#

    @Test("A book's bids go out once per bidder at its moment of the intervals it names; a repeat sends them again")
    func bookMessages() throws {
        let rig = try Self.rig("  - {book: a.json, intervals: [2, 3]}\n  - {book: a.json, at: gate, repeat: 3, intervals: [3]}\n", books: ["a.json": Self.book])
        let script = try #require(rig.run.bidScript)
        #expect(script.bidders == ["b1", "o1"])
        let start = 12 * 3600.0
        #expect(script.messages(at: .opening, intervalStart: start, priceCap: 1).isEmpty)
        let second = script.messages(at: .opening, intervalStart: start + 300, priceCap: 1)
        #expect(second.map(\.house) == ["b1", "o1"])
        #expect(second[0].bids == [WireBid(id: "b1/load", side: .buy, price: 0.4, quantity: 2), WireBid(id: "b1/ev", side: .buy, price: 0.3, quantity: 1)])
        #expect(script.messages(at: .gate, intervalStart: start + 300, priceCap: 1).isEmpty)
        #expect(script.messages(at: .gate, intervalStart: start + 600, priceCap: 1).map(\.house) == ["b1", "o1", "b1", "o1", "b1", "o1"])
    }

    @Test("Generated bidders are stress's seeded households s1, s2, …: the same seed and interval give the same bids, another interval other bids")
    func generatedMessages() throws {
        let rig = try Self.rig("  - {generated: 50, seed: 7}\n")
        let script = try #require(rig.run.bidScript)
        #expect(script.bidders.count == 50 && script.bidders.first == "s1" && script.bidders.last == "s50")
        let first = script.messages(at: .opening, intervalStart: 12 * 3600, priceCap: 1)
        #expect(first.count == 50)
        #expect(first.contains { !$0.bids.isEmpty })
        #expect(first == script.messages(at: .opening, intervalStart: 12 * 3600, priceCap: 1))
        #expect(first != script.messages(at: .opening, intervalStart: 12 * 3600 + 300, priceCap: 1))
    }

    @Test("Bad scripts name what is wrong and where", arguments: [
        ("  - {book: a.json, generated: 3}\n", "either 'book: FILE' or 'generated: N'"),
        ("  - {intervals: [1]}\n", "either 'book: FILE' or 'generated: N'"),
        ("  - {book: missing.json}\n", "missing.json:0:0: cannot read the file"),
        ("  - {book: a.json, intervals: [7]}\n", "intervals[0]: expected an integer in 1...6"),
        ("  - {book: a.json, at: noon}\n", "at: expected one of opening, gate"),
        ("  - {book: a.json, repeat: 0}\n", "repeat: expected an integer in 1...1000"),
        ("  - {book: a.json, seed: 3}\n", "'seed' is for generated bidders"),
        ("  - {book: nobody.json}\n", "bid id \"load\" names no bidder"),
        ("  - {book: h1.json}\n", "h1 is a house or participant of the run"),
        ("  - {book: grid.json}\n", "grid is a house or participant of the run"),
        ("  - {book: dear.json}\n", "the rig's price cap is 1.0"),
        ("  - {generated: 20000}\n", "generated: expected an integer in 1...10000"),
        ("  []\n", "expected at least one scripted entry"),
    ])
    func badScripts(script: String, message: String) throws {
        let books = ["a.json": Self.book, "nobody.json": #"{"buyers": [{"id": "load", "price": 0.4, "quantity": 2}]}"#,
                     "h1.json": #"{"buyers": [{"id": "h1/load", "price": 0.4, "quantity": 2}]}"#,
                     "grid.json": #"{"sellers": [{"id": "grid/import", "price": 0.3, "quantity": 2}]}"#,
                     "dear.json": #"{"price_cap": 5, "buyers": [{"id": "b1/load", "price": 2, "quantity": 2}]}"#]
        let house = "houses:\n  - name: h1\n    devices: [{name: pv, profile: sunspec-inverter}]\n"
        #expect { try Self.rig(script, books: books, houses: house) } throws: { error in
            "\(error)".contains(message)
        }
    }
}
