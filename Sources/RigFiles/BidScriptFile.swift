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
            let fields = try item.mapping(allowed: ["book", "generated", "seed", "intervals", "at", "repeat"])
            let source: Entry.Source
            switch (fields["book"], fields["generated"]) {
            case (let book?, nil):
                guard fields["seed"] == nil else { throw item.error("'seed' is for generated bidders, not a book") }
                let path = URL(fileURLWithPath: try book.string(), relativeTo: URL(fileURLWithPath: book.file).deletingLastPathComponent()).path
                let bids = try BidFile.load(file: path).bids
                do {
                    try OrderBook(priceCap: run.priceCap, bids: bids).validate()
                } catch {
                    throw book.error("\(path): \(error.description) (the rig's price cap is \(run.priceCap) $/kWh)")
                }
                var byBidder: [Bids] = []
                for bid in bids {
                    let bidder: String
                    do { bidder = try DeviceID(parsing: bid.id).house } catch {
                        throw book.error("\(path): bid id \"\(bid.id)\" names no bidder: expected BIDDER/DEVICE")
                    }
                    guard !reserved.contains(bidder) else {
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
                let generator = SyntheticBidders(seed: try fields["seed"].map { value throws(FileError) in UInt64(try value.int(in: 0...Int.max)) } ?? seed)
                let count = try generated.int(in: 1...10_000)  // GRIDRIG_HOUSEHOLDS holds at most 128 kB
                if let taken = (0..<count).lazy.map(SyntheticBidders.name).first(where: reserved.contains) {
                    throw generated.error("generated bidders are named s1, s2, …, and \(taken) is a house or participant of the run")
                }
                source = .generated(generator, count: count)
            default:
                throw item.error("a scripted entry has either 'book: FILE' or 'generated: N' (bidders)")
            }
            var numbers: Set<Int>?
            if let list = fields["intervals"] {
                numbers = []
                for number in try list.list() { numbers!.insert(try number.int(in: 1...intervals)) }
            }
            entries.append(Entry(source: source, intervals: numbers, moment: try fields["at"]?.choice(Moment.self) ?? .opening,
                                 repeats: try fields["repeat"]?.int(in: 1...1_000) ?? 1))
        }
        guard !entries.isEmpty else { throw value.error("expected at least one scripted entry") }
        return BidScript(entries: entries, start: start, interval: run.interval)
    }
}
