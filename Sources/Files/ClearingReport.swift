public import Market
import Messages

/// How `gridrig market clear` shows a clearing: JSON for machines (docs/MARKET.md), a table for people.
public enum ClearingReport {
    /// One JSON object: the price, quantity, type, marginal quantity and fraction, unserved demand, and one award
    /// per bid in the order of the bids file (buyers, then sellers), as UTF-8 handed to `write` a megabyte at a
    /// time (a million awards are over 100 MB of text). Keys are written in that order; numbers are the shortest
    /// text that reads back as the same double.
    public static func json(_ clearing: Clearing, write: ([UInt8]) throws -> Void) rethrows {
        let chunk = 1 << 20
        var text: [UInt8] = []
        text.reserveCapacity(chunk + 4_096)
        // Straight appends to `text`: a local function that captured it paid a dynamic exclusivity check per call.
        put("{\n  \"price\": ", clearing.price, &text)
        put(",\n  \"quantity\": ", clearing.quantity, &text)
        put(",\n  \"type\": ", &text)
        JSONWriter.appendQuoted(clearing.type.rawValue, to: &text)
        put(",\n  \"marginal_quantity\": ", clearing.marginalQuantity, &text)
        put(",\n  \"marginal_fraction\": ", clearing.marginalFraction, &text)
        put(",\n  \"unserved_demand\": ", clearing.unservedDemand, &text)
        put(",\n  \"awards\": [", &text)
        for (k, award) in clearing.awards.enumerated() {
            let bid = award.bid
            put(k == 0 ? "\n    {\"id\": " : ",\n    {\"id\": ", &text)
            JSONWriter.appendQuoted(bid.id, to: &text)
            put(bid.side == .buy ? ", \"side\": \"buy\", \"bid_price\": " : ", \"side\": \"sell\", \"bid_price\": ", &text)
            JSONWriter.append(bid.price, to: &text)
            put(", \"bid_quantity\": ", bid.quantity, &text)
            put(", \"quantity\": ", award.quantity, &text)
            put("}", &text)
            if text.count >= chunk {
                try write(text)
                text.removeAll(keepingCapacity: true)
            }
        }
        put(clearing.awards.isEmpty ? "]\n}\n" : "\n  ]\n}\n", &text)
        try write(text)
    }

    private static func put(_ literal: StaticString, _ text: inout [UInt8]) { literal.withUTF8Buffer { text.append(contentsOf: $0) } }

    private static func put(_ literal: StaticString, _ number: Double, _ text: inout [UInt8]) {
        put(literal, &text)
        JSONWriter.append(number, to: &text)
    }

    /// A summary line, then one row per award in curve order (buyers by price descending, then sellers ascending,
    /// equal prices by id), so the cut between accepted and rejected bids reads from top to bottom.
    public static func table(_ clearing: Clearing) -> String {
        var summary = "Cleared \(format(clearing.quantity)) kW at \(format(clearing.price)) $/kWh (\(clearing.type.rawValue))"
        if clearing.type == .buyer || clearing.type == .seller || clearing.type == .failure {
            summary += "; marginal \(clearing.type == .seller ? "sellers" : "buyers") share \(format(clearing.marginalQuantity)) kW"
            summary += " (\(format(clearing.marginalFraction * 100)) %)"
        }
        if clearing.unservedDemand > 0 { summary += "; unserved unresponsive demand \(format(clearing.unservedDemand)) kW" }
        var table = TextTable(header: ["side", "id", "bid $/kWh", "bid kW", "awarded kW"], alignments: [.left, .left, .right, .right, .right])
        let buyers = clearing.awards.filter { $0.bid.side == .buy }.sorted { ($1.bid.price, $0.bid.id) < ($0.bid.price, $1.bid.id) }
        let sellers = clearing.awards.filter { $0.bid.side == .sell }.sorted { ($0.bid.price, $0.bid.id) < ($1.bid.price, $1.bid.id) }
        for award in buyers + sellers {
            table.append([award.bid.side.rawValue, award.bid.id, format(award.bid.price), format(award.bid.quantity), format(award.quantity)])
        }
        return summary + "\n\n" + table.description
    }

    /// Up to four decimals, trailing zeros dropped: 0.2501, 7, 3.5714.
    static func format(_ value: Double) -> String {
        let scaled = (value * 10_000).rounded() / 10_000
        var text = "\(scaled)"
        if text.hasSuffix(".0") { text.removeLast(2) }
        return text.contains("e") ? "\(value)" : text
    }
}
