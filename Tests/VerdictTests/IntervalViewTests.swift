import Messages
import Physics
@testable import Reports
@testable import Rigs
import Testing
@testable import Verdict

@Suite("The run view: what the verdict counts")
struct IntervalViewTests {
    @Test("awards-add-up counts intervals with violations, not violations")
    func countsIntervals() throws {
        var run = try RunFixture(intervals: 2, assertions: [AssertionSpec(.awardsAddUp)])
        var house = MessageWriter(sender: "h2")
        run.messages.append((house.message(Bids(house: "h2", bids: [WireBid(id: "h2/ev", side: .buy, price: 0.5, quantity: 1),
                                                                         WireBid(id: "h2/thermostat", side: .buy, price: 0.5, quantity: 1)]),
                                           interval: 1), 0.5))
        // Two bids overfilled in interval 1, none in interval 2.
        run.clear(1, quantity: 6, awards: ["h2": [.init(id: "h2/ev", side: .buy, quantity: 3), .init(id: "h2/thermostat", side: .buy, quantity: 3)]])
        run.clear(2, quantity: 0, awards: ["h2": []])
        let result = try #require(try run.result(.awardsAddUp))
        #expect(result.measured == "1 of 2 intervals", "\(result.measured)")
        #expect(result.detail.hasPrefix("interval 1: buy \"h2/ev\" awarded 3.0 kW of a 1.0 kW bid (and"), "\(result.detail)")
    }

    @Test("Messages stamped with an interval the conductor never opened are not judged")
    func unopened() throws {
        var run = try RunFixture(intervals: 2, assertions: [AssertionSpec(.awardsAddUp), AssertionSpec(.supplyEqualsDemand)])
        run.clear(1, quantity: 0, awards: ["h2": []])
        run.clear(2, quantity: 0, awards: ["h2": []])
        run.clear(99, quantity: 50, awards: ["h2": [.init(id: "h2/ev", side: .buy, quantity: 50)]])
        #expect(try run.result(.awardsAddUp)?.measured == "0 of 2 intervals")
        #expect(try run.result(.supplyEqualsDemand)?.passed == true)
        // They are the sender's protocol violations instead, in the report's table, its JSON, and per sender.
        let report = RunReport(try run.record)
        #expect(report.view.strays.map { [$0.sender, $0.why.rawValue, "\($0.messages)"] }
                == [["conductor", "for an interval the conductor never opened", "1"], ["market", "for an interval the conductor never opened", "2"]])
        #expect(report.table.contains("protocol violation: for an interval the conductor never opened  market"), "\(report.table)")
        #expect(report.json.contains("\"protocol_violations\":[{\"sender\":\"conductor\""))
    }

    @Test("The market is judged on the bids it kept: bids it rightly refused (invalid, or past a flood) are the household's fault; valid bids it refused stay")
    func refusedBids() throws {
        /// h2 sends bids of `sent` kW in turn, the market refuses the ones `refused` names, then awards `awarded` kW.
        func judge(_ sent: [Double], refused: [Int: ErrorReport.Fault], awarded: Double) throws -> AssertionResult? {
            var run = try RunFixture(intervals: 1, assertions: [AssertionSpec(.awardsAddUp)])
            var house = MessageWriter(sender: "h2"), market = MessageWriter(sender: "market")
            for (index, quantity) in sent.enumerated() {
                run.messages.append((house.message(Bids(house: "h2", bids: [WireBid(id: "h2/ev", side: .buy, price: 0.5, quantity: quantity)]),
                                                   interval: 1), 0.1 + Double(index) / 10))
                if let fault = refused[index] {
                    run.messages.append((market.message(ErrorReport(fault: fault, detail: "x", about: "h2", topic: "bids/h2", count: 1),
                                                        interval: 1), 0.15 + Double(index) / 10))
                }
            }
            run.clear(1, quantity: awarded, awards: ["h2": [.init(id: "h2/ev", side: .buy, quantity: awarded)]])
            return try run.result(.awardsAddUp)
        }
        // 3 kW taken, then -7.4 refused as invalid: the market rightly cleared the 3 kW.
        #expect(try judge([3, -7.4], refused: [1: .invalidBid], awarded: 3)?.passed == true)
        // 3 kW taken, then a valid 1 kW refused as invalid: the market's fault; it is judged on the 1 kW.
        #expect(try judge([3, 1], refused: [1: .invalidBid], awarded: 3)?.passed == false)
        // A flood: the message that tripped it and every later one are dropped, as the market drops them.
        #expect(try judge([3, 1, 1], refused: [1: .flood], awarded: 3)?.passed == true)
    }

    @Test("A message from a sender that is no participant of the run is a protocol violation of that sender, judged in no interval")
    func unknownSender() throws {
        var run = try RunFixture(intervals: 1, assertions: [AssertionSpec(.awardsAddUp)])
        var stranger = MessageWriter(sender: "h9")
        run.messages.append((stranger.message(Bids(house: "h9", bids: [WireBid(id: "h9/ev", side: .buy, price: 0.5, quantity: 1)]),
                                              interval: 1), 0.5))
        run.clear(1, quantity: 0, awards: [:])
        let report = RunReport(try run.record)
        #expect(report.view.strays.map(\.sender) == ["h9"] && report.view.strays.first?.why == .unknownSender)
        #expect(report.view.intervals.first?.bids["h9"] == nil)
        #expect(report.table.contains("from no participant of the run"))
    }

    @Test("every-interval-cleared names a participant that asked for a control step and did not answer")
    func silentStep() throws {
        var run = try RunFixture(intervals: 2, assertions: [AssertionSpec(.everyIntervalCleared)])
        run.silentSteps[2] = [(time: 345, participants: ["h3"])]
        let result = try #require(try run.result(.everyIntervalCleared))
        #expect(!result.passed)
        #expect(result.detail.contains("interval 2: no clearing, no bids from h1, h2, h3, h4, no answer at the 00:05 control step from h3"), "\(result.detail)")
    }

    @Test("With no clearing in the run, the market and timing assertions say there is nothing to judge, and do not pass",
          arguments: [AssertionSpec.Kind.supplyEqualsDemand, .awardsAddUp, .clearingMatchesReference, .clearingLatency, .dispatchLatency,
                      .everyIntervalCleared])
    func nothingCleared(kind: AssertionSpec.Kind) throws {
        var run = try RunFixture(intervals: 2, assertions: [AssertionSpec(kind)])
        run.intervals = 0
        let result = try #require(RunReport(try run.record).results.first)
        #expect(!result.passed && !result.judged && result.measured == "nothing to judge", "\(result.measured)")
    }
}
