import Agents
import Foundation
public import Market
public import Messages

/// Bids the conductor sends in the names of scripted bidders (docs/RIGS.md, "Scripted bids"): bidders with no
/// devices, whose books a case sets exactly, so that a market meets the edges a neighborhood rarely makes.
public struct BidScript: Sendable {
    /// When in an interval a script's bids go out.
    public enum Moment: String, Sendable, CaseIterable {
        /// Right after the interval's opening.
        case opening
        /// The instant before the gate closes, on the same connection as the gate.
        case gate
    }

    public struct Entry: Sendable {
        public enum Source: Sendable {
            /// A book file's bids by bidder, in the order the bidders first appear: the same messages in every interval
            /// the entry is for.
            case book([Bids])
            /// `count` households of `gridrig stress`'s seeded generator, drawn anew each interval.
            case generated(SyntheticBidders, count: Int)
        }

        public var source: Source
        /// Interval numbers counted from the rig's start (1 is the first); nil: every interval.
        public var intervals: Set<Int>?
        public var moment: Moment
        /// How many times each bidder's bids message is sent (a flood when more than the market allows).
        public var repeats: Int
    }

    public var entries: [Entry]
    /// The rig's start and interval length, which turn an interval's start time back into its number, so that a
    /// case narrowed to a later window (a wall-clock edition) keeps each script on its own interval.
    public var start: Double
    public var interval: Double

    /// Every scripted bidder, in order of first appearance: households of the market, as the grid is.
    public var bidders: [String] {
        var seen: Set<String> = []
        return entries.flatMap { entry in
            switch entry.source {
            case .book(let messages): messages.map(\.house)
            case .generated(_, let count): (0..<count).map(SyntheticBidders.name)
            }
        }.filter { seen.insert($0).inserted }
    }

    /// The bids messages due at `moment` of the interval that starts at `time`: one per bidder of each entry, in
    /// the entry's order, each repeated as the entry says.
    func messages(at moment: Moment, intervalStart time: Double, priceCap: Double) -> [Bids] {
        let number = Int(((time - start) / interval).rounded()) + 1
        var messages: [Bids] = []
        for entry in entries where entry.moment == moment && (entry.intervals?.contains(number) ?? true) {
            let due: [Bids] = switch entry.source {
            case .book(let messages): messages
            case .generated(let generator, let count):
                (0..<count).map { index in
                    Bids(house: SyntheticBidders.name(index),
                         bids: generator.bids(household: index, devices: generator.devices(of: index), interval: number, time: time, length: interval,
                                              priceCap: priceCap).map(WireBid.init))
                }
            }
            for _ in 0..<entry.repeats { messages += due }
        }
        return messages
    }

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
