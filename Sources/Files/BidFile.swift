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
    /// Reads and validates a bids file; `file` names it in errors ("-" reads standard input as "<stdin>").
    public static func load(file: String) throws(FileError) -> OrderBook {
        let name = file == "-" ? "<stdin>" : file
        guard let bytes = FileBytes.read(file) else { throw FileError(file: name, line: 0, column: 0, path: "", message: "cannot read the file") }
        return try read(bytes, file: name)
    }

    /// Every bid of the file, buyers then sellers in file order; the first fault is thrown with its line, column,
    /// key path and bid. The file is read front to back into the bids, with no tree in between: a million bids
    /// are some 60 MB of JSON.
    public static func read(_ bytes: [UInt8], file: String) throws(FileError) -> OrderBook {
        func error(_ offset: Int, _ path: String, _ message: String) -> FileError {
            let (line, column) = position(of: offset, in: bytes)
            return FileError(file: file, line: line, column: column, path: path, message: message)
        }
        var book = OrderBook()
        book.bids.reserveCapacity(bytes.count / 34)  // no bid is shorter than {"id":"a","price":0,"quantity":1}
        var lists: [(side: Side, start: Int)] = []  // in file order, each list's bids appended to the book's
        do {
            var reader = JSONReader(bytes)
            let start = reader.offset()
            guard reader.peek() == .object else {
                throw error(start, "", "expected an object with keys price_cap, buyers, sellers, found \(try reader.value().found)")
            }
            try reader.beginObject()
            while let key = try reader.nextKey() {
                let at = reader.offset()
                switch key {
                case "price_cap":
                    guard reader.peek() == .number else { throw error(at, key, "expected a number ($/kWh), found \(try reader.value().found)") }
                    book.priceCap = try reader.number()
                case "buyers", "sellers":
                    let side: Side = key == "buyers" ? .buy : .sell
                    guard !lists.contains(where: { $0.side == side }) else { throw error(at, key, "a second \(key) list; expected each key once") }
                    lists.append((side, book.bids.count))
                    try readBids(&reader, side: side, key: key, into: &book.bids, error: error)
                default:
                    throw error(at, key, "unknown key; expected one of price_cap, buyers, sellers")
                }
            }
            try reader.end()
        } catch let syntax as JSONSyntaxError {
            throw FileError.syntax(syntax, in: bytes, file: file)
        } catch let fault as FileError {
            throw fault
        } catch {
            throw FileError(file: file, line: 1, column: 1, path: "", message: "\(error)")  // no other error is thrown above
        }
        if lists.count == 2, lists[0].side == .sell { book.bids = Array(book.bids[lists[1].start...] + book.bids[..<lists[1].start]) }
        do {
            try book.validate()
        } catch {
            throw locate(error, in: bytes, file: file)
        }
        return book
    }

    /// Appends one side's list of bids, the reader on the list.
    private static func readBids(_ reader: inout JSONReader, side: Side, key: String, into bids: inout [Bid],
                                 error: (Int, String, String) -> FileError) throws {
        let first = bids.count
        let list = reader.offset()
        guard reader.peek() == .array else { throw error(list, key, "expected a list of bids, found \(try reader.value().found)") }
        try reader.beginArray()
        while try reader.nextElement() {
            let start = reader.offset()
            let index = bids.count - first
            func path() -> String { "\(key)[\(index)]" }
            guard reader.peek() == .object else {
                throw error(start, path(), "expected a bid {\"id\", \"price\", \"quantity\"}, found \(try reader.value().found)")
            }
            try reader.beginObject()
            var id: String?, price: Double?, quantity: Double?
            while let key = try reader.nextKey(among: Field.keys) {
                let at = reader.offset(), field: Field
                switch key {
                case .known(let index): field = Field.allCases[index]
                case .other(let name): throw error(at, "\(path()).\(name)", "unknown key; expected one of id, price, quantity")
                }
                switch (field, reader.peek()) {
                case (.id, .string): id = try reader.string()
                case (.price, .number): price = try reader.number()
                case (.quantity, .number): quantity = try reader.number()
                case (.id, _): throw error(at, "\(path()).id", "expected a string, found \(try reader.value().found)")
                case (let field, _): throw error(at, "\(path()).\(field.rawValue)", "expected a number, found \(try reader.value().found)")
                }
            }
            guard let id, let price, let quantity else {
                let missing = id == nil ? "id" : price == nil ? "price" : "quantity"
                throw error(start, path(), "missing key \"\(missing)\"\(id.map { " in bid \"\($0)\"" } ?? "")")
            }
            bids.append(Bid(id: id, side: side, price: price, quantity: quantity))
        }
    }

    /// A bid's keys.
    private enum Field: String, CaseIterable {
        case id, price, quantity
        static let keys = allCases.map { Array($0.rawValue.utf8) }
    }

    /// Where in the file the fault `validate()` found lies: the bid's list, its position, then the key (the file
    /// is known to be well-formed, so its tree is built only now).
    private static func locate(_ error: OrderBookError, in bytes: [UInt8], file: String) -> FileError {
        func at(_ value: JSONValue?) -> (line: Int, column: Int) { value.map { position(of: $0.offset, in: bytes) } ?? (1, 1) }
        guard case .object(let members)? = try? JSONValue.parse(bytes).kind else {
            return FileError(file: file, line: 1, column: 1, path: "", message: error.description)
        }
        guard let bid = error.bid else {
            let (line, column) = at(members.first { $0.key == "price_cap" }?.value)
            return FileError(file: file, line: line, column: column, path: "price_cap", message: "expected \(error.expected), found \(error.found)")
        }
        let key = bid.side == .buy ? "buyers" : "sellers"
        guard case .array(let elements)? = members.first(where: { $0.key == key })?.value.kind, case .object(let fields) = elements[bid.index].kind else {
            return FileError(file: file, line: 1, column: 1, path: "", message: error.description)
        }
        let (line, column) = at(fields.first { $0.key == error.field }?.value ?? elements[bid.index])
        return FileError(file: file, line: line, column: column, path: "\(key)[\(bid.index)].\(error.field)",
                         message: "bid \"\(bid.id)\": expected \(error.expected), found \(error.found)")
    }
}

extension FileError {
    static func syntax(_ error: JSONSyntaxError, in bytes: [UInt8], file: String) -> FileError {
        let (line, column) = position(of: error.offset, in: bytes)
        return FileError(file: file, line: line, column: column, path: "", message: "not valid JSON: \(error.message)")
    }
}
