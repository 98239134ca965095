// Clearing time against the number of bids (docs/PERFORMANCE.md): random bids in random order, the median of
// several clearings per size, and bids/s. Usage: MarketBench [rounds] [largest size].
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

let arguments = CommandLine.arguments
let rounds = arguments.count > 1 ? Int(arguments[1]) ?? 9 : 9
let largest = arguments.count > 2 ? Int(arguments[2]) ?? 1_000_000 : 1_000_000
let clock = ContinuousClock()
print("bids       median ms   min ms   bids/s      ms per n·log2(n) × 1e6")
var size = 1_000
while size <= largest {
    let book = randomBook(bids: size, seed: UInt64(size))
    try book.validate()
    var times: [Double] = []
    var checksum = 0.0
    for _ in 0..<rounds {
        let start = clock.now
        let clearing = book.clear()
        times.append((clock.now - start) / .milliseconds(1))
        checksum += clearing.price + clearing.quantity
    }
    times.sort()
    let median = times[times.count / 2]
    let perNLogN = median / (Double(size) * log2(Double(size))) * 1e6
    print(String(format: "%-10d %9.2f %8.2f %10.0f  %8.3f", size, median, times[0], Double(size) / (median / 1000), perNLogN),
          checksum > 0 ? "" : "!")
    size *= 10
}
