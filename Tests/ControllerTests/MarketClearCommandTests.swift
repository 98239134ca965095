import Foundation
import TestSupport
import Testing

@Suite("gridrig market clear", .timeLimit(.minutes(1)))
struct MarketClearCommandTests {
    @Test("Clears the example bids file into JSON that Python reads back, price and awards included")
    func clearsExample() async throws {
        let run = try await gridrig(["market", "clear", "\(repository)/examples/bids.json"])
        #expect(run.status == 0)
        let check = Process()
        check.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        check.arguments = ["python3", "-c", """
            import json, sys
            result = json.load(sys.stdin)
            awards = {(a["side"], a["id"]): a["quantity"] for a in result["awards"]}
            assert result["price"] == 0.18 and result["type"] == "buyer" and result["quantity"] == 9.5, result
            assert abs(awards[("buy", "h2/thermostat")] - 1.5) < 1e-12 and awards[("sell", "h4/solar")] == 9.5, awards
            assert abs(sum(q for (side, _), q in awards.items() if side == "buy") - 9.5) < 1e-9
            """]
        let input = Pipe()
        check.standardInput = input
        try check.run()
        input.fileHandleForWriting.write(Data(run.output.utf8))
        try input.fileHandleForWriting.close()
        check.waitUntilExit()
        #expect(check.terminationStatus == 0)
    }

    @Test("Reads standard input with -, and --table prints a table for people")
    func standardInputAndTable() async throws {
        let run = try await gridrig(["market", "clear", "-", "--table"],
                              input: #"{"buyers": [{"id": "A", "price": 0.3, "quantity": 5}], "sellers": [{"id": "S", "price": 0.1, "quantity": 5}]}"#)
        #expect(run.status == 0)
        #expect(run.output == """
            Cleared 5 kW at 0.2 $/kWh (price)

            side  id  bid $/kWh  bid kW  awarded kW
            ----  --  ---------  ------  ----------
            buy   A         0.3       5           5
            sell  S         0.1       5           5

            """)
    }

    @Test("Bad input exits 2 with the file, line, bid and field named, and prints no result")
    func badInput() async throws {
        let run = try await gridrig(["market", "clear", "-"], input: "{\"buyers\": [\n{\"id\": \"h1/ev\", \"price\": 0.2, \"quantity\": -7.4}]}")
        #expect(run.status == 2)
        #expect(run.output.isEmpty)
        #expect(run.errors == "error: <stdin>:2:43: buyers[0].quantity: bid \"h1/ev\": expected a finite quantity > 0 kW, found -7.4\n")
        let missing = try await gridrig(["market", "clear", "/nonexistent/bids.json"])
        #expect(missing.status == 2 && missing.errors == "error: /nonexistent/bids.json:0:0: cannot read the file\n")
    }
}
