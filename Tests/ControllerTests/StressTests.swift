import Foundation
import Logging
import Market
@testable import Rigs
@testable import Run
@testable import Stress
import Synchronization
import TestSupport
import Testing

private func stress(_ market: RunSettings.Role = .builtin, bidders: [Int], lengths: [Double] = [300], intervals: Int = 2, seed: UInt64 = 5,
                    deadline: Duration? = nil) async throws -> StressResult {
    try await offPool { try stressOnThisThread(market, bidders: bidders, lengths: lengths, intervals: intervals, seed: seed, deadline: deadline) }
}

private func stressOnThisThread(_ market: RunSettings.Role, bidders: [Int], lengths: [Double], intervals: Int, seed: UInt64,
                                deadline: Duration?) throws -> StressResult {
    var options = StressOptions(folder: FileManager.default.temporaryDirectory.appendingPathComponent("stress-\(UUID().uuidString)").path)
    defer { try? FileManager.default.removeItem(atPath: options.folder) }
    options.market = market
    options.bidders = bidders
    options.lengths = lengths
    options.intervals = intervals
    options.seed = seed
    options.deadline = deadline
    var logger = Logger(label: "test")
    logger.logLevel = .critical
    return try StressTest.run(options, logger: logger)
}

/// What is reproducible of a stress result under its seed: the bids, the reference and what the market cleared.
private func reproducible(_ result: StressResult) -> [[Double?]] {
    result.steps.flatMap { step in
        step.intervals.map { [Double($0.bids), $0.referencePrice, $0.referenceQuantity, $0.price, $0.quantity, $0.bidCount.map(Double.init)] }
    }
}

@Suite("gridrig stress: synthetic bidders against a market over the bus", .serialized, .timeLimit(.minutes(5)))
struct StressTests {
    @Test("The builtin market clears every step rightly; the same seed gives the same bids, reference and clearing, another seed others")
    func builtin() async throws {
        let one = try await stress(bidders: [50, 500]), again = try await stress(bidders: [50, 500]), other = try await stress(bidders: [50, 500], seed: 6)
        #expect(one.passed, "\(StressReport(one).table)")
        #expect(one.steps.map(\.bidders) == [50, 500])
        for interval in one.steps.flatMap(\.intervals) {
            #expect(interval.wrong.isEmpty && interval.lostBids == 0 && !interval.missedDeadline)
            #expect(interval.bidCount == interval.bids && interval.bids > 50)
            #expect(interval.price == interval.referencePrice)
        }
        #expect(reproducible(one) == reproducible(again))
        #expect(reproducible(one) != reproducible(other))
    }

    @Test("The Python example market clears the same bids to the same results as the builtin one")
    func python() async throws {
        let python = try await stress(.command(["python3", "\(repository)/examples/python/market.py"]), bidders: [200])
        let builtin = try await stress(bidders: [200])
        #expect(python.passed, "\(StressReport(python).table)")
        #expect(reproducible(python) == reproducible(builtin))
    }

    @Test("A market that prices awards apart from its clearing, or clears at the midpoint, clears wrongly at once; a slow one misses its deadline",
          arguments: [("award-price-differs", "awards differ"), ("clears-at-midpoint", "price"), ("clears-slowly", "")])
    func broken(bug: String, complaint: String) async throws {
        // The slow market pauses 0.7 s before every tenth interval's clearing.
        let result = try await stress(.command(["python3", "\(repository)/Conformance/broken/broken.py", bug]), bidders: [100, 1_000],
                                intervals: complaint.isEmpty ? 10 : 2, deadline: .milliseconds(500))
        #expect(!result.passed)
        let first = try #require(result.steps.first)
        #expect(first.saturated, "\(bug) passed its first step")
        #expect(result.steps.count == 1, "the ramp goes on past saturation")
        if complaint.isEmpty {
            #expect(first.missedDeadlines > 0 && first.wrongResults == 0)
        } else {
            #expect(first.intervals.flatMap(\.wrong).contains { $0.contains(complaint) }, "\(first.intervals.map(\.wrong))")
        }
    }

