import Emulators
import Files
import Foundation
import Market
import Messages
import Physics
import Rigs
import Run
import Verdict

/// report.html: the verdict, the outcomes and the charts a person would rather look at than read. One file with
/// inline SVG, no scripts and nothing fetched, so it opens anywhere and can be attached to a CI run.
public struct HTMLReport {
    let report: RunReport

    public init(_ report: RunReport) { self.report = report }

    /// One line of a chart.
    struct Line {
        var name: String
        var color: String
        var points: [(x: Double, y: Double)]
    }

    static let palette = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]

    private static func escaped(_ text: String) -> String { markupEscaped(text) }

    /// `value` with `digits` decimals (0 to 3), written without Foundation's formatter: a day's charts hold
    /// hundreds of thousands of coordinates.
    private static func number(_ value: Double, _ digits: Int = 1) -> String {
        guard value.isFinite else { return "0" }
        let scale = [1.0, 10, 100, 1000][min(max(digits, 0), 3)]
        let scaled = Int((abs(value) * scale).rounded())
        let sign = value < 0 && scaled != 0 ? "-" : ""
        guard digits > 0 else { return sign + String(scaled) }
        let fraction = String(scaled % Int(scale))
        return sign + String(scaled / Int(scale)) + "." + String(repeating: "0", count: digits - fraction.count) + fraction
    }

    /// At most two points per pixel column: each column's lowest and highest, in time order, so that a day of
    /// 10-s samples draws the same peaks in a fraction of the file.
    static func decimated(_ points: [(x: Double, y: Double)], width: Int) -> [(x: Double, y: Double)] {
        guard points.count > 2 * width, let first = points.first?.x, let last = points.last?.x, last > first else { return points }
        var result: [(x: Double, y: Double)] = [], column = -1, low = points[0], high = points[0]
        func flush() { result += low.x <= high.x ? (low.x == high.x ? [low] : [low, high]) : [high, low] }
        for point in points {
            let index = min(Int((point.x - first) / (last - first) * Double(width)), width - 1)
            if index != column {
                if column >= 0 { flush() }
                column = index
                low = point
                high = point
            } else {
                if point.y < low.y { low = point }
                if point.y > high.y { high = point }
            }
        }
        flush()
        return result
    }

    /// A fault's window on a chart, in simulated hours.
    struct Mark {
        var label: String
        var start: Double
        var end: Double
    }

    /// A line chart over simulated hours, with an optional shaded band (e.g. a comfort band) and the fault
    /// windows marked.
    static func chart(_ title: String, unit: String, lines: [Line], band: (low: Double, high: Double)? = nil, marks: [Mark] = []) -> String {
        let width = 920.0, height = 240.0, left = 56.0, right = 16.0, top = 28.0, bottom = 30.0
        let points = lines.flatMap(\.points).filter { $0.y.isFinite }
        guard let minX = points.map(\.x).min(), let maxX = points.map(\.x).max() else {
            return "<figure><figcaption>\(escaped(title))</figcaption><p>No data.</p></figure>"
        }
        var minY = points.map(\.y).min()!, maxY = points.map(\.y).max()!
        if let band { minY = min(minY, band.low); maxY = max(maxY, band.high) }
        if maxY - minY < 1e-9 { maxY = minY + 1 }
        let padding = (maxY - minY) * 0.05
        minY -= padding
        maxY += padding
        func x(_ value: Double) -> Double { left + (value - minX) / max(maxX - minX, 1e-9) * (width - left - right) }
        func y(_ value: Double) -> Double { top + (maxY - value) / (maxY - minY) * (height - top - bottom) }
        var svg = "<svg viewBox=\"0 0 \(Int(width)) \(Int(height))\" role=\"img\" aria-label=\"\(escaped(title))\">"
        svg += "<text x=\"\(left)\" y=\"16\" class=\"title\">\(escaped(title)) (\(escaped(unit)))</text>"
        if let band {
            svg += "<rect x=\"\(left)\" y=\"\(number(y(band.high)))\" width=\"\(number(width - left - right))\" height=\"\(number(y(band.low) - y(band.high)))\" class=\"band\"/>"
        }
        for tick in 0...4 {
            let value = minY + (maxY - minY) * Double(tick) / 4
            svg += "<line x1=\"\(left)\" x2=\"\(width - right)\" y1=\"\(number(y(value)))\" y2=\"\(number(y(value)))\" class=\"grid\"/>"
            svg += "<text x=\"\(left - 6)\" y=\"\(number(y(value) + 4))\" class=\"tick\" text-anchor=\"end\">\(number(value, abs(maxY - minY) < 5 ? 2 : 1))</text>"
        }
        let hours = Int((maxX - minX).rounded(.up))
        let stride = max(1, hours / 12)
        for hour in Swift.stride(from: 0, through: hours, by: stride) {
            let value = minX + Double(hour)
            svg += "<text x=\"\(number(x(value)))\" y=\"\(height - 10)\" class=\"tick\" text-anchor=\"middle\">\(Figures.clockTime(value * 3600))</text>"
        }
        for (index, mark) in marks.enumerated() where mark.end >= minX && mark.start <= maxX {
            let from = x(max(mark.start, minX)), to = x(min(mark.end, maxX))
            svg += "<rect x=\"\(number(from))\" y=\"\(top)\" width=\"\(number(max(to - from, 2)))\" height=\"\(height - top - bottom)\" class=\"fault\">"
            svg += "<title>\(escaped(mark.label))</title></rect>"
            svg += "<text x=\"\(number(from + 3))\" y=\"\(number(top + 10 + Double(index % 3) * 10))\" class=\"fault-label\">\(escaped(mark.label))</text>"
        }
        for line in lines where !line.points.isEmpty {
            let path = Self.decimated(line.points.filter { $0.y.isFinite }, width: Int(width)).map { "\(number(x($0.x), 1)),\(number(y($0.y), 1))" }
                .joined(separator: " ")
            svg += "<polyline points=\"\(path)\" fill=\"none\" stroke=\"\(line.color)\" stroke-width=\"1.5\"><title>\(escaped(line.name))</title></polyline>"
        }
        svg += "</svg>"
        let legend = lines.map { "<span><i style=\"background:\($0.color)\"></i>\(escaped($0.name))</span>" }.joined()
        return "<figure>\(svg)<figcaption class=\"legend\">\(legend)</figcaption></figure>"
    }

    /// Devices a chart draws one line each for; past this it draws their distribution.
    static let linesPerChart = 12

    /// Lines for every series of `reading`: one per device, or past `linesPerChart` devices their distribution at
    /// each sample (lowest, 10th percentile, median, 90th percentile, highest), so that a thousand houses give five
    /// lines, not a thousand.
    private func lines(_ reading: SeriesReading, skip: (SeriesKey) -> Bool = { _ in false }) -> [Line] {
        let physics = report.record.physics
        let hours = physics.times.map { $0 / 3600 }
        let keys = physics.values.keys.filter { $0.reading == reading && !skip($0) }.sorted()
        guard keys.count > Self.linesPerChart else {
            return keys.enumerated().map { index, key in
                Line(name: key.device, color: Self.palette[index % Self.palette.count], points: Array(zip(hours, physics.values[key]!)))
            }
        }
        let series = keys.map { physics.values[$0]! }
        let quantiles: [(name: String, q: Double, color: String)] = [("highest", 1, "#d62728"), ("90th percentile", 0.9, "#ff7f0e"),
                                                                      ("median", 0.5, "#1f77b4"), ("10th percentile", 0.1, "#2ca02c"),
                                                                      ("lowest", 0, "#9467bd")]
        var points = quantiles.map { _ in [(x: Double, y: Double)]() }
        for (sample, hour) in hours.enumerated() {
            let values = series.compactMap { sample < $0.count && $0[sample].isFinite ? $0[sample] : nil }.sorted()
            for (index, quantile) in quantiles.enumerated() {
                if let value = Figures.percentile(sorted: values, quantile.q) { points[index].append((hour, value)) }
            }
        }
        return quantiles.enumerated().map { index, quantile in
            Line(name: "\(quantile.name) of \(keys.count) devices", color: quantile.color, points: points[index])
        }
    }

    /// Awarded against delivered power of every device of a kind, summed, per interval (kW: the interval's energy
    /// over its length), so that the chart reads the same at 4 houses and at 100.
    private func followLines(_ kind: DeviceKind) -> [Line] {
        let view = report.view, hours = view.intervalLength / 3600
        let devices = view.followableDevices.filter { $0.profile.kind == kind }
        var awarded: [(x: Double, y: Double)] = [], delivered: [(x: Double, y: Double)] = []
        for interval in view.intervals {
            let awards = devices.compactMap { view.awardedEnergy($0, in: interval) }
            let energies = devices.compactMap { view.energy(of: $0.name, from: interval.start, to: interval.start + view.intervalLength) }
            guard !awards.isEmpty, energies.count == devices.count else { continue }
            awarded.append((interval.start / 3600, awards.reduce(0, +) / hours))
            delivered.append((interval.start / 3600, energies.reduce(0, +) / hours))
        }
        return [Line(name: "awarded", color: Self.palette[0], points: awarded), Line(name: "delivered", color: Self.palette[1], points: delivered)]
    }

    public var html: String {
        let record = report.record
        let outcomes = report.outcomes
        var body = "<h1>GridRig run: \(Self.escaped(record.rig.name))</h1>"
        body += "<p class=\"meta\">seed \(record.rig.seed) · \(record.intervals.count) intervals of \(Int(record.rig.run.interval)) s · "
        body += "simulated in \(Self.number(record.wallSeconds)) s</p>"
        let failed = report.results.filter { !$0.passed }.count
        body += "<p class=\"verdict \(failed == 0 ? "pass" : "fail")\">\(failed == 0 ? "PASS" : "FAIL"): "
        body += failed == 0 ? "all \(report.results.count) assertions" : "\(failed) of \(report.results.count) assertions failed"
        body += "</p><table><tr><th>assertion</th><th>result</th><th>measured</th><th>threshold</th><th>detail</th></tr>"
        for result in report.results {
            body += "<tr class=\"\(result.passed ? "pass" : "fail")\"><td>\(result.kind.name)</td><td>\(result.passed ? "pass" : "FAIL")</td>"
            body += "<td>\(Self.escaped(result.measured))</td><td>\(Self.escaped(result.threshold))</td><td>\(Self.escaped(result.detail))</td></tr>"
        }
        body += "</table>"
        let judge = report.record.rig.run.assertions.first { $0.kind == .devicesFollowAwards } ?? AssertionSpec(.devicesFollowAwards)
        if let judged = judge.assertion as? DevicesFollowAwards {
            let ranked = judged.ranked(report.view.followed)
            if ranked.count > Self.linesPerChart {
                body += "<h2>Devices that deviated most from their awards</h2><table><tr><th>device</th><th>deviation</th></tr>"
                for device in ranked.prefix(10) { body += "<tr><td>\(Self.escaped(device.device))</td><td>\(Self.escaped(device.description))</td></tr>" }
                body += "</table>"
            } else if let worst = ranked.first {
                body += "<p class=\"worst\">Deviated most from its awards: \(Self.escaped(worst.description))</p>"
            }
        }
        body += "<h2>Outcomes</h2><table><tr>" + report.comparison.header.map { "<th>\(Self.escaped($0))</th>" }.joined() + "</tr>"
        for row in report.comparison.rows { body += "<tr>" + row.map { "<td>\(Self.escaped($0))</td>" }.joined() + "</tr>" }
        body += "</table>"
        if let price = outcomes.meanPrice { body += "<p>Mean clearing price \(Self.number(price, 3)) $/kWh</p>" }
        let marks = report.faults.map { Mark(label: $0.label, start: $0.start / 3600, end: $0.end / 3600) }
        if !report.faults.isEmpty {
            body += "<h2>Faults</h2><table><tr><th>fault</th><th>from</th><th>to</th><th>on the bus</th><th>assertions failing within</th></tr>"
            for window in report.faults {
                let effects = window.busSummary
                body += "<tr class=\"\(window.failed.isEmpty ? "" : "failing")\"><td>\(Self.escaped(window.label))</td><td>\(Figures.clockTime(window.start))</td>"
                body += "<td>\(Figures.clockTime(window.end))</td><td>\(effects)</td><td>\(window.failed.isEmpty ? "none" : window.failed.map(\.name).joined(separator: ", "))</td></tr>"
            }
            body += "</table>"
        }
        if !report.bus.isEmpty {
            let table = report.bus.table
            body += "<h2>Kept off the bus</h2><table><tr>" + table.header.map { "<th>\(Self.escaped($0))</th>" }.joined() + "</tr>"
            for row in table.rows { body += "<tr>" + row.map { "<td>\(Self.escaped($0))</td>" }.joined() + "</tr>" }
            body += "</table>"
        }
        body += "<h2>Power</h2>"
        let atPCC = Set(record.rig.devices.filter { $0.house == nil }.map(\.name))
        body += Self.chart("Power per device", unit: "kW", lines: lines(.power, skip: { atPCC.contains($0.device) }), marks: marks)
        var pcc = lines(.power, skip: { !atPCC.contains($0.device) })
        if let baseline = record.baseline {
            for key in baseline.values.keys.sorted() where atPCC.contains(key.device) && key.reading == .power {
                pcc.append(Line(name: "\(key.device) without a controller", color: "#999999",
                                points: Array(zip(baseline.times.map { $0 / 3600 }, baseline.values[key]!))))
            }
        }
        body += Self.chart("Power at the point of common coupling (+ import)", unit: "kW", lines: pcc, marks: marks)

        func perInterval(_ value: (RunView.IntervalView) -> Double?) -> [(x: Double, y: Double)] {
            report.view.intervals.compactMap { view in value(view).map { (view.start / 3600, $0) } }
        }
        body += "<h2>Market</h2>"
        body += Self.chart("Clearing price", unit: "$/kWh", lines: [Line(name: "price", color: Self.palette[0], points: perInterval { $0.clearing?.price })], marks: marks)
        body += Self.chart("Cleared quantity", unit: "kW", lines: [Line(name: "quantity", color: Self.palette[1], points: perInterval { $0.clearing?.quantity })], marks: marks)
        body += "<h2>Devices</h2>"
        for kind in [DeviceKind.evCharger, .battery, .thermostat, .inverter] where report.view.followableDevices.contains(where: { $0.profile.kind == kind }) {
            body += Self.chart("\(kind.label): awarded against delivered, all devices", unit: "kW", lines: followLines(kind), marks: marks)
        }
        body += Self.chart("Battery state of charge", unit: "%", lines: lines(.soc), marks: marks)
        let comforts = record.rig.run.comfort.values
        let band = comforts.first.map { ($0.setpoint - $0.comfortBelow, $0.setpoint + $0.comfortAbove) }
        body += Self.chart("Room temperature" + (band == nil ? "" : " against the comfort band"), unit: "°C", lines: lines(.room), band: band, marks: marks)
        body += Self.chart("Vehicle state of charge", unit: "%", lines: lines(.vehicleSoC), marks: marks)
        if let cosim = record.rig.run.cosim, cosim.voltage != nil {
            let band = record.rig.run.assertions.first { $0.kind == .voltageRange }.map { ($0[VoltageRange.low] * cosim.nominalVoltage / 100, $0[VoltageRange.high] * cosim.nominalVoltage / 100) }
            body += Self.chart("Voltage at each house, from the feeder model" + (band == nil ? "" : " against the allowed band"), unit: "V",
                               lines: lines(.voltage, skip: { $0.device == HouseID.pcc.name }), band: band, marks: marks)
            body += Self.chart("Inverter trips so far", unit: "trips", lines: lines(.trips), marks: marks)
        }
        body += "<h2>Timing</h2>"
        body += Self.chart("Clearing latency after gate closure", unit: "ms", lines: [
            Line(name: "clearing", color: Self.palette[3], points: perInterval { view in view.clearedAt.flatMap { cleared in view.gateAt.map { (cleared - $0) * 1000 } } }),
        ], marks: marks)
        return """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>GridRig run: \(Self.escaped(record.rig.name))</title>
            <style>
            body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 960px; color: #222; }
            table { border-collapse: collapse; width: 100%; font-size: 0.9em; }
            th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid #ddd; vertical-align: top; }
            tr.fail td, tr.failing td { background: #fde8e8; } tr.pass td:nth-child(2) { color: #2a7d2a; } tr.fail td:nth-child(2) { color: #b00020; font-weight: bold; }
            .verdict { font-size: 1.3em; font-weight: bold; } .verdict.pass { color: #2a7d2a; } .verdict.fail { color: #b00020; }
            .meta { color: #666; } .worst { font-weight: bold; } figure { margin: 1em 0; } svg { width: 100%; height: auto; background: #fafafa; }
            .title { font-size: 13px; font-weight: bold; } .tick { font-size: 10px; fill: #555; } .grid { stroke: #e3e3e3; }
            .band { fill: #2ca02c; opacity: 0.12; } .legend span { margin-right: 1em; font-size: 0.85em; }
            .fault { fill: #d62728; opacity: 0.10; } .fault-label { font-size: 9px; fill: #b00020; }
            .legend i { display: inline-block; width: 12px; height: 3px; margin-right: 4px; vertical-align: middle; }
            </style></head><body>
            \(body)
            </body></html>

            """
    }
}
