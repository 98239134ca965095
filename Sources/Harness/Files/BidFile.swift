import Foundation
public import Market
import Messages

/// The bids file of `gridrig market clear` (docs/MARKET.md): a price cap and the buyers' and sellers' bids of one
/// interval, in JSON.
///
/// ```json
/// {"price_cap": 1.0,
///  "buyers": [{"id": "h1/ev", "price": 0.21, "quantity": 7.4}],
///  "sellers": [{"id": "h2/solar", "price": 0.0, "quantity": 3.2}]}
/// ```
public enum BidFile {
    static let sides: [(key: String, side: Side)] = [("buyers", .buy), ("sellers", .sell)]

    /// Reads and validates a bids file; `file` names it in errors ("-" reads standard input as "<stdin>").
    public static func load(file: String) throws(FileError) -> OrderBook {
        let name = file == "-" ? "<stdin>" : file
        let data = file == "-" ? FileHandle.standardInput.readDataToEndOfFile() : FileManager.default.contents(atPath: file)
        guard let data else { throw FileError(file: name, line: 0, column: 0, path: "", message: "cannot read the file") }
        return try read(Array(data), file: name)
    }

    /// Every bid of the file, buyers then sellers in file order; the first fault is thrown with its line, column,
    /// key path and bid.
    public static func read(_ bytes: [UInt8], file: String) throws(FileError) -> OrderBook {
        func error(_ offset: Int, _ path: String, _ message: String) -> FileError {
            let (line, column) = position(of: offset, in: bytes)
            return FileError(file: file, line: line, column: column, path: path, message: message)
        }
        let root: JSONValue
        do { root = try JSONValue.parse(bytes) } catch { throw FileError.syntax(error, in: bytes, file: file) }
        guard case .object(let members) = root.kind else {
            throw error(root.offset, "", "expected an object with keys price_cap, buyers, sellers, found \(root.found)")
        }
        var book = OrderBook()
        var lists: [Side: JSONValue] = [:]
        for (key, value) in members {
            switch key {
            case "price_cap":
                guard case .number(let cap) = value.kind else { throw error(value.offset, key, "expected a number ($/kWh), found \(value.found)") }
                book.priceCap = cap
            case "buyers", "sellers":
                lists[key == "buyers" ? .buy : .sell] = value
            default:
                throw error(value.offset, key, "unknown key; expected one of price_cap, buyers, sellers")
            }
        }
        for (key, side) in sides {
            guard let list = lists[side] else { continue }
            guard case .array(let elements) = list.kind else { throw error(list.offset, key, "expected a list of bids, found \(list.found)") }
            book.bids.reserveCapacity(book.bids.count + elements.count)
            for (index, element) in elements.enumerated() {
                let path = "\(key)[\(index)]"
                guard case .object(let fields) = element.kind else {
                    throw error(element.offset, path, "expected a bid {\"id\", \"price\", \"quantity\"}, found \(element.found)")
                }
                var id: String?, price: Double?, quantity: Double?
                for (name, value) in fields {
                    switch (name, value.kind) {
                    case ("id", .string(let text)): id = text
                    case ("price", .number(let number)): price = number
                    case ("quantity", .number(let number)): quantity = number
                    case ("id", _): throw error(value.offset, "\(path).id", "expected a string, found \(value.found)")
                    case ("price", _), ("quantity", _): throw error(value.offset, "\(path).\(name)", "expected a number, found \(value.found)")
                    default: throw error(value.offset, "\(path).\(name)", "unknown key; expected one of id, price, quantity")
                    }
                }
                for (name, value) in [("id", id != nil), ("price", price != nil), ("quantity", quantity != nil)] where !value {
                    throw error(element.offset, path, "missing key \"\(name)\"\(id.map { " in bid \"\($0)\"" } ?? "")")
                }
                book.bids.append(Bid(id: id!, side: side, price: price!, quantity: quantity!))
            }
        }
        do {
            try book.validate()
        } catch {
            guard let at = error.bid else {
                let cap = members.first { $0.key == "price_cap" }?.value
                throw FileError(file: file, line: cap.map { position(of: $0.offset, in: bytes).line } ?? 1,
                                column: cap.map { position(of: $0.offset, in: bytes).column } ?? 1,
                                path: "price_cap", message: "expected \(error.expected), found \(error.found)")
            }
            // Locate the field in the document: the bid's list, its position, then the key.
            let list = lists[at.side]!, key = at.side == .buy ? "buyers" : "sellers"
            guard case .array(let elements) = list.kind, case .object(let fields) = elements[at.index].kind else {
                throw FileError(file: file, line: 1, column: 1, path: "", message: error.description)
            }
            let offset = fields.first { $0.key == error.field }?.value.offset ?? elements[at.index].offset
            let (line, column) = position(of: offset, in: bytes)
            throw FileError(file: file, line: line, column: column, path: "\(key)[\(at.index)].\(error.field)",
                            message: "bid \"\(at.id)\": expected \(error.expected), found \(error.found)")
        }
        return book
    }
}

extension FileError {
    static func syntax(_ error: JSONSyntaxError, in bytes: [UInt8], file: String) -> FileError {
        let (line, column) = position(of: error.offset, in: bytes)
        return FileError(file: file, line: line, column: column, path: "", message: "not valid JSON: \(error.message)")
    }
}
