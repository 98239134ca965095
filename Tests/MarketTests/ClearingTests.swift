import Market
import Testing

private func buy(_ id: String, _ price: Double, _ quantity: Double) -> Bid { Bid(id: id, side: .buy, price: price, quantity: quantity) }
private func sell(_ id: String, _ price: Double, _ quantity: Double) -> Bid { Bid(id: id, side: .sell, price: price, quantity: quantity) }

/// Awarded kW by "side:id", for comparing with hand-computed answers.
private func awarded(_ clearing: Clearing) -> [String: Double] {
    Dictionary(uniqueKeysWithValues: clearing.awards.map { ("\($0.bid.side.rawValue):\($0.bid.id)", $0.quantity) })
}

private func cleared(_ bids: [Bid], cap: Double = 1.0) throws -> Clearing {
    let book = OrderBook(priceCap: cap, bids: bids)
    try book.validate()
    let clearing = book.clear()
    #expect(clearing.violations(of: book).isEmpty, "\(clearing.violations(of: book))")
    return clearing
}

@Suite("Clearing: every case of docs/MARKET.md, hand-computed")
struct ClearingCaseTests {
    @Test("A partly filled buyer sets the price (marginal buyer)")
    func marginalBuyer() throws {
        // Walk: S1 whole (3 < 5), A whole (5 < 7), then S2 whole with B partly filled: Q = 7 at B's 0.20.
        let clearing = try cleared([buy("A", 0.30, 5), buy("B", 0.20, 5), sell("S1", 0.05, 3), sell("S2", 0.10, 4)])
        #expect(clearing.type == .buyer)
        #expect(clearing.price == 0.20)
        #expect(clearing.quantity == 7)
        #expect(awarded(clearing) == ["buy:A": 5, "buy:B": 2, "sell:S1": 3, "sell:S2": 4])
        #expect(clearing.marginalQuantity == 2)
        #expect(clearing.marginalFraction == 0.4)
    }

    @Test("A partly filled seller sets the price (marginal seller)")
    func marginalSeller() throws {
        let clearing = try cleared([buy("A", 0.30, 4), sell("S1", 0.05, 3), sell("S2", 0.10, 4), sell("S3", 0.15, 2)])
        #expect(clearing.type == .seller)
        #expect(clearing.price == 0.10)
        #expect(clearing.quantity == 4)
        #expect(awarded(clearing) == ["buy:A": 4, "sell:S1": 3, "sell:S2": 1, "sell:S3": 0])
        #expect(clearing.marginalQuantity == 1)
        #expect(clearing.marginalFraction == 0.25)
    }

    @Test("Curves meeting on a vertical segment clear at the midpoint of the last accepted prices")
    func verticalMidpoint() throws {
        let clearing = try cleared([buy("A", 0.30, 5), buy("B", 0.10, 2), sell("S1", 0.05, 5), sell("S2", 0.40, 3)])
        #expect(clearing.type == .price)
        #expect(clearing.price == 0.175)
        #expect(clearing.quantity == 5)
        #expect(awarded(clearing) == ["buy:A": 5, "buy:B": 0, "sell:S1": 5, "sell:S2": 0])
        #expect(clearing.marginalQuantity == 0 && clearing.marginalFraction == 0)
    }

    @Test("Both sides used up on a vertical segment: the midpoint, or the common price")
    func verticalExhausted() throws {
        let gap = try cleared([buy("A", 0.30, 5), sell("S", 0.10, 5)])
        #expect(gap.type == .price && gap.price == 0.20 && gap.quantity == 5)
        let meet = try cleared([buy("A", 0.20, 5), sell("S", 0.20, 5)])
        #expect(meet.type == .exact && meet.price == 0.20 && meet.quantity == 5)
    }

    @Test("A midpoint below the next rejected buyer moves to 0.0001 above it")
    func pushedPastRejectedBuyer() throws {
        let clearing = try cleared([buy("A", 0.30, 5), buy("B", 0.25, 2), sell("S1", 0.05, 5), sell("S2", 0.40, 3)])
        #expect(clearing.type == .price)
        #expect(clearing.price == 0.25 + 0.0001)
        #expect(awarded(clearing) == ["buy:A": 5, "buy:B": 0, "sell:S1": 5, "sell:S2": 0])
    }

    @Test("A midpoint above the next rejected seller moves to 0.0001 below it")
    func pushedPastRejectedSeller() throws {
        let clearing = try cleared([buy("A", 0.30, 5), sell("S1", 0.05, 5), sell("S2", 0.12, 3)])
        #expect(clearing.type == .price)
        #expect(clearing.price == 0.12 - 0.0001)
        #expect(awarded(clearing) == ["buy:A": 5, "sell:S1": 5, "sell:S2": 0])
    }

