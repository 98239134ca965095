import Foundation
import Messages
import Physics
import Testing

@Suite("Device ids")
struct DeviceIDTests {
    @Test("An id is its house and its name, split at the first slash, and prints back as it came",
          arguments: [("h2/ev", "h2", "ev"), ("h1-3/battery", "h1-3", "battery"), ("pcc/meter", "pcc", "meter"), ("s10/pv/2", "s10", "pv/2")])
    func parses(text: String, house: String, name: String) throws {
        let id = try DeviceID(parsing: text)
        #expect(id.house == house && id.name == name)
        #expect(id.description == text)
        #expect(id == DeviceID(house: house, name: name))
    }

    @Test("Text without a house or a name is refused, naming it", arguments: ["ev", "/ev", "h2/", "", "/"])
    func refuses(text: String) {
        let error = #expect(throws: DeviceIDError.self) { try DeviceID(parsing: text) }
        #expect(error?.description == "expected a device id \"<house>/<device>\", found \"\(text)\"")
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
