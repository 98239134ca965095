import Foundation
import Messages
import Physics
import Testing

@Suite("Device ids")
struct DeviceIDTests {
    @Test("An id is its house and its name, split at the first slash, and prints back as it came",
          arguments: [("h2/ev", "h2", "ev"), ("h1-3/battery", "h1-3", "battery"), ("pcc/meter", "pcc", "meter"), ("s10/pv/2", "s10", "pv/2"),
                      ("h2/wärmepumpe", "h2", "wärmepumpe"), ("h2//e\u{301}v", "h2", "/e\u{301}v")])
    func parses(text: String, house: String, name: String) throws {
        let id = try DeviceID(parsing: text)
        #expect(id.house == (try HouseID(parsing: house)) && id.name == name)
        #expect(id.description == text)
        #expect(id == DeviceID(house: try HouseID(parsing: house), name: name))
    }

    @Test("Text without a house or a name, or whose house is no house name, is refused, naming it",
          arguments: ["ev", "/ev", "h2/", "", "/", "h 2/ev", "h2,h3/ev", "\"h2\"/ev"])
    func refuses(text: String) {
        let error = #expect(throws: IDError.self) { try DeviceID(parsing: text) }
        #expect(error?.description == "expected a device id \"<house>/<device>\" (the house of letters, digits, '-', '_' or '.'), found \"\(text)\"")
    }

    @Test("In JSON an id is its text; other text fails to decode")
    func codable() throws {
        let id = DeviceID(house: "h2", name: "ev")
        let data = try JSONEncoder().encode([id])
        #expect(String(decoding: data, as: UTF8.self) == #"["h2\/ev"]"#)
        #expect(try JSONDecoder().decode([DeviceID].self, from: data) == [id])
        #expect(throws: DecodingError.self) { try JSONDecoder().decode([DeviceID].self, from: Data(#"["ev"]"#.utf8)) }
    }
}

@Suite("House ids")
struct HouseIDTests {
    @Test("A house name of letters, digits, '-', '_' and '.' is itself", arguments: ["h2", "h19-28", "s10000", "House_7", "a.b", "pcc"])
    func parses(text: String) throws {
        #expect(try HouseID(parsing: text).name == text)
        #expect(try HouseID(parsing: text).description == text)
    }

    /// Each of these would be read back as something else: a topic's or a device id's slash, a list's comma, a CSV
    /// field's quote or a blank.
    @Test("Anything else is refused, naming it", arguments: ["", "h/2", "h2,h3", "h 2", " h2", "\"h2\"", "h2\n", "hé", "h2;"])
    func refuses(text: String) {
        let error = #expect(throws: IDError.self) { try HouseID(parsing: text) }
        #expect(error?.description == "expected a house name (letters, digits, '-', '_' or '.'), found \"\(text)\"")
    }

    @Test("Houses sort by name, as the site's sums and the market's books take them")
    func sorting() {
        let houses: [HouseID] = ["h2", "h10", "grid", "h1"]
        #expect(houses.sorted().map(\.name) == ["grid", "h1", "h10", "h2"])
    }

    @Test("In JSON a house is its text; other text fails to decode")
    func codable() throws {
        let data = try JSONEncoder().encode(["h2"] as [HouseID])
        #expect(String(decoding: data, as: UTF8.self) == #"["h2"]"#)
        #expect(try JSONDecoder().decode([HouseID].self, from: data) == ["h2"])
        #expect(throws: DecodingError.self) { try JSONDecoder().decode([HouseID].self, from: Data(#"["h/2"]"#.utf8)) }
    }
}
