import ArgumentParser
import Files
import Foundation
import Market

struct MarketCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "market",
        abstract: "The market core on its own: clear recorded or hand-written bids offline.",
        subcommands: [Clear.self])
}

struct Clear: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Clear one interval's bids as a uniform-price double auction (docs/MARKET.md).",
        discussion: """
            Reads {"price_cap": 1.0, "buyers": [{"id": ..., "price": ..., "quantity": ...}], "sellers": [...]} (prices $/kWh, quantities kW) and prints the clearing price, quantity, type and every award as JSON.

            Examples:
              gridrig market clear examples/bids.json
              cat bids.json | gridrig market clear - --table

            Exit status: 0 cleared, 2 bad input (the error names the file, line, column, bid and field).
            """)

    @Argument(help: "The bids file, or - for standard input.")
    var file: String

    @Flag(help: "Print a table for people instead of JSON.")
    var table = false

    @Flag(help: "Also print how long reading and clearing took, on standard error.")
    var timing = false

    func run() async throws {
        let clock = ContinuousClock()
        let started = clock.now
        let book: OrderBook
        do {
            book = try BidFile.load(file: file)
        } catch {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            throw ExitCode(2)
        }
        let read = clock.now
        let clearing = book.clear()
        let cleared = clock.now
        if table {
            say(ClearingReport.table(clearing))
        } else {
            try ClearingReport.json(clearing) { try FileHandle.standardOutput.write(contentsOf: $0) }
        }
        if timing {
            let seconds = (cleared - read) / .seconds(1)
            let note = "read \(book.bids.count) bids in \(milliseconds(read - started)) ms; cleared in \(milliseconds(cleared - read)) ms"
                + (seconds > 0 ? " (\(Int(Double(book.bids.count) / seconds)) bids/s)" : "")
            FileHandle.standardError.write(Data((note + "\n").utf8))
        }
    }

    private func milliseconds(_ duration: Duration) -> String {
        String(format: "%.1f", duration / .milliseconds(1))
    }
}
