import Agents
import Market
import Messages
import Physics
import Testing

@Suite("The market takes a household's bids")
struct MarketAcceptTests {
    func bids(_ ids: [String]) -> Bids {
        Bids(house: "h2", bids: ids.map { WireBid(id: $0, side: .buy, price: 0.2, quantity: 1) })
    }

    @Test("Bids under the sender's own name are taken, as the market core reads them")
    func own() throws {
        let taken = try MarketAgent.accept(bids(["h2/ev", "h2/base-load"]), from: "h2", priceCap: 1)
        #expect(taken.map(\.id) == ["h2/ev", "h2/base-load"])
    }

    @Test("A bid under another house's name, or under no device, is refused naming it", arguments: ["h3/ev", "h2/", "h2", "h20/ev", "/ev"])
    func others(id: String) {
        let refusal = #expect(throws: MarketAgent.BidRefusal.self) { try MarketAgent.accept(bids(["h2/ev", id]), from: "h2", priceCap: 1) }
        #expect(refusal?.detail == "bids[1].id \"\(id)\" is not one of \"h2/...\"")
    }

    @Test("Bids for another house than the sender's are refused")
    func sender() {
        let refusal = #expect(throws: MarketAgent.BidRefusal.self) { try MarketAgent.accept(bids(["h2/ev"]), from: "h3", priceCap: 1) }
        #expect(refusal?.detail == "bids for house \"h2\" sent by \"h3\"")
    }
}
