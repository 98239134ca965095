/// Which way a bid trades: a buyer takes energy, a seller gives it.
public enum Side: String, Sendable, Hashable, CaseIterable {
    case buy, sell
}

/// One step of a curve: the most a buyer pays, or the least a seller accepts, for a quantity over one interval.
///
/// Prices are $/kWh; quantities are kW held for the interval (energy = quantity × interval).
/// A buy bid at exactly the price cap is unresponsive (price-taking) demand.
public struct Bid: Sendable, Hashable {
    /// The bidder, unique per side within one order book: "house/device" for GridRig's agents (e.g. "h1/ev").
    public var id: String
    public var side: Side
    public var price: Double
    public var quantity: Double

    public init(id: String, side: Side, price: Double, quantity: Double) {
        self.id = id
        self.side = side
        self.price = price
        self.quantity = quantity
    }
}

/// The bids of one interval and the market's price cap.
public struct OrderBook: Sendable, Hashable {
    /// The highest price the market may clear at, $/kWh; unresponsive demand bids exactly this.
    public var priceCap: Double
    public var bids: [Bid]

    public init(priceCap: Double = 1.0, bids: [Bid] = []) {
        self.priceCap = priceCap
        self.bids = bids
    }

    /// Checks every rule of an acceptable book; the first broken one is thrown, naming the bid and field.
    ///
    /// Quantities are finite and > 0; buy prices lie in (0, cap], sell prices in [0, cap); an id appears at most
    /// once per side (a battery may both buy and sell under one id); the cap is finite and > 0.
    public func validate() throws(OrderBookError) {
        guard priceCap.isFinite, priceCap > 0 else {
            throw OrderBookError(bid: nil, field: "price_cap", expected: "a finite price > 0", found: "\(priceCap)")
        }
        let repeated = firstRepeatedID()
        var positions = (buy: 0, sell: 0)
        for (index, bid) in bids.enumerated() {
            let position = bid.side == .buy ? positions.buy : positions.sell
            if bid.side == .buy { positions.buy += 1 } else { positions.sell += 1 }
            let at = OrderBookError.Location(side: bid.side, index: position, id: bid.id)
            guard !bid.id.isEmpty else { throw OrderBookError(bid: at, field: "id", expected: "a non-empty id", found: "\"\"") }
            guard bid.quantity.isFinite, bid.quantity > 0 else {
                throw OrderBookError(bid: at, field: "quantity", expected: "a finite quantity > 0 kW", found: "\(bid.quantity)")
            }
            guard bid.price.isFinite, bid.side == .buy ? bid.price > 0 && bid.price <= priceCap : bid.price >= 0 && bid.price < priceCap else {
                let range = bid.side == .buy ? "(0, \(priceCap)]" : "[0, \(priceCap))"
                throw OrderBookError(bid: at, field: "price", expected: "a \(bid.side.rawValue) price in \(range) $/kWh", found: "\(bid.price)")
            }
            guard index != repeated else {
                throw OrderBookError(bid: at, field: "id", expected: "an id used once per side", found: "a second \(bid.side.rawValue) bid with this id")
            }
        }
    }
}

extension OrderBook {
    /// The position of the first bid whose id and side an earlier bid has.
    fileprivate func firstRepeatedID() -> Int? {
        if let hashes = IDHashes(bids) { return hashes.firstRepeated(in: bids) }
        var seen: Set<BidKey> = []
        return bids.firstIndex { !seen.insert(BidKey(id: $0.id, side: $0.side)).inserted }
    }
}

/// Finds an id used twice on one side from hashes of the ids' bytes: a Set<BidKey> spent most of validate()'s time
/// on a million bids, seeding a hasher per bid and missing the cache per insert. The bids' hashes are split by
/// their top bits into parts of a few thousand, in book order, and each part is checked in a table that stays in
/// the cache. Bytes equal ids only where every id is ASCII (String equality is canonical: "\u{212A}" == "K"), so
/// it serves those books.
private struct IDHashes {
    private var hashes: [UInt64]

    init?(_ bids: [Bid]) {
        hashes = []
        hashes.reserveCapacity(bids.count)
        for bid in bids {
            var hash: UInt64 = bid.side == .buy ? 0xCBF2_9CE4_8422_2325 : 0x8422_2325_CBF2_9CE4  // FNV-1a
            for byte in bid.id.utf8 {
                guard byte < 0x80 else { return nil }
                hash = (hash ^ UInt64(byte)) &* 0x100_0000_01B3
            }
            hash = (hash ^ (hash >> 33)) &* 0xFF51_AFD7_ED55_8CCD  // mixes every bit into the top ones (the part)
            hash = (hash ^ (hash >> 33)) &* 0xC4CE_B9FE_1A85_EC53
            hashes.append(hash ^ (hash >> 33))
        }
    }

    func firstRepeated(in bids: [Bid]) -> Int? {
        var partBits = 0
        while bids.count >> partBits > 2_048 { partBits += 1 }
        let shift = UInt64(64 - partBits)
        func part(_ hash: UInt64) -> Int { partBits == 0 ? 0 : Int(hash >> shift) }
        var starts = [Int](repeating: 0, count: (1 << partBits) + 1)
        for hash in hashes { starts[part(hash) + 1] += 1 }
        for k in 0..<(1 << partBits) { starts[k + 1] += starts[k] }
        var next = starts, members = [(hash: UInt64, index: Int)](repeating: (0, 0), count: bids.count)
        for (index, hash) in hashes.enumerated() {
            members[next[part(hash)]] = (hash, index)
            next[part(hash)] += 1
        }
        var first: Int?
        var slots: [Int] = []  // positions in `members`
        for k in 0..<(1 << partBits) {
            let count = starts[k + 1] - starts[k]
            var size = 8
            while size < 2 * count { size *= 2 }
            slots.removeAll(keepingCapacity: true)
            slots.append(contentsOf: repeatElement(-1, count: size))
            for position in starts[k]..<starts[k + 1] {
                let (hash, index) = members[position]
                if let first, index >= first { break }  // the part is in book order
                var slot = Int(truncatingIfNeeded: hash) & (size - 1)
                while slots[slot] >= 0 {
                    let other = members[slots[slot]]
                    if other.hash == hash, bids[other.index].side == bids[index].side, bids[other.index].id == bids[index].id {
                        first = index
                        break
                    }
                    slot = (slot + 1) & (size - 1)
                }
                slots[slot] = position
            }
        }
        return first
    }
}

/// A bid's identity in a book: its bidder and side.
public struct BidKey: Sendable, Hashable {
    public var id: String
    public var side: Side

    public init(id: String, side: Side) {
        self.id = id
        self.side = side
    }
}

/// A book the market refuses: which bid (by side, position and id), which field, what was expected and found.
public struct OrderBookError: Error, Sendable, Equatable, CustomStringConvertible {
    public struct Location: Sendable, Equatable {
        public var side: Side
        /// Position among the bids of its side, from 0, as a bids file lists them.
        public var index: Int
        public var id: String

        public init(side: Side, index: Int, id: String) {
            self.side = side
            self.index = index
            self.id = id
        }
    }

    /// nil when the fault is the book's own (its price cap).
    public var bid: Location?
    public var field: String
    public var expected: String
    public var found: String

    public init(bid: Location?, field: String, expected: String, found: String) {
        self.bid = bid
        self.field = field
        self.expected = expected
        self.found = found
    }

    public var description: String {
        let place = bid.map { "\($0.side == .buy ? "buyers" : "sellers")[\($0.index)] (id \"\($0.id)\").\(field)" } ?? field
        return "\(place): expected \(expected), found \(found)"
    }
}