    @Test("The offset never crosses a last accepted bid: the price stays within [last sell, last buy]")
    func offsetKeptWithinAcceptedPrices() throws {
        // The next buyer is 0.00005 under the last accepted one; 0.0001 above it would reject A.
        let clearing = try cleared([buy("A", 0.30, 5), buy("B", 0.29995, 2), sell("S1", 0.05, 5), sell("S2", 0.40, 3)])
        #expect(clearing.price == 0.30)
        #expect(awarded(clearing) == ["buy:A": 5, "buy:B": 0, "sell:S1": 5, "sell:S2": 0])
    }

    @Test("A next buyer at the last accepted buy price sets the price; the buyers there share pro rata")
    func nextBuyerAtLastPrice() throws {
        let clearing = try cleared([buy("A", 0.30, 5), buy("B", 0.30, 2), sell("S", 0.10, 5)])
        #expect(clearing.type == .buyer)
        #expect(clearing.price == 0.30)
        let share: Double = 5.0 / 7
        #expect(awarded(clearing) == ["buy:A": 5 * share, "buy:B": 2 * share, "sell:S": 5])
        #expect(clearing.marginalQuantity == 5)
        #expect(clearing.marginalFraction == 5.0 / 7)
    }

    @Test("A next seller at the last accepted sell price sets the price; the sellers there share pro rata")
    func nextSellerAtLastPrice() throws {
        let clearing = try cleared([buy("A", 0.30, 5), sell("S1", 0.10, 5), sell("S2", 0.10, 3)])
        #expect(clearing.type == .seller)
        #expect(clearing.price == 0.10)
        let share: Double = 5.0 / 8
        #expect(awarded(clearing) == ["buy:A": 5, "sell:S1": 5 * share, "sell:S2": 3 * share])
    }

    @Test("Equal prices on both sides clear at that price; tied buyers share pro rata, not in id order")
    func equalPricesBothSides() throws {
        let clearing = try cleared([buy("A", 0.20, 4), buy("B", 0.20, 4), sell("S", 0.20, 6)])
        #expect(clearing.type == .buyer)
        #expect(clearing.price == 0.20)
        #expect(clearing.quantity == 6)
        #expect(awarded(clearing) == ["buy:A": 3, "buy:B": 3, "sell:S": 6])
        #expect(clearing.marginalFraction == 0.75)
    }

    @Test("No trade: the best bid is below the best offer, and the price is their midpoint")
    func noTrade() throws {
        let clearing = try cleared([buy("A", 0.10, 5), buy("B", 0.05, 1), sell("S", 0.20, 5)])
        #expect(clearing.type == .null)
        #expect(clearing.price == (0.10 + 0.20) / 2)  // in doubles, as docs/MARKET.md computes it
        #expect(clearing.quantity == 0)
        #expect(clearing.awards.allSatisfy { $0.quantity == 0 })
    }

    @Test("One side empty: nothing trades; the missing side counts as a buyer at 0 or a seller at the cap")
    func oneSideEmpty() throws {
        let buyersOnly = try cleared([buy("A", 0.10, 5)])
        #expect(buyersOnly.type == .null && buyersOnly.quantity == 0 && buyersOnly.price == 0.55)
        let sellersOnly = try cleared([sell("S", 0.20, 5)])
        #expect(sellersOnly.type == .null && sellersOnly.quantity == 0 && sellersOnly.price == 0.10)
        let empty = try cleared([])
        #expect(empty.type == .null && empty.quantity == 0 && empty.price == 0.5 && empty.awards.isEmpty)
    }

    @Test("Supply short of unresponsive demand: the cap, a failure, and the unserved demand reported")
    func shortage() throws {
        let clearing = try cleared([buy("U1", 1.0, 5), buy("U2", 1.0, 3), buy("R", 0.5, 2), sell("S", 0.1, 4)])
        #expect(clearing.type == .failure)
        #expect(clearing.price == 1.0)
        #expect(clearing.quantity == 4)
        #expect(clearing.unservedDemand == 4)
        #expect(awarded(clearing) == ["buy:U1": 2.5, "buy:U2": 1.5, "buy:R": 0, "sell:S": 4])
        #expect(clearing.marginalQuantity == 4 && clearing.marginalFraction == 0.5)

        let noSupply = try cleared([buy("U", 1.0, 3)])
        #expect(noSupply.type == .failure && noSupply.price == 1.0 && noSupply.quantity == 0 && noSupply.unservedDemand == 3)
    }

