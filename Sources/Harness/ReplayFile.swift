import Emulators
import Foundation

/// The field data a rig's device replays (docs/FAULTS.md, "Replay"): `{measurements: trace.csv}` or
/// `{modbus: evcc.log}`, relative to the rig's folder.
enum ReplayFile {
    static func load(_ value: YAMLValue, profile: DeviceProfile, folder: String) throws(FileError) -> Replay {
        let fields = try value.mapping(allowed: ["measurements", "modbus"])
        guard fields.count == 1, let (key, name) = fields.first else { throw value.error("expected one of measurements: FILE or modbus: FILE") }
        let file = try name.string()
        let path = file.hasPrefix("/") ? file : "\(folder)/\(file)"
        guard let data = FileManager.default.contents(atPath: path) else { throw name.error("cannot read \(path)") }
        let text = String(decoding: data, as: UTF8.self)
        if key == "modbus" {
            do { return .traffic(try ModbusTrace.parse(text)) } catch {
                throw FileError(file: path, line: error.line, column: 1, path: "", message: error.message)
            }
        }
        return .measurements(try measurements(text, path: path, profile: profile))
    }

    /// `time,<column>,...`: times ascending (seconds of simulated time, or HH:MM[:SS] of day one); each column a
    /// measured point of the profile by name, or a quantity; values in engineering units, or empty for none.
    private static func measurements(_ text: String, path: String, profile: DeviceProfile) throws(FileError) -> MeasurementTrace {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces.union(CharacterSet(charactersIn: "\r"))) }
        func fail(_ line: Int, _ column: Int, _ message: String) -> FileError { FileError(file: path, line: line, column: column, path: "", message: message) }
        // Comment lines (#) may come before the header.
        let headerIndex = lines.firstIndex { !$0.isEmpty && !$0.hasPrefix("#") } ?? 0
        let header = (lines.indices.contains(headerIndex) ? lines[headerIndex] : "").split(separator: ",", omittingEmptySubsequences: false)
            .map { $0.trimmingCharacters(in: .whitespaces) }
        guard header.count >= 2, ["time", "timestamp"].contains(header[0]) else {
            throw fail(headerIndex + 1, 1, "expected a header time,<point or quantity>,..., found \"\(lines.indices.contains(headerIndex) ? lines[headerIndex] : "")\"")
        }
        let measured = profile.blocks.flatMap(\.points).filter { if case .quantity = $0.binding { true } else { false } }
        var column = header[0].count + 2
        for name in header.dropFirst() {
            guard measured.contains(where: { $0.name == name }) || Quantity(rawValue: name) != nil else {
                let names = measured.prefix(8).map(\.name).joined(separator: ", ")
                throw fail(headerIndex + 1, column, "\"\(name)\" is neither a measured point of \(profile.name) (\(names), ...) nor a quantity")
            }
            column += name.count + 1
        }
        var times: [Double] = [], columns = [[Double]](repeating: [], count: header.count - 1)
        for (index, line) in lines.enumerated().dropFirst(headerIndex + 1) where !line.isEmpty && !line.hasPrefix("#") {
            let cells = line.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            guard cells.count == header.count else { throw fail(index + 1, 1, "expected \(header.count) values, found \(cells.count)") }
            guard let time = Double(cells[0]) ?? secondsSinceMidnight(cells[0]) else {
                throw fail(index + 1, 1, "time: expected seconds or HH:MM[:SS], found \"\(cells[0])\"")
            }
            if let previous = times.last, time <= previous { throw fail(index + 1, 1, "time: expected a time after the line before's, found \(cells[0])") }
            times.append(time)
            var position = cells[0].count + 2
            for (offset, cell) in cells.dropFirst().enumerated() {
                guard cell.isEmpty || Double(cell)?.isFinite == true else {
                    throw fail(index + 1, position, "\(header[offset + 1]): expected a number (or nothing), found \"\(cell)\"")
                }
                columns[offset].append(Double(cell) ?? .nan)
                position += cell.count + 1
            }
        }
        guard !times.isEmpty else { throw fail(lines.count, 1, "expected at least one row of measurements") }
        return MeasurementTrace(times: times, columns: Dictionary(uniqueKeysWithValues: zip(header.dropFirst(), columns)))
    }
}
