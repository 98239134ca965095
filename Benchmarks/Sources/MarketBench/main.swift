// The market core's speed (docs/PERFORMANCE.md). Usage:
//   MarketBench [rounds] [largest size]   clearing time against the number of bids: the median of several
//                                         clearings per size, and bids/s
//   MarketBench floor [rounds] [bids]     OrderBook.clear() against a plain C++ sort-and-walk of the same bids,
//                                         alternating round by round
//   MarketBench book BIDS FILE            writes a bids file of `gridrig market clear` with the same random bids
import ClearFloor
import Foundation
import Market

/// SplitMix64: the same seed gives the same books on every machine.
struct Generator: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Half buyers, half sellers; a tenth of the demand unresponsive; prices to 0.0001 $/kWh, so ties occur.
func randomBook(bids count: Int, seed: UInt64) -> OrderBook {
    var rng = Generator(state: seed)
    var bids: [Bid] = []
    bids.reserveCapacity(count)
    for k in 0..<count {
        let side: Side = k % 2 == 0 ? .buy : .sell
        var price = (Double.random(in: 0.0001..<0.9999, using: &rng) * 10_000).rounded() / 10_000
        if side == .buy, k % 20 == 0 { price = 1.0 }
        bids.append(Bid(id: "h\(k / 4)/d\(k % 4)", side: side, price: price, quantity: Double.random(in: 0.1...11, using: &rng)))
    }
    bids.shuffle(using: &rng)
    return OrderBook(priceCap: 1.0, bids: bids)
}

let clock = ContinuousClock()

func milliseconds(_ body: () -> Void) -> Double {
    let start = clock.now
    body()
    return (clock.now - start) / .milliseconds(1)
}

func median(_ times: [Double]) -> Double { times.sorted()[times.count / 2] }

/// Clearing time from 1,000 bids up to `largest`, ten times more each step.
func curve(rounds: Int, largest: Int) throws {
    print("bids       median ms   min ms   bids/s      ms per n·log2(n) × 1e6")
    var size = 1_000
    while size <= largest {
        let book = randomBook(bids: size, seed: UInt64(size))
        try book.validate()
        var times: [Double] = []
        var checksum = 0.0
        for _ in 0..<rounds {
            times.append(milliseconds { let clearing = book.clear(); checksum += clearing.price + clearing.quantity })
        }
        let middle = median(times), perNLogN = middle / (Double(size) * log2(Double(size))) * 1e6
        print(String(format: "%-10d %9.2f %8.2f %10.0f  %8.3f", size, middle, times.min()!, Double(size) / (middle / 1000), perNLogN),
              checksum > 0 ? "" : "!")
        size *= 10
    }
}

/// OrderBook.clear() and the C++ floor on the same bids, one after the other in every round.
func againstFloor(rounds: Int, bids count: Int) throws {
    let book = randomBook(bids: count, seed: UInt64(count))
    try book.validate()
    let prices = book.bids.map(\.price), quantities = book.bids.map(\.quantity)
    let buys = book.bids.map { $0.side == .buy ? UInt8(1) : 0 }
    var ours: [Double] = [], floors: [Double] = []
    var cleared = book.clear(), floorQuantity = 0.0, floorPrice = 0.0
    for _ in 0..<rounds {
        ours.append(milliseconds { cleared = book.clear() })
        floors.append(milliseconds { floorPrice = clear_floor(prices, quantities, buys, count, &floorQuantity) })
    }
    print(String(format: "%d bids, %d rounds: clear() median %.1f ms (min %.1f), C++ sort-and-walk floor median %.1f ms (min %.1f): %.2fx",
                 count, rounds, median(ours), ours.min()!, median(floors), floors.min()!, median(ours) / median(floors)))
    print("clear(): \(cleared.quantity) kW at \(cleared.price) $/kWh (\(cleared.type.rawValue)); floor: \(floorQuantity) kW at \(floorPrice) $/kWh")
}

/// A bids file (docs/MARKET.md) of `count` random bids, quantities in whole 1/10,000 kW as GridRig's agents bid.
func book(bids count: Int, file: String) throws {
    let bids = randomBook(bids: count, seed: UInt64(count)).bids.map { bid in
        var bid = bid
        bid.quantity = (bid.quantity * 10_000).rounded() / 10_000
        return bid
    }
    var text = "{\"price_cap\": 1.0"
    for (key, side) in [("buyers", Side.buy), ("sellers", .sell)] {
        text += ",\n \"\(key)\": ["
        text += bids.filter { $0.side == side }.map { "\n  {\"id\": \"\($0.id)\", \"price\": \($0.price), \"quantity\": \($0.quantity)}" }.joined(separator: ",")
        text += "]"
    }
    try (text + "}\n").write(toFile: file, atomically: true, encoding: .utf8)
}

let arguments = Array(CommandLine.arguments.dropFirst())
func argument(_ index: Int, default value: Int) -> Int { index < arguments.count ? Int(arguments[index]) ?? value : value }
switch arguments.first {
case "floor": try againstFloor(rounds: argument(1, default: 9), bids: argument(2, default: 1_000_000))
case "book" where arguments.count == 3: try book(bids: argument(1, default: 1_000_000), file: arguments[2])
default: try curve(rounds: argument(0, default: 9), largest: argument(1, default: 1_000_000))
}
