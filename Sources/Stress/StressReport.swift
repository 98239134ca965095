import Files
import Foundation
import Messages
import Reports
public import Run
import Verdict

/// What `gridrig stress` writes: a table for a person, stress.json and junit.xml for machines, and stress.html
/// with clearing latency against load.
public struct StressReport {
    public let result: StressResult

    public init(_ result: StressResult) { self.result = result }

    private static func milliseconds(_ value: Double?) -> String { value.map { String(format: "%.1f", $0) } ?? "-" }

    private static func length(_ seconds: Double) -> String {
        seconds >= 60 && seconds.truncatingRemainder(dividingBy: 60) == 0 ? "\(Int(seconds / 60)) min" : "\(seconds.formatted()) s"
    }

    private static func verdict(_ step: StressStep) -> String {
        var reasons: [String] = []
        if step.missedDeadlines > 0 { reasons.append("\(step.missedDeadlines) late") }
        if step.wrongResults > 0 { reasons.append("\(step.wrongResults) wrong") }
        if step.lostBids > 0 { reasons.append("\(step.lostBids) bids lost") }
        return reasons.isEmpty ? "ok" : reasons.joined(separator: ", ")
    }

    public var table: String {
        var table = TextTable(header: ["interval", "bidders", "bids", "clearing p50", "p99", "max ms", "awards p99 ms", "deadline ms", "result",
                                       "generator bids/s", "publish s", "check s"],
                              alignments: [.right, .right, .right, .right, .right, .right, .right, .right, .left, .right, .right, .right])
        for step in result.steps {
            table.append([Self.length(step.length), "\(step.bidders)", "\(step.bids)", Self.milliseconds(step.clearingLatency(0.5)),
                          Self.milliseconds(step.clearingLatency(0.99)), Self.milliseconds(step.clearingLatency(1)), Self.milliseconds(step.awardsLatency(0.99)),
                          Self.milliseconds(step.deadlineMs), Self.verdict(step), String(format: "%.0f", step.generationRate),
                          String(format: "%.2f", step.publishSeconds), String(format: "%.2f", step.checkSeconds)])
        }
        var text = "stress: market \(result.market), seed \(result.seed), \(String(format: "%.0f", result.wallSeconds)) s\n\n\(table)\n\n"
            + "bid generator: \(String(format: "%.0f", result.generationRate)) bids/s over every step\n"
        for length in result.lengths {
            if let saturated = result.saturation(length: length) {
                text += "saturation at \(Self.length(length)) intervals: \(saturated.bidders) bidders (\(Self.verdict(saturated)))\n"
            } else {
                let most = result.steps.filter { $0.length == length }.map(\.bidders).max() ?? 0
                text += "saturation at \(Self.length(length)) intervals: not reached up to \(most) bidders\n"
            }
        }
        for step in result.steps {
            for interval in step.intervals where !interval.wrong.isEmpty {
                text += "  \(Self.length(step.length)), \(step.bidders) bidders, interval \(interval.number): \(interval.wrong.joined(separator: "; "))\n"
            }
        }
        return text
    }

    /// Every step and every interval, and the saturation point of each interval length (null: not reached).
    public var json: String {
        var document = JSONWriter(), root = JSONWriter(), saturation = JSONWriter()
        root.field("market", result.market)
        root.field("seed", result.seed)
        root.field("steps", objects: result.steps.map(Self.json))
        root.field("wallSeconds", result.wallSeconds)
        document.field("result", json: root.json)
        for length in result.lengths { saturation.field("\(length.formatted())", json: result.saturation(length: length).map { "\($0.bidders)" } ?? "null") }
        document.field("saturation", json: saturation.json)
        return document.json + "\n"
    }

