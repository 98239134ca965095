import Bus
import Foundation
import Logging
import Messages
import Physics
import Reports
import RigFiles
import Run
import TestSupport
import Testing
import Verdict

/// The market suite's scripted cases (Conformance/market/, docs/CONFORMANCE.md "Scripted market cases"), run with
/// GridRig's reference market: the conductor sends each script's bids at its moment, the market clears exactly
/// those books, and the verdict judges them.
@Suite("Scripted market cases", .serialized, .timeLimit(.minutes(3)))
struct ScriptedMarketTests {
    static func run(_ name: String) async throws -> RunReport {
        let rig = try RigLoader.load(file: "\(repository)/Conformance/market/\(name).yaml", profiles: "\(repository)/Profiles", firstPort: 0)
        return try await ControllerTests.run(rig)
    }

    /// Every captured message that decodes, in the broker's order.
    static func messages(_ report: RunReport) -> [Message] {
        report.record.capture.compactMap { try? Message.decode(topic: $0.topic, payload: $0.payload.first ?? []) }
    }

    @Test("Each vertical book clears by its own branch of the price rule, and every market assertion passes")
    func verticalSegments() async throws {
        let report = try await Self.run("vertical-segments")
        #expect(report.passed, "\(report.table)")
        let clearings = report.record.intervals.compactMap(\.clearing)
        #expect(clearings.map { ($0.price * 10_000).rounded() / 10_000 } == [0.4, 0.2, 0.4501, 0.1999, 0.3, 0.25])
        #expect(clearings.map(\.clearingType.rawValue) == ["buyer", "seller", "price", "price", "exact", "price"])
    }

    @Test("Bids sent at the gate pass the broker after every opening bid and just before the gate, and the market clears the revised book")
    func lastMoment() async throws {
        let report = try await Self.run("last-moment")
        #expect(report.passed, "\(report.table)")
        let messages = Self.messages(report).filter { $0.header.interval == 1 }
        let gate = try #require(messages.firstIndex { if $0.body is Gate { true } else { false } })
        let bids = messages.indices.filter { if messages[$0].body is Bids { true } else { false } }
        // The grid's and the four opening bids, then the two newcomers' and the two revisions, the last right before the gate.
        #expect(bids.map { messages[$0].header.sender } == ["grid", "b1", "b2", "o1", "o2", "b3", "o3", "b1", "o1"])
        #expect(bids.last == gate - 1)
        // b1 revised to 4 kW at 0.45 and o1 to 1 kW: the reference market clears that book, not the opening one.
        let clearing = try #require(report.record.intervals.first?.clearing)
        #expect(clearing.bidCount == 6)
        let awards = try #require(messages.lazy.compactMap { $0.body as? Awards }.first { $0.house == "b1" })
        #expect(awards.awards.map(\.id) == ["b1/load"])
    }

    @Test("A household that floods is cut off after 20 bids messages, and the verdict judges the bids the market kept")
    func flood() async throws {
        let report = try await Self.run("flood")
        #expect(report.passed, "\(report.table)")
        let floods = Self.messages(report).filter { message in
            if let error = message.body as? ErrorReport { error.fault == .flood && error.about == "f1" } else { false }
        }
        #expect(floods.count == report.record.intervals.count)
    }
}
