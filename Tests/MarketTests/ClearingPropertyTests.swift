@testable import Market
import Physics
import Testing

/// Random books that hit ties and the cap often: prices on a coarse grid half the time, unresponsive demand a
/// fifth of the time, one side empty now and then.
private func randomBook(_ rng: inout SplitMix64, cap: Double = 1.0) -> OrderBook {
    let coarse = Bool.random(using: &rng)
    func price(_ side: Side) -> Double {
        if side == .buy, Int.random(in: 0..<5, using: &rng) == 0 { return cap }
        let raw = coarse ? Double(Int.random(in: 1...9, using: &rng)) / 10 : Double.random(in: 0.0001..<cap, using: &rng)
        return side == .buy ? min(max(raw, 0.0001), cap) : min(raw, cap - 0.0001)
    }
    func quantity() -> Double { coarse ? Double(Int.random(in: 1...5, using: &rng)) : Double.random(in: 0.01...10, using: &rng) }
    var bids: [Bid] = []
    for side in Side.allCases {
        for k in 0..<Int.random(in: 0...12, using: &rng) { bids.append(Bid(id: "\(side.rawValue)\(k)", side: side, price: price(side), quantity: quantity())) }
    }
    return OrderBook(priceCap: cap, bids: bids)
}

@Suite("Clearing properties over random books (seeded)")
struct ClearingPropertyTests {
    static let seeds = Array(0..<400 as Range<UInt64>)

    @Test("Supply equals demand, individual rationality and every award adds up", arguments: seeds)
    func invariantsHold(seed: UInt64) throws {
        var rng = SplitMix64(seed: seed)
        let book = randomBook(&rng)
        try book.validate()
        let clearing = book.clear()
        #expect(clearing.violations(of: book).isEmpty, "seed \(seed): \(clearing.violations(of: book))")
        #expect(clearing.awards.count == book.bids.count)
    }

    @Test("Shuffling the submission order changes nothing, bit for bit: price, quantity, type and every award", arguments: seeds)
    func shuffleInvariance(seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        let book = randomBook(&rng)
        var shuffled = book
        shuffled.bids.shuffle(using: &rng)
        var original = book.clear(), reordered = shuffled.clear()
        let key = { (award: Award) in "\(award.bid.side.rawValue):\(award.bid.id)" }
        original.awards.sort { key($0) < key($1) }
        reordered.awards.sort { key($0) < key($1) }
        #expect(reordered == original, "seed \(seed)")
    }

    @Test("The same bids give the same result", arguments: seeds)
    func determinism(seed: UInt64) {
        var first = SplitMix64(seed: seed), second = SplitMix64(seed: seed)
        #expect(randomBook(&first).clear() == randomBook(&second).clear())
    }

    @Test("Adding a buyer never lowers the price; adding a seller never raises it", arguments: seeds)
    func monotonicity(seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        let book = randomBook(&rng)
        let before = book.clear().price
        let extra = randomBook(&rng)
        for added in extra.bids {
            var more = book
            more.bids.append(Bid(id: "added", side: added.side, price: added.price, quantity: added.quantity))
            let after = more.clear().price
            if added.side == .buy {
                #expect(after >= before, "seed \(seed): buyer \(added) lowered \(before) to \(after)")
            } else {
                #expect(after <= before, "seed \(seed): seller \(added) raised \(before) to \(after)")
            }
        }
    }

    @Test("Unserved demand is exactly the unresponsive demand the cleared quantity leaves out", arguments: seeds)
    func unservedDemand(seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        let book = randomBook(&rng)
        let clearing = book.clear()
        let unresponsive = clearing.awards.filter { $0.bid.side == .buy && $0.bid.price == book.priceCap }.reduce(0) { $0 + $1.bid.quantity }
        #expect(clearing.unservedDemand == max(0, unresponsive - clearing.quantity))
        #expect((clearing.type == .failure) == (clearing.unservedDemand > 0))
    }