    private static func json(_ step: StressStep) -> JSONWriter {
        var object = JSONWriter()
        object.field("length", step.length)
        object.field("bidders", step.bidders)
        object.field("intervals", objects: step.intervals.map { interval in
            var item = JSONWriter()
            item.field("number", interval.number)
            item.field("bids", interval.bids)
            item.field("referencePrice", interval.referencePrice)
            item.field("referenceQuantity", interval.referenceQuantity)
            item.fieldIfPresent("price", interval.price)
            item.fieldIfPresent("quantity", interval.quantity)
            item.fieldIfPresent("bidCount", interval.bidCount)
            item.fieldIfPresent("clearingLatency", interval.clearingLatency)
            item.fieldIfPresent("awardsLatency", interval.awardsLatency)
            item.field("missedDeadline", json: "\(interval.missedDeadline)")
            item.field("missingAwards", interval.missingAwards)
            item.field("wrong", json: JSONWriter.list(interval.wrong.map(JSONWriter.quoted)))
            item.field("lostBids", interval.lostBids)
            return item
        })
        object.field("deadlineMs", step.deadlineMs)
        object.field("generationSeconds", step.generationSeconds)
        object.field("publishSeconds", step.publishSeconds)
        object.field("checkSeconds", step.checkSeconds)
        return object
    }

    /// One test case per step; a step that missed a deadline, cleared wrongly or lost bids fails.
    public var junit: String {
        let failures = result.steps.filter(\.saturated).count
        var xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n"
        xml += "  <testsuite name=\"gridrig stress \(markupEscaped(result.market))\" tests=\"\(result.steps.count)\" failures=\"\(failures)\" time=\"\(String(format: "%.1f", result.wallSeconds))\">\n"
        for step in result.steps {
            xml += "    <testcase name=\"\(markupEscaped(Self.length(step.length))) intervals, \(step.bidders) bidders\" classname=\"stress\">\n"
            if step.saturated {
                let detail = step.intervals.flatMap(\.wrong).first.map { ": \($0)" } ?? ""
                xml += "      <failure message=\"\(markupEscaped(Self.verdict(step) + detail))\"/>\n"
            }
            xml += "    </testcase>\n"
        }
        return xml + "  </testsuite>\n</testsuites>\n"
    }

    /// Clearing latency (p50, p99 and max) against bidders, one chart per interval length, log scale on both axes,
    /// with the deadline drawn and saturated steps marked red.
    public var html: String {
        var page = """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>GridRig stress: \(markupEscaped(result.market))</title>
            <style>
            body { font-family: sans-serif; margin: 2em; color: #222; max-width: 70em; }
            table { border-collapse: collapse; margin: 1em 0; }
            th, td { border: 1px solid #ccc; padding: 0.3em 0.6em; text-align: right; font-size: 0.92em; }
            th { background: #f0f0f0; }
            svg { width: 100%; max-width: 920px; } .grid { stroke: #ddd; } .tick { font-size: 11px; fill: #555; } .title { font-size: 13px; font-weight: bold; }
            .bad { color: #d62728; font-weight: bold; }
            </style></head><body>
            <h1>GridRig stress test</h1>
            <p>Market: <code>\(markupEscaped(result.market))</code>, seed \(result.seed), \(String(format: "%.0f", result.wallSeconds)) s.</p>

            """
        for length in result.lengths {
            let steps = result.steps.filter { $0.length == length }
            page += "<h2>\(Self.length(length)) intervals</h2>\n"
            page += "<p>" + (result.saturation(length: length).map { "<span class=\"bad\">Saturation at \($0.bidders) bidders</span> (\(markupEscaped(Self.verdict($0))))." }
                             ?? "Not saturated up to \(steps.map(\.bidders).max() ?? 0) bidders.") + "</p>\n"
            page += Self.chart(steps) + "\n"
        }
        page += "<h2>Every step</h2>\n<pre>\(markupEscaped(table))</pre>\n</body></html>\n"
        return page
    }