    @Test("An endpoint market started on its own joins at the fixed ports, reads the households file and is ramped like the others")
    func endpoint() async throws {
        let ports = freeBusPorts()
        var options = StressOptions(folder: FileManager.default.temporaryDirectory.appendingPathComponent("stress-\(UUID().uuidString)").path)
        defer { try? FileManager.default.removeItem(atPath: options.folder) }
        options.market = .endpoint
        options.bidders = [50, 300]
        options.lengths = [300]
        options.intervals = 2
        options.seed = 5
        options.publishPort = ports.publish
        options.subscribePort = ports.subscribe
        let outcome = Mutex<Result<StressResult, RunError>?>(nil)
        Thread { [options] in
            var logger = Logger(label: "test")
            logger.logLevel = .critical
            let result = Result { () throws(RunError) in try StressTest.run(options, logger: logger) }
            outcome.withLock { $0 = result }
        }.start()
        let file = "\(options.folder)/households.txt"
        let deadline = ContinuousClock.now + .seconds(20)
        while !FileManager.default.fileExists(atPath: file), ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(50)) }
        let market = try Child(["python3", "\(repository)/examples/python/market.py"], environment: [
            "GRIDRIG_BUS_PUBLISH": "tcp://127.0.0.1:\(ports.publish)", "GRIDRIG_BUS_SUBSCRIBE": "tcp://127.0.0.1:\(ports.subscribe)",
            "GRIDRIG_HOUSEHOLDS_FILE": file,
        ])
        defer { market.kill() }
        while outcome.withLock({ $0 == nil }), ContinuousClock.now < deadline + .seconds(60) { try await Task.sleep(for: .milliseconds(100)) }
        let result = try #require(try outcome.withLock { $0 }?.get())
        #expect(try String(contentsOfFile: file, encoding: .utf8).split(separator: "\n").count == 300, "every household of the largest step")
        #expect(result.steps.map(\.bidders) == [50, 300])
        #expect(result.steps.flatMap(\.intervals).allSatisfy { $0.wrong.isEmpty && $0.lostBids == 0 && $0.price == $0.referencePrice },
                "\(StressReport(result).table)")
        #expect(reproducible(result).map { Array($0.prefix(3)) } == reproducible(try await stress(bidders: [50, 300])).map { Array($0.prefix(3)) },
                "the same bids and reference as with the builtin market")
    }

    @Test("The command writes its table, JSON, JUnit and HTML; bad flags are refused")
    func command() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("stress-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let ran = try await gridrig(["stress", "--bidders", "100", "--lengths", "2", "--intervals", "2", "--out", folder])
        #expect(ran.status == 0, "\(ran.errors)")
        #expect(ran.output.contains("saturation at 2 s intervals: not reached up to 100 bidders"))
        for file in ["stress.html", "stress.json", "junit.xml", "summary.txt"] { #expect(FileManager.default.fileExists(atPath: "\(folder)/\(file)")) }
        let junit = try String(contentsOfFile: "\(folder)/junit.xml", encoding: .utf8)
        #expect(junit.contains("tests=\"1\" failures=\"0\""))
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(folder)/stress.json"))) as? [String: Any]
        #expect((json?["result"] as? [String: Any])?["seed"] as? Int == 1)
        for flags in [["--bidders", "0"], ["--lengths", "0.5"], ["--from", "1000", "--up-to", "10"], ["--endpoint"]] {
            let refused = try await gridrig(["stress"] + flags)
            #expect(refused.status == 2, "\(flags): \(refused.status) \(refused.errors)")
        }
    }

    @Test("Synthetic bids: seeded by household and interval, within the cap, sized by the interval, solar only by day")
    func bids() {
        let bidders = SyntheticBidders(seed: 3)
        var night = 0.0, noon = 0.0
        for index in 0..<2_000 {
            let devices = bidders.devices(of: index)
            #expect(devices == bidders.devices(of: index))
            let day = bidders.bids(household: index, devices: devices, interval: 7, time: 12 * 3600, length: 300, priceCap: 1)
            #expect(day == bidders.bids(household: index, devices: devices, interval: 7, time: 12 * 3600, length: 300, priceCap: 1))
            #expect((try? OrderBook(priceCap: 1, bids: day).validate()) != nil)
            #expect(day.allSatisfy { $0.id.hasPrefix("\(SyntheticBidders.name(index))/") && abs($0.quantity * 10_000 - ($0.quantity * 10_000).rounded()) < 1e-6 })
            let hour = bidders.bids(household: index, devices: devices, interval: 7, time: 12 * 3600, length: 3600, priceCap: 1)
            let hourly: Double = hour.map(\.quantity).reduce(0, +), fiveMinutes: Double = day.map(\.quantity).reduce(0, +)
            #expect(abs(hourly - 12 * fiveMinutes) <= 0.01 * hourly + 0.01, "the same draws, twelve times the energy")
            noon += day.filter { $0.id.hasSuffix("/pv") }.map(\.quantity).reduce(0, +)
            night += bidders.bids(household: index, devices: devices, interval: 7, time: 2 * 3600, length: 300, priceCap: 1)
                .filter { $0.id.hasSuffix("/pv") }.map(\.quantity).reduce(0, +)
        }
        #expect(noon > 100 && night == 0)
        #expect(bidders.bids(household: 1, devices: bidders.devices(of: 1), interval: 8, time: 12 * 3600, length: 300, priceCap: 1)
                != bidders.bids(household: 1, devices: bidders.devices(of: 1), interval: 7, time: 12 * 3600, length: 300, priceCap: 1))
    }
}