    @Test("A thousand bids at one price share the quantity pro rata and still add up")
    func largeTie() throws {
        let bids = (0..<1000).map { Bid(id: "b\($0)", side: .buy, price: 0.2, quantity: 0.1 + Double($0 % 7)) }
            + [Bid(id: "s", side: .sell, price: 0.1, quantity: 1234.5)]
        let book = OrderBook(bids: bids)
        try book.validate()
        let clearing = book.clear()
        #expect(clearing.violations(of: book).isEmpty)
        #expect(clearing.price == 0.2 && clearing.type == .buyer)
        let fractions = Set(clearing.awards.filter { $0.bid.side == .buy }.map { ($0.quantity / $0.bid.quantity * 1e9).rounded() })
        #expect(fractions.count == 1)
    }
}

@Suite("Curve order: the bucket sort of a curve against a plain sort")
struct CurveOrderTests {
    /// Prices as books hold them: spread, on a coarse grid (ties), all equal, two values, a range narrower than a
    /// bucket's width, and the edges 0, -0, the smallest subnormal and the cap.
    static let shapes = ["spread", "coarse", "equal", "two", "narrow", "edges"]

    private func steps(_ shape: String, count: Int, _ rng: inout SplitMix64) -> [CurveStep] {
        (0..<count).map { _ in
            let price: Double = switch shape {
            case "spread": Double.random(in: 0.0001...1, using: &rng)
            case "coarse": Double(Int.random(in: 0...20, using: &rng)) / 20
            case "equal": 0.25
            case "two": Bool.random(using: &rng) ? 0.1 : 1.0
            case "narrow": 0.5 + Double(Int.random(in: 0...3, using: &rng)) * 0.5.ulp
            default: [0, -0.0, .leastNonzeroMagnitude, 1.0, 0.5].randomElement(using: &rng)!
            }
            return (price, Bool.random(using: &rng) ? Double(Int.random(in: 1...3, using: &rng)) : Double.random(in: 0.01...10, using: &rng))
        }
    }

    @Test("Buyers' and sellers' orders equal a plain sort's, at every size and shape of prices", arguments: shapes)
    func sameAsSort(shape: String) {
        var rng = SplitMix64(seed: 7)
        for count in [0, 1, 2, 64, 65, 66, 100, 1_000, 5_000] {
            let steps = steps(shape, count: count, &rng)
            let descending: (CurveStep, CurveStep) -> Bool = { $0.price != $1.price ? $0.price > $1.price : $0.quantity < $1.quantity }
            let ascending: (CurveStep, CurveStep) -> Bool = { $0.price != $1.price ? $0.price < $1.price : $0.quantity < $1.quantity }
            for precedes in [descending, ascending] {
                let ours = curveOrder(steps, by: precedes), plain = steps.sorted(by: precedes)
                #expect(ours.count == plain.count)
                #expect(zip(ours, plain).allSatisfy { $0.price == $1.price && $0.quantity == $1.quantity }, "\(shape), \(count) steps")
            }
        }
    }

    @Test("Books of thousands of bids clear bit for bit the same in any order, and keep every invariant", arguments: 0..<20 as Range<UInt64>)
    func largeBooks(seed: UInt64) throws {
        var rng = SplitMix64(seed: seed)
        let coarse = Bool.random(using: &rng)
        let bids = (0..<Int.random(in: 100...4_000, using: &rng)).map { k in
            let side: Side = k % 2 == 0 ? .buy : .sell
            var price = coarse ? Double(Int.random(in: 1...19, using: &rng)) / 20 : Double.random(in: 0.0001..<1, using: &rng)
            if side == .buy, k % 10 == 0 { price = 1.0 }
            return Bid(id: "h\(k / 2)", side: side, price: price, quantity: Double.random(in: 0.1...11, using: &rng))
        }
        let book = OrderBook(bids: bids), shuffled = OrderBook(bids: bids.shuffled(using: &rng))
        try book.validate()
        let clearing = book.clear(), again = shuffled.clear()
        #expect(clearing.violations(of: book).isEmpty)
        #expect((clearing.price, clearing.quantity, clearing.type) == (again.price, again.quantity, again.type))
        let awards = Dictionary(uniqueKeysWithValues: again.awards.map { (BidKey(id: $0.bid.id, side: $0.bid.side), $0.quantity) })
        #expect(clearing.awards.allSatisfy { awards[BidKey(id: $0.bid.id, side: $0.bid.side)] == $0.quantity })
    }
}
