import Foundation

/// A CSV file as GridRig reads them (measured weather, replayed measurements): blank lines and `#` comments
/// skipped, before the header too; a header row; rows of trimmed cells, each with its line. Errors point at
/// file:line:column.
struct CSVFile {
    let path: String
    let header: [String]
    let headerLine: Int
    let rows: [(line: Int, cells: [String])]

    /// Reads `path`; every row must have as many cells as the header.
    static func load(_ path: String, what: String) throws(FileError) -> CSVFile {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw FileError(file: path, line: 0, column: 0, path: "", message: "cannot read the \(what)")
        }
        let lines = String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
            .map { $0.trimmingCharacters(in: .whitespaces.union(CharacterSet(charactersIn: "\r"))) }
        var content = lines.enumerated().filter { !$0.element.isEmpty && !$0.element.hasPrefix("#") }.map { (line: $0.offset + 1, text: $0.element) }
        let first = content.isEmpty ? (line: 1, text: "") : content.removeFirst()
        let cells = { (text: String) in text.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) } }
        let file = CSVFile(path: path, header: cells(first.text), headerLine: first.line, rows: content.map { ($0.line, cells($0.text)) })
        for row in file.rows where row.cells.count != file.header.count {
            throw file.fail(row.line, 1, "expected \(file.header.count) values (\(file.header.joined(separator: ", "))), found \(row.cells.count)")
        }
        return file
    }

    func fail(_ line: Int, _ column: Int, _ message: String) -> FileError {
        FileError(file: path, line: line, column: column, path: "", message: message)
    }

    /// The 1-based column where cell `index` of `cells` begins.
    static func column(of index: Int, in cells: [String]) -> Int {
        cells.prefix(index).reduce(1) { $0 + $1.count + 1 }
    }

    /// Each row's first cell as a time, strictly ascending: `parse` turns a cell into seconds, `expected` says
    /// what it accepts.
    func times(_ parse: (String) -> Double?, expected: String) throws(FileError) -> [Double] {
        var times: [Double] = []
        for (index, row) in rows.enumerated() {
            guard let time = parse(row.cells[0]) else { throw fail(row.line, 1, "time: expected \(expected), found \"\(row.cells[0])\"") }
            if let previous = times.last, time <= previous {
                throw fail(row.line, 1, "time: expected a time after \(rows[index - 1].cells[0]) (the line before), found \(row.cells[0])")
            }
            times.append(time)
        }
        return times
    }
}
