import Agents
import Files
import Foundation
import Market
import Messages
import Physics
import Rigs

extension BidScript {
    /// Reads a rig's `scripted-bids:` list; book files are relative to the rig's folder. `reserved` are the names a
    /// bidder may not take (the rig's houses, and the run's own participants).
    static func load(_ value: YAMLValue, run: RunSettings, start: Double, seed: UInt64, reserved: Set<String>) throws(FileError) -> BidScript {
        let intervals = max(1, Int((run.duration / run.interval).rounded(.up)))
        var entries: [Entry] = []
        for item in try value.list() {
            let entry = try item.read(ScriptEntry.keys(intervals: intervals), from: ScriptEntry())
            let source: Entry.Source
            switch (entry.book, entry.generated) {
            case (let book?, nil):
                guard entry.seed == nil else { throw item.error("'seed' is for generated bidders, not a book") }
                let path = URL(fileURLWithPath: try book.string(), relativeTo: URL(fileURLWithPath: book.file).deletingLastPathComponent()).path
                let bids = try BidFile.load(file: path).bids
                do {
                    try OrderBook(priceCap: run.priceCap, bids: bids).validate()
                } catch {
                    throw book.error("\(path): \(error.description) (the rig's price cap is \(run.priceCap) $/kWh)")
                }
                var byBidder: [Bids] = []
                for bid in bids {
                    let bidder: HouseID
                    do { bidder = try DeviceID(parsing: bid.id).house } catch {
                        throw book.error("\(path): bid id \"\(bid.id)\" names no bidder: expected BIDDER/DEVICE")
                    }
                    guard !reserved.contains(bidder.name) else {
                        throw book.error("\(path): bid id \"\(bid.id)\": \(bidder) is a house or participant of the run, not a scripted bidder")
                    }
                    if let index = byBidder.firstIndex(where: { $0.house == bidder }) {
                        byBidder[index].bids.append(WireBid(bid))
                    } else {
                        byBidder.append(Bids(house: bidder, bids: [WireBid(bid)]))
                    }
                }
                source = .book(byBidder)
            case (nil, let generated?):
                let generator = SyntheticBidders(seed: entry.seed ?? seed)
                let count = try generated.int(in: 1...10_000)  // GRIDRIG_HOUSEHOLDS holds at most 128 kB
                if let taken = (0..<count).lazy.map(SyntheticBidders.name).first(where: { reserved.contains($0.name) }) {
                    throw generated.error("generated bidders are named s1, s2, …, and \(taken) is a house or participant of the run")
                }
                source = .generated(generator, count: count)
            default:
                throw item.error("a scripted entry has either 'book: FILE' or 'generated: N' (bidders)")
            }
            entries.append(Entry(source: source, intervals: entry.intervals, moment: entry.moment, repeats: entry.repeats))
        }
        guard !entries.isEmpty else { throw value.error("expected at least one scripted entry") }
        return BidScript(entries: entries, start: start, interval: run.interval)
    }
}

/// One entry of a rig's `scripted-bids:` as written (docs/RIGS.md, "Scripted bids"): a book or generated bidders,
/// which the loader reads once it knows which.
struct ScriptEntry {
    var book: YAMLValue?
    var generated: YAMLValue?
    var seed: UInt64?
    var intervals: Set<Int>?
    var moment = BidScript.Moment.opening
    var repeats = 1

    /// The keys, for a run of `intervals` intervals.
    static func keys(intervals: Int) -> [FileKey<ScriptEntry>] { [
        FileKey("book", "a bids file whose books go out in their bidders' names") { value, entry in entry.book = value },
        FileKey("generated", "how many bidders `gridrig stress` draws, each interval anew") { value, entry in entry.generated = value },
        FileKey("seed", "the generated bidders' seed (default: the rig's)") { value, entry throws(FileError) in
            entry.seed = UInt64(try value.int(in: 0...Int.max))
        },
        FileKey("intervals", "the interval numbers it is for, from 1 (default: every one)") { value, entry throws(FileError) in
            var numbers: Set<Int> = []
            for number in try value.list() { numbers.insert(try number.int(in: 1...intervals)) }
            entry.intervals = numbers
        },
        FileKey("at", "opening or gate: when in the interval its bids go out") { value, entry throws(FileError) in
            entry.moment = try value.choice(BidScript.Moment.self)
        },
        .integer("repeat", \.repeats, in: 1...1_000, "how many times each bidder's message is sent"),
    ] }
}

