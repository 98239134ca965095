package import Emulators
import Foundation
import Physics

/// The field data a rig's device replays (docs/FAULTS.md, "Replay"): `{measurements: trace.csv}` or
/// `{modbus: evcc.log}`, relative to the rig's folder.
package enum ReplayFile {
    package static func load(_ value: YAMLValue, profile: DeviceProfile, folder: String) throws(FileError) -> Replay {
        let given = try value.read(keys, from: [])
        guard given.count == 1, let (kind, name) = given.first else { throw value.error("expected one of measurements: FILE or modbus: FILE") }
        let file = try name.string()
        let path = file.hasPrefix("/") ? file : "\(folder)/\(file)"
        guard FileManager.default.fileExists(atPath: path) else { throw name.error("cannot read \(path)") }
        switch kind {
        case .measurements: return .measurements(try measurements(path, profile: profile))
        case .modbus: return .traffic(try ModbusLog.parse(path: path, String(decoding: FileManager.default.contents(atPath: path) ?? Data(), as: UTF8.self)))
        }
    }

    private enum Kind { case measurements, modbus }

    /// The two ways to give field data; a replay gives one.
    private static let keys: [FileKey<[(Kind, YAMLValue)]>] = [
        FileKey("measurements", "recorded measurements, CSV") { value, given throws(FileError) in given.append((.measurements, value)) },
        FileKey("modbus", "recorded Modbus answers, a traffic log") { value, given throws(FileError) in given.append((.modbus, value)) },
    ]

    /// `time,<column>,...`: times ascending (seconds of simulated time, or HH:MM[:SS] of day one); each column a
    /// measured point of the profile by name, or a quantity; values in engineering units, or empty for none.
    private static func measurements(_ path: String, profile: DeviceProfile) throws(FileError) -> MeasurementTrace {
        let file = try CSVFile.load(path, what: "measurements")
        let header = file.header
        guard header.count >= 2, ["time", "timestamp"].contains(header[0]) else {
            throw file.fail(file.headerLine, 1, "expected a header time,<point or quantity>,..., found \"\(header.joined(separator: ","))\"")
        }
        let measured = profile.blocks.flatMap(\.points).filter { if case .quantity = $0.binding { true } else { false } }
        for (index, name) in header.enumerated().dropFirst()
            where !measured.contains(where: { $0.name == name }) && Quantity(rawValue: name) == nil {
            let names = measured.prefix(8).map(\.name).joined(separator: ", ")
            throw file.fail(file.headerLine, CSVFile.column(of: index, in: header),
                            "\"\(name)\" is neither a measured point of \(profile.name) (\(names), ...) nor a quantity")
        }
        let times = try file.times({ Double($0) ?? secondsSinceMidnight($0) }, expected: "seconds or HH:MM[:SS]")
        guard !times.isEmpty else { throw file.fail(file.headerLine, 1, "expected at least one row of measurements") }
        var columns = [[Double]](repeating: [], count: header.count - 1)
        for row in file.rows {
            for (index, cell) in row.cells.enumerated().dropFirst() {
                guard cell.isEmpty || Double(cell)?.isFinite == true else {
                    throw file.fail(row.line, CSVFile.column(of: index, in: row.cells), "\(header[index]): expected a number (or nothing), found \"\(cell)\"")
                }
                columns[index - 1].append(Double(cell) ?? .nan)
            }
        }
        return MeasurementTrace(times: times, columns: Dictionary(uniqueKeysWithValues: zip(header.dropFirst(), columns)))
    }
}