    @Test("All demand at the cap with enough supply: a marginal seller sets the price, nothing unserved")
    func allBidsAtTheCap() throws {
        let clearing = try cleared([buy("U1", 1.0, 2), buy("U2", 1.0, 3), sell("S", 0.1, 10)])
        #expect(clearing.type == .seller)
        #expect(clearing.price == 0.1)
        #expect(clearing.quantity == 5)
        #expect(clearing.unservedDemand == 0)
        #expect(awarded(clearing) == ["buy:U1": 2, "buy:U2": 3, "sell:S": 5])
    }

    @Test("Awards come in the book's order: award i is what bid i won")
    func bookOrder() throws {
        let bids = [sell("z", 0.2, 1), buy("b", 0.5, 1), sell("y", 0.1, 1), buy("a", 0.5, 1), buy("c", 0.7, 1)]
        #expect(try cleared(bids).awards.map(\.bid) == bids)
    }
}

@Suite("Order book validation")
struct OrderBookValidationTests {
    @Test("A bad bid is refused, naming its side, position, id and field",
          arguments: [
            (Bid(id: "h1/ev", side: .buy, price: 0.2, quantity: -1), "buyers[1] (id \"h1/ev\").quantity: expected a finite quantity > 0 kW, found -1.0"),
            (Bid(id: "h1/ev", side: .buy, price: 0.2, quantity: .infinity), "buyers[1] (id \"h1/ev\").quantity: expected a finite quantity > 0 kW, found inf"),
            (Bid(id: "h1/ev", side: .buy, price: 0, quantity: 1), "buyers[1] (id \"h1/ev\").price: expected a buy price in (0, 1.0] $/kWh, found 0.0"),
            (Bid(id: "h1/ev", side: .buy, price: 1.5, quantity: 1), "buyers[1] (id \"h1/ev\").price: expected a buy price in (0, 1.0] $/kWh, found 1.5"),
            (Bid(id: "h1/pv", side: .sell, price: 1.0, quantity: 1), "sellers[0] (id \"h1/pv\").price: expected a sell price in [0, 1.0) $/kWh, found 1.0"),
            (Bid(id: "h1/pv", side: .sell, price: .nan, quantity: 1), "sellers[0] (id \"h1/pv\").price: expected a sell price in [0, 1.0) $/kWh, found nan"),
            (Bid(id: "", side: .sell, price: 0.1, quantity: 1), "sellers[0] (id \"\").id: expected a non-empty id, found \"\""),
            (Bid(id: "h0/base-load", side: .buy, price: 0.3, quantity: 1), "buyers[1] (id \"h0/base-load\").id: expected an id used once per side, found a second buy bid with this id"),
          ])
    func badBid(bid: Bid, message: String) {
        let book = OrderBook(priceCap: 1.0, bids: [Bid(id: "h0/base-load", side: .buy, price: 1.0, quantity: 1), bid])
        #expect(throws: OrderBookError.self) { try book.validate() }
        do { try book.validate() } catch { #expect(error.description == message) }
    }

    @Test("Among many bids the first fault in book order is named: an id used again (as String equality has it), or another field",
          arguments: [("h7/d1", "h7/d1"), ("K", "\u{212A}"), ("h\u{E9}/ev", "he\u{301}/ev")])
    func firstFaultAmongMany(first: String, again: String) throws {
        let bids = (0..<10_000).map { Bid(id: "b\($0)", side: .buy, price: 0.5, quantity: 1) } + [Bid(id: first, side: .buy, price: 0.5, quantity: 1)]
        try OrderBook(bids: bids).validate()
        let repeated = Bid(id: again, side: .buy, price: 0.5, quantity: 1), bad = Bid(id: "late", side: .buy, price: 0.5, quantity: -1)
        try OrderBook(bids: bids + [Bid(id: again, side: .sell, price: 0.5, quantity: 1)]).validate()
        #expect(throws: OrderBookError(bid: .init(side: .buy, index: 10_001, id: again), field: "id", expected: "an id used once per side",
                                       found: "a second buy bid with this id")) { try OrderBook(bids: bids + [repeated, bad]).validate() }
        #expect(throws: OrderBookError(bid: .init(side: .buy, index: 10_001, id: "late"), field: "quantity", expected: "a finite quantity > 0 kW",
                                       found: "-1.0")) { try OrderBook(bids: bids + [bad, repeated]).validate() }
    }

    @Test("One id may buy and sell (a battery), and a bad cap is refused")
    func sidesAndCap() throws {
        try OrderBook(bids: [Bid(id: "h1/battery", side: .buy, price: 0.1, quantity: 1),
                             Bid(id: "h1/battery", side: .sell, price: 0.3, quantity: 1)]).validate()
        #expect(throws: OrderBookError(bid: nil, field: "price_cap", expected: "a finite price > 0", found: "0.0")) {
            try OrderBook(priceCap: 0).validate()
        }
    }
}
