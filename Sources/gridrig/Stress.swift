import ArgumentParser
import Foundation
import Logging
import Rigs
import Run
import Stress

struct Stress: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Stress-test a market's real-time clearing: ramp synthetic bidders over the bus until it saturates.",
        discussion: """
            Synthetic households (no Modbus, no physics) bid over the real bus with seeded prices and quantities by device kind and time of day; a few connections speak for all of them. For each interval length (--lengths) the number of bidders ramps through --bidders (or --from ×10 up to --up-to), --intervals intervals per step. Every clearing and every award is checked against GridRig's market core on the same bids. A step saturates when a clearing misses --deadline-ms after gate closure, clears wrongly or loses bids; the ramp of that length stops there. Writes summary.txt, stress.json, junit.xml and stress.html to --out.

            The market is the builtin one by default; a program given last, after -- (restarted for each step, told its households in GRIDRIG_HOUSEHOLDS_FILE); or, with --endpoint, one started separately (docs/STRESS.md).

            Exit status: 0 no step saturated, 1 one did, 2 bad input, 3 the tool itself failed.
            """)

    @Option(help: "Seed of the synthetic bids.")
    var seed: UInt64 = 1

    @Option(help: ArgumentHelp("Bidders per step (overrides --from and --up-to).", valueName: "n,n..."))
    var bidders: CommaList<Int>?

    @Option(help: "The first step's bidders; each next step has 10 times as many.")
    var from: Int = 100

    @Option(help: "The last step's bidders at most.")
    var upTo: Int = 1_000_000

    @Option(help: ArgumentHelp("Interval lengths in seconds; each is ramped in turn.", valueName: "s,s..."))
    var lengths = CommaList<Double>(argument: "300,1")!

    @Option(help: "Intervals per step.")
    var intervals: Int = 3

    @Option(help: "The clearing's deadline after gate closure, ms (default: half the interval, at most 1000).")
    var deadlineMs: Double?

    @Option(help: "For intervals over 10 s: ms the market has to read its bids after the broker forwarded the last, before the gate.")
    var bidWindowMs: Double = 2000

    @Option(help: "Bus connections the bidders share.")
    var connections: Int = 4

    @Option(help: "Price cap, $/kWh.")
    var priceCap: Double = 1

    @Option(help: "Folder for the results (default: runs/stress-<time>).")
    var out: String?

    @Option(help: "Seconds the market has to say ready at each step.")
    var readyTimeout: Double = 30

    @Flag(help: "The market is started separately and joins the bus at --publish-port/--subscribe-port.")
    var endpoint = false

    @Option(help: "The bus's host to bind.")
    var host: String = "127.0.0.1"

    @Option(help: "The bus's publish port (0: a free one; an endpoint needs a fixed one).")
    var publishPort: UInt16 = 0

    @Option(help: "The bus's subscribe port.")
    var subscribePort: UInt16 = 0

    @OptionGroup var log: LogOptions

    @OptionGroup var market: ControllerProgram

    func steps() throws -> [Int] {
        if let bidders {
            guard bidders.items.allSatisfy({ $0 > 0 }) else { throw ValidationError("--bidders: expected counts above 0, e.g. 100,1000, found \(bidders.items).") }
            return bidders.items.sorted()
        }
        guard from > 0, upTo >= from else { throw ValidationError("--from must be above 0 and --up-to at least --from, found \(from) and \(upTo).") }
        return Array(sequence(first: from) { $0 <= upTo / 10 ? $0 * 10 : nil })
    }

    func intervalLengths() throws -> [Double] {
        guard lengths.items.allSatisfy({ $0 >= 1 && $0.isFinite }) else {
            throw ValidationError("--lengths: expected interval lengths of 1 s or more, e.g. 300,1, found \(lengths.items).")
        }
        return lengths.items
    }

    func validate() throws {
        _ = try steps()
        _ = try intervalLengths()
        try market.check(for: Self.self)
        guard !(endpoint && !market.program.isEmpty) else { throw ValidationError("give --endpoint or the market's program (after --), not both.") }
        guard !endpoint || (publishPort != 0 && subscribePort != 0) else { throw ValidationError("--endpoint needs --publish-port and --subscribe-port.") }
        guard (1...1000).contains(intervals) else { throw ValidationError("--intervals must be 1 to 1000, found \(intervals).") }
        guard (1...64).contains(connections) else { throw ValidationError("--connections must be 1 to 64, found \(connections).") }
        guard priceCap > 0, priceCap.isFinite else { throw ValidationError("--price-cap must be a positive price.") }
        guard deadlineMs.map({ $0 > 0 && $0.isFinite }) ?? true else { throw ValidationError("--deadline-ms must be a positive number.") }
        guard readyTimeout > 0, readyTimeout.isFinite else { throw ValidationError("--ready-timeout must be a positive number of seconds.") }
        guard bidWindowMs >= 0, bidWindowMs.isFinite else { throw ValidationError("--bid-window-ms must be 0 or more.") }
    }

    func run() throws {
        let logger = log.logger("gridrig.stress")
        let folder = out ?? "runs/stress-\(Run.timestamp())"
        var options = StressOptions(folder: folder)
        options.market = endpoint ? .endpoint : market.program.isEmpty ? .builtin : .command(market.program)
        options.seed = seed
        options.bidders = try steps()
        options.lengths = try intervalLengths()
        options.intervals = intervals
        options.deadline = deadlineMs.map { .milliseconds($0) }
        options.connections = connections
        options.bidWindow = .milliseconds(bidWindowMs)
        options.priceCap = priceCap
        options.host = host
        options.publishPort = publishPort
        options.subscribePort = subscribePort
        options.readyTimeout = .seconds(readyTimeout)
        let result: StressResult
        do {
            result = try StressTest.run(options, logger: logger) { step in
                let latency = step.clearingLatency(0.99).map { String(format: "%.1f ms", $0) } ?? "no clearing"
                FileHandle.standardError.write(Data("\(step.length.formatted()) s intervals, \(step.bidders) bidders: clearing p99 \(latency)\(step.saturated ? ", saturated" : "")\n".utf8))
            }
            let report = StressReport(result)
            try report.write(to: folder)
            print(report.table)
            print("Report: \(folder)/stress.html\n  (and stress.json junit.xml summary.txt)")
        } catch {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            throw ExitCode(error.isBadInput ? 2 : 3)
        }
        if !result.passed { throw ExitCode(1) }
    }
}
