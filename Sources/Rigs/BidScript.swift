import Agents
import Foundation
public import Market
public import Messages
public import Physics

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

        package init(source: Source, intervals: Set<Int>?, moment: Moment, repeats: Int) {
            (self.source, self.intervals, self.moment, self.repeats) = (source, intervals, moment, repeats)
        }
    }

    public var entries: [Entry]
    /// The rig's start and interval length, which turn an interval's start time back into its number, so that a
    /// case narrowed to a later window (a wall-clock edition) keeps each script on its own interval.
    public var start: Double
    public var interval: Double

    package init(entries: [Entry], start: Double, interval: Double) {
        (self.entries, self.start, self.interval) = (entries, start, interval)
    }

    /// Every scripted bidder, in order of first appearance: households of the market, as the grid is.
    public var bidders: [HouseID] {
        var seen: Set<HouseID> = []
        return entries.flatMap { entry in
            switch entry.source {
            case .book(let messages): messages.map(\.house)
            case .generated(_, let count): (0..<count).map(SyntheticBidders.name)
            }
        }.filter { seen.insert($0).inserted }
    }

    /// The bids messages due at `moment` of the interval that starts at `time`: one per bidder of each entry, in
    /// the entry's order, each repeated as the entry says.
    package func messages(at moment: Moment, intervalStart time: Double, priceCap: Double) -> [Bids] {
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
}
