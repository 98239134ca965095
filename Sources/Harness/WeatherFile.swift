import Foundation
import Physics

/// A measured day of weather in CSV (docs/RIGS.md): `time,irradiance,temperature`, one sample per line, times of
/// day ascending (HH:MM or HH:MM:SS), irradiance in W/m² (0 or more), temperature in °C.
enum WeatherFile {
    static func load(_ path: String) throws(FileError) -> DayCurve {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw FileError(file: path, line: 0, column: 0, path: "", message: "cannot read the weather file")
        }
        let lines = String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
            .map { $0.trimmingCharacters(in: .whitespaces.union(CharacterSet(charactersIn: "\r"))) }
        func fail(_ line: Int, _ column: Int, _ message: String) -> FileError {
            FileError(file: path, line: line, column: column, path: "", message: message)
        }
        guard let header = lines.first, header.replacingOccurrences(of: " ", with: "") == "time,irradiance,temperature" else {
            throw fail(1, 1, "expected the header time,irradiance,temperature, found \"\(lines.first ?? "")\"")
        }
        var samples: [(time: Double, weather: Weather)] = []
        var previousText = ""
        for (index, line) in lines.enumerated().dropFirst() where !line.isEmpty && !line.hasPrefix("#") {
            let cells = line.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            guard cells.count == 3 else { throw fail(index + 1, 1, "expected 3 values (time, irradiance, temperature), found \(cells.count)") }
            guard let time = secondsSinceMidnight(cells[0]) else { throw fail(index + 1, 1, "time: expected HH:MM, found \"\(cells[0])\"") }
            if let previous = samples.last?.time, time <= previous {
                throw fail(index + 1, 1, "time: expected a time after \(previousText) (the line before), found \(cells[0])")
            }
            previousText = cells[0]
            let column = cells[0].count + 2
            guard let irradiance = Double(cells[1]), irradiance.isFinite, irradiance >= 0 else {
                throw fail(index + 1, column, "irradiance: expected W/m² of 0 or more, found \"\(cells[1])\"")
            }
            guard let temperature = Double(cells[2]), temperature.isFinite, (-60...60).contains(temperature) else {
                throw fail(index + 1, column + cells[1].count + 1, "temperature: expected °C in -60...60, found \"\(cells[2])\"")
            }
            samples.append((time, Weather(irradiance: irradiance, outdoorTemperature: temperature)))
        }
        guard samples.count >= 2 else { throw fail(lines.count, 1, "expected at least 2 samples, found \(samples.count)") }
        return .series(samples)
    }
}
