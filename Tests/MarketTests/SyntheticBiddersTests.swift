import Market
import Physics
import Testing

@Suite("Synthetic bidders")
struct SyntheticBiddersTests {
    @Test("A synthetic household's name gives back its index", arguments: [0, 1, 9, 9_999])
    func names(index: Int) {
        #expect(SyntheticBidders.index(of: SyntheticBidders.name(index).name) == index)
    }

    @Test("A name that is not a synthetic household's gives none", arguments: ["h1", "s", "s0", "s01", "s+5", "s-1", "S1", "s1/pv", ""])
    func others(name: String) {
        #expect(SyntheticBidders.index(of: name) == nil)
    }

    @Test("The same seed, household and interval give the same bids; another interval other bids")
    func seeded() {
        let bidders = SyntheticBidders(seed: 7), devices = bidders.devices(of: 3)
        func bids(_ interval: Int) -> [Bid] {
            bidders.bids(household: 3, devices: devices, interval: interval, time: 12 * 3600, length: 300, priceCap: 1)
        }
        #expect(bids(5) == bids(5))
        #expect(bids(5) != bids(6))
        #expect(bids(5).allSatisfy { $0.id.hasPrefix("s4/") })
    }
}