    private static func chart(_ steps: [StressStep]) -> String {
        let width = 920.0, height = 300.0, left = 64.0, right = 16.0, top = 20.0, bottom = 40.0
        let latencies = steps.flatMap { step in [0.5, 0.99, 1].compactMap { step.clearingLatency($0) } } + steps.map(\.deadlineMs)
        guard let firstX = steps.map(\.bidders).min(), let lastX = steps.map(\.bidders).max(), let top99 = latencies.max() else {
            return "<p>No data.</p>"
        }
        let minX = log10(Double(firstX)) - 0.2, maxX = log10(Double(lastX)) + 0.2
        let minY = log10(max(0.01, (latencies.min() ?? 0.1) / 2)), maxY = log10(top99 * 2)
        func x(_ bidders: Int) -> Double { left + (log10(Double(bidders)) - minX) / max(maxX - minX, 1e-9) * (width - left - right) }
        func y(_ ms: Double) -> Double { top + (maxY - log10(max(ms, 0.01))) / max(maxY - minY, 1e-9) * (height - top - bottom) }
        var svg = "<svg viewBox=\"0 0 \(Int(width)) \(Int(height))\" role=\"img\" aria-label=\"clearing latency against bidders\">"
        svg += "<text x=\"\(left)\" y=\"14\" class=\"title\">clearing latency after gate closure (ms, log) against bidders (log)</text>"
        for decade in Int(minY.rounded(.up))...Int(maxY.rounded(.down)) {
            let value = pow(10, Double(decade))
            svg += "<line x1=\"\(left)\" x2=\"\(width - right)\" y1=\"\(y(value))\" y2=\"\(y(value))\" class=\"grid\"/>"
            svg += "<text x=\"\(left - 6)\" y=\"\(y(value) + 4)\" class=\"tick\" text-anchor=\"end\">\(value.formatted())</text>"
        }
        for step in steps {
            svg += "<text x=\"\(x(step.bidders))\" y=\"\(height - 18)\" class=\"tick\" text-anchor=\"middle\">\(step.bidders.formatted())</text>"
        }
        let deadline = steps.map(\.deadlineMs).max() ?? 0
        svg += "<line x1=\"\(left)\" x2=\"\(width - right)\" y1=\"\(y(deadline))\" y2=\"\(y(deadline))\" stroke=\"#d62728\" stroke-dasharray=\"6 4\"><title>deadline \(deadline) ms</title></line>"
        for (quantile, color, name) in [(0.5, "#1f77b4", "p50"), (0.99, "#ff7f0e", "p99"), (1.0, "#7f7f7f", "max")] {
            let points = steps.compactMap { step in step.clearingLatency(quantile).map { (x(step.bidders), y($0), step.saturated) } }
            svg += "<polyline points=\"\(points.map { "\($0.0),\($0.1)" }.joined(separator: " "))\" fill=\"none\" stroke=\"\(color)\" stroke-width=\"2\"><title>\(name)</title></polyline>"
            for point in points {
                svg += "<circle cx=\"\(point.0)\" cy=\"\(point.1)\" r=\"4\" fill=\"\(point.2 ? "#d62728" : color)\"><title>\(name)</title></circle>"
            }
        }
        for step in steps where step.clearingLatency(1) == nil {  // no clearing at all: a red cross at the top
            let (cx, cy) = (x(step.bidders), top + 6)
            svg += "<path d=\"M\(cx - 5) \(cy - 5) L\(cx + 5) \(cy + 5) M\(cx - 5) \(cy + 5) L\(cx + 5) \(cy - 5)\" stroke=\"#d62728\" stroke-width=\"2.5\">"
                + "<title>no clearing within the window</title></path>"
        }
        svg += "</svg>"
        return "<figure>\(svg)<figcaption>blue p50, orange p99, grey max; dashed red: the deadline; red points: saturated steps; "
            + "red cross: no clearing within the window</figcaption></figure>"
    }

    /// Writes summary.txt, stress.json, junit.xml and stress.html into `folder`.
    public func write(to folder: String) throws(RunError) {
        let files = ["summary.txt": table, "stress.json": json, "junit.xml": junit, "stress.html": html]
        try writeFiles(files, to: folder, what: "the stress results")
    }
}
