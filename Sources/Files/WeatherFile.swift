package import Physics

/// A measured day of weather in CSV (docs/RIGS.md): `time,irradiance,temperature`, one sample per line, times of
/// day ascending (HH:MM or HH:MM:SS), irradiance in W/m² (0 or more), temperature in °C.
package enum WeatherFile {
    package static func load(_ path: String) throws(FileError) -> DayCurve {
        let file = try CSVFile.load(path, what: "weather file")
        guard file.header == ["time", "irradiance", "temperature"] else {
            throw file.fail(file.headerLine, 1, "expected the header time,irradiance,temperature, found \"\(file.header.joined(separator: ","))\"")
        }
        let times = try file.times(secondsSinceMidnight, expected: "HH:MM")
        var samples: [(time: Double, weather: Weather)] = []
        for (time, row) in zip(times, file.rows) {
            let cells = row.cells
            guard let irradiance = Double(cells[1]), irradiance.isFinite, irradiance >= 0 else {
                throw file.fail(row.line, CSVFile.column(of: 1, in: cells), "irradiance: expected W/m² of 0 or more, found \"\(cells[1])\"")
            }
            guard let temperature = Double(cells[2]), temperature.isFinite, (-60...60).contains(temperature) else {
                throw file.fail(row.line, CSVFile.column(of: 2, in: cells), "temperature: expected °C in -60...60, found \"\(cells[2])\"")
            }
            samples.append((time, Weather(irradiance: irradiance, outdoorTemperature: temperature)))
        }
        guard samples.count >= 2 else { throw file.fail(file.rows.last?.line ?? file.headerLine, 1, "expected at least 2 samples, found \(samples.count)") }
        return .series(samples)
    }
}
