import Bus
import Emulators
import Files
import Foundation
import Messages
import Physics
import Modbus
import Rigs
public import Run
public import Verdict

/// A run's verdict and what it leaves on disk: a table for people, JSON and JUnit XML for machines, the bus
/// capture and the write logs as recorded.
public struct RunReport: Sendable {
    public let record: RunRecord
    public let results: [AssertionResult]
    public let outcomes: Outcomes
    /// The same rig without a controller, when it was run (`--baseline`).
    public let baseline: Outcomes?
    /// The rig's faults, each with the assertions that fail within its window.
    public let faults: [FaultWindow]
    /// The run decoded once, as the verdict read it.
    let view: RunView
    /// What was kept off the bus or belongs to no interval.
    let bus: BusReport

    public init(_ record: RunRecord) {
        self.record = record
        let view = RunView(record)
        // The outcomes beside the assertions: the last assertions to finish leave a core idle.
        let outcomes = Background { () throws(Never) in Outcomes(view) }
        self.view = view
        results = view.verdict()
        self.outcomes = outcomes.wait()
        baseline = record.baseline.map { physics in
            var outcomes = Outcomes(physics: physics, rig: record.rig)
            outcomes.householdCost = Outcomes.tariffCosts(physics: physics, rig: record.rig)
            return outcomes
        }
        faults = FaultWindow.all(view, busFaultEvents: record.busFaultEvents)
        bus = BusReport(record, view: view)
    }

    /// The fault windows for people: when, what, what the bus did, what failed within.
    var faultTable: TextTable {
        var table = TextTable(header: ["fault", "from", "to", "failing within"])
        for window in faults {
            let effects = window.busSummary
            table.append([window.label + (effects.isEmpty ? "" : " (\(effects))"), Figures.clockTime(window.start), Figures.clockTime(window.end),
                          window.failed.isEmpty ? "none" : window.failed.map(\.name).joined(separator: ", ")])
        }
        return table
    }

    /// Outcomes side by side: this run, and the baseline when there is one.
    var comparison: TextTable {
        var table = TextTable(header: baseline == nil ? ["outcome", "run"] : ["outcome", "run", "no controller"],
                              alignments: [.left, .right, .right])
        func row(_ name: String, _ value: (Outcomes) -> String) {
            table.append([name, value(outcomes)] + (baseline.map { [value($0)] } ?? []))
        }
        row("solar, kWh") { Figures.format($0.solarEnergy, 1) }
        row("self-consumption, %") { $0.selfConsumption.map { Figures.format($0 * 100, 1) } ?? "-" }
        row("grid import, kWh") { Figures.format($0.gridImport, 1) }
        row("grid export, kWh") { Figures.format($0.gridExport, 1) }
        row("peak import, kW") { Figures.format($0.peakImport, 1) }
        if record.households.count <= HTMLReport.linesPerChart {
            for house in record.households { row("\(house) cost, $") { $0.householdCost[house].map { Figures.format($0, 2) } ?? "-" } }
            for house in record.households where outcomes.imbalanceCost[house] != nil {
                row("\(house) imbalance, $") { $0.imbalanceCost[house].map { Figures.format($0, 2) } ?? "-" }
            }
            return table
        }
        // Past a dozen houses, each house's figure is in results.json; people get the spread and the extremes.
        for (name, values) in [("household cost", \Outcomes.householdCost), ("household imbalance", \Outcomes.imbalanceCost)] {
            guard !outcomes[keyPath: values].isEmpty else { continue }
            func spread(_ outcomes: Outcomes, _ pick: ([(house: HouseID, value: Double)]) -> String) -> String {
                let sorted = outcomes[keyPath: values].map { (house: $0.key, value: $0.value) }.sorted { ($0.value, $0.house) < ($1.value, $1.house) }
                return sorted.isEmpty ? "-" : pick(sorted)
            }
            row("\(name), lowest, $") { spread($0) { "\(Figures.format($0[0].value, 2)) (\($0[0].house))" } }
            row("\(name), median, $") { spread($0) { Figures.format($0[$0.count / 2].value, 2) } }
            row("\(name), highest, $") { spread($0) { "\(Figures.format($0[$0.count - 1].value, 2)) (\($0[$0.count - 1].house))" } }
        }
        return table
    }

    public var passed: Bool { results.allSatisfy(\.passed) }

    /// The console summary: one row per assertion, then the outcomes; it fits in 80 columns.
    public var table: String {
        var table = TextTable(header: ["assertion", "result", "measured", "threshold"])
        var details: [String] = []
        for result in results {
            table.append([result.kind.name, result.passed ? "pass" : "FAIL", result.measured, result.threshold])
            if !result.passed { details.append("  \(result.kind.name): \(result.detail)") }
        }
        let failed = results.filter { !$0.passed }.count
        var lines = ["\(record.rig.name): \(record.intervals.count) intervals, \(Figures.clockTime(record.physics.times.first ?? 0))–\(Figures.clockTime(record.physics.times.last ?? 0)) "
                     + "simulated in \(Figures.format(record.wallSeconds, 1)) s", "", table.description]
        if !details.isEmpty { lines += [""] + details }
        if !faults.isEmpty { lines += ["", faultTable.description] }
        if !bus.isEmpty { lines += ["", bus.table.description] }
        lines += ["", comparison.description]
        if let price = outcomes.meanPrice { lines.append("mean clearing price \(Figures.format(price, 3)) $/kWh") }
        if !record.grantWaits.isEmpty {
            let waits = record.grantWaits.map { $0 * 1000 }
            lines.append("co-simulation: \(waits.count) HELICS time grants, waited \(Figures.latencies(waits)) (\(Figures.format(waits.reduce(0, +) / 1000, 1)) s in all)")
        }
        if let lag = record.clockLag {
            lines.append("clock: physics steps ended p99 \(Figures.format(lag.p99, 1)) ms, at most \(Figures.format(lag.max, 1)) ms behind wall time "
                         + "(limit \(Figures.format(RunRecord.clockLagLimit, 0)) ms)")
        }
        lines.append(failed == 0 ? "PASS: \(results.count) assertions" : "FAIL: \(failed) of \(results.count) assertions")
        return lines.joined(separator: "\n")
    }

    /// results.json: the rig, the settings, each assertion and the outcomes.
    public var json: String {
        var root = JSONWriter()
        root.field("rig", record.rig.name)
        root.field("seed", Int(record.rig.seed))
        root.field("intervals", record.intervals.count)
        root.field("interval_seconds", record.rig.run.interval)
        root.field("wall_seconds", record.wallSeconds)
        if !record.grantWaits.isEmpty {
            root.field("helics_grants", record.grantWaits.count)
            root.field("helics_grant_wait_seconds", record.grantWaits.reduce(0, +))
        }
        root.field("passed", json: passed ? "true" : "false")
        root.field("assertions", json: JSONWriter.list(results.map { result in
            var item = JSONWriter()
            item.field("name", result.kind.name)
            item.field("passed", json: result.passed ? "true" : "false")
            item.field("measured", result.measured)
            item.field("threshold", result.threshold)
            item.field("detail", result.detail)
            item.field("judged", json: result.judged ? "true" : "false")
            return item.json
        }))
        root.field("bus", json: bus.json)
        root.field("faults", json: JSONWriter.list(faults.map { window in
            var item = JSONWriter()
            item.field("fault", window.label)
            item.field("start", window.start)
            item.field("end", window.end)
            var effects = JSONWriter()
            for action in window.busEffects.keys.sorted() { effects.field(action, window.busEffects[action]!) }
            item.field("bus", json: effects.json)
            item.field("failing", strings: window.failed.map(\.name))
            return item.json
        }))
        func energy(_ outcomes: Outcomes) -> String {
            var writer = JSONWriter()
            writer.field("solar_kwh", outcomes.solarEnergy)
            writer.field("import_kwh", outcomes.gridImport)
            writer.field("export_kwh", outcomes.gridExport)
            writer.field("peak_import_kw", outcomes.peakImport)
            writer.fieldIfPresent("self_consumption", outcomes.selfConsumption)
            writer.fieldIfPresent("mean_price", outcomes.meanPrice)
            return writer.json
        }
        root.field("outcomes", json: energy(outcomes))
        if let baseline { root.field("baseline", json: energy(baseline)) }
        var costs = JSONWriter()
        for house in record.households {
            var entry = JSONWriter()
            entry.fieldIfPresent("run", outcomes.householdCost[house])
            entry.fieldIfPresent("baseline", baseline?.householdCost[house])
            entry.fieldIfPresent("imbalance", outcomes.imbalanceCost[house])
            costs.field(house.name, json: entry.json)
        }
        root.field("household_cost", json: costs.json)
        root.field("imbalance_price", record.rig.run.imbalancePrice)
        root.field("devices", json: JSONWriter.list(view.followed.map { device in
            var item = JSONWriter()
            item.field("device", device.device)
            item.field("awarded_kwh", device.awarded)
            item.field("deviation_kwh", device.deviation)
            if device.awarded > 0 { item.field("deviation_share", device.share / 100) }
            return item.json
        }))
        root.field("intervals_detail", json: JSONWriter.list(record.intervals.map { interval in
            var item = JSONWriter()
            item.field("interval", interval.interval)
            item.field("start", interval.start)
            item.field("bidders", strings: interval.bidders.sorted())
            item.fieldIfPresent("price", interval.clearing?.price)
            item.fieldIfPresent("quantity", interval.clearing?.quantity)
            item.field("dispatched", strings: interval.dispatched.sorted())
            item.field("control_steps", interval.steps)
            return item.json
        }))
        return root.json + "\n"
    }

    /// junit.xml: one test case per assertion, a failure element with its detail.
    public var junit: String {
        let escaped = markupEscaped
        var xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        xml += "<testsuites>\n  <testsuite name=\"\(escaped(record.rig.name))\" tests=\"\(results.count)\" failures=\"\(results.filter { !$0.passed }.count)\" "
        xml += "time=\"\(Figures.format(record.wallSeconds, 3))\">\n"
        for result in results {
            xml += "    <testcase classname=\"gridrig.\(escaped(record.rig.name))\" name=\"\(result.kind.name)\">\n"
            xml += "      <system-out>\(escaped("measured \(result.measured); threshold \(result.threshold)"))</system-out>\n"
            if !result.passed { xml += "      <failure message=\"\(escaped(result.detail))\"/>\n" }
            xml += "    </testcase>\n"
        }
        return xml + "  </testsuite>\n</testsuites>\n"
    }

    /// capture.jsonl: every bus message with its arrival at the broker, one per line; then a summary line for each
    /// kind of message the broker refused, and for what arrived after the capture was full.
    public func captureLines(_ line: (String) throws -> Void) rethrows {
        let decoded = view.decodedCapture
        for (start, messages) in record.capture.chunks(of: 4_096) {
            try Self.lines(messages.count, chunk: messages.count, to: line) { range in range.map { offset in
                let message = messages[offset]
                var json = JSONWriter()
                json.field("received", message.received)
                json.field("topic", message.topic.description)
                let payload = String(decoding: message.payload.first ?? [], as: UTF8.self)
                // A frame that decoded as a message is JSON; any other is checked, and quoted when it is not.
                let isJSON = decoded[start + offset] || (try? JSONValue.parse(Array(payload.utf8))) != nil
                json.field("message", json: isJSON ? payload : JSONWriter.quoted(payload))
                return json.json
            } }
        }
        for summary in bus.captureSummaries { try line(summary) }
    }

    /// writes.csv: every write request that reached an emulator, accepted or refused.
    public static func writesLines(of record: RunRecord, _ line: (String) throws -> Void) rethrows {
        try line("unix_time,simulated_time,device,port,unit,function,address,values,exception")
        let writes = record.writes
        try Self.lines(writes.count, chunk: 4_096, to: line) { range in range.map { index in
            let write = writes[index], request = write.record.request
            let values: [UInt16] = if case .write(_, _, let values, _) = request { values } else { [] }
            let exception = write.record.exception.map { String($0.rawValue) } ?? ""
            return "\(write.record.unixTime),\(write.simulatedTime),\(write.device),\(write.record.address.port),\(write.record.address.unit),"
                + "\(request.functionCode),\(request.address),\(values.map(String.init).joined(separator: " ")),\(exception)"
        } }
    }

    /// series.csv: the physics samples, one column per device reading.
    public static func seriesLines(of record: RunRecord, _ line: (String) throws -> Void) rethrows {
        let keys = record.physics.values.keys.sorted()
        let columns = keys.map { record.physics.values[$0]! }, times = record.physics.times
        try line((["time"] + keys.map(\.description)).joined(separator: ","))
        try Self.lines(times.count, chunk: 256, to: line) { rows in
            // The rows' cells gathered a column at a time: a cell read through the list of columns retains its
            // column, which cost a 1,000-house day's 54 million cells more than printing them.
            var cells = [Double](repeating: 0, count: rows.count * columns.count)
            for (index, column) in columns.enumerated() {
                for (offset, row) in rows.enumerated() { cells[offset * columns.count + index] = column[row] }
            }
            return rows.enumerated().map { offset, row in
                // Appended as bytes: a list of strings joined took twice as long.
                var bytes = Array(String(times[row]).utf8)
                bytes.reserveCapacity(columns.count * 20)
                for value in cells[offset * columns.count ..< (offset + 1) * columns.count] {
                    bytes.append(UInt8(ascii: ","))
                    if value == 0 {  // most cells (flags down, no power at night): the text the printer gives, without it
                        if value.sign == .minus { bytes.append(UInt8(ascii: "-")) }
                        bytes.append(contentsOf: Self.zero)
                    } else {
                        var text = String(value)
                        text.withUTF8 { bytes.append(contentsOf: $0) }
                    }
                }
                return String(decoding: bytes, as: UTF8.self)
            }
        }
    }

    private static let zero = Array("0.0".utf8)

    /// Gives `line` the lines `make` makes of the ranges of `0..<count`, in order, made `chunk` at a time on every
    /// core: making the text is a log's cost (65 million numbers in a 1,000-house day's series), and a chunk is all
    /// that waits in memory.
    private static func lines(_ count: Int, chunk: Int, to line: (String) throws -> Void, _ make: @Sendable (Range<Int>) -> [String]) rethrows {
        for start in stride(from: 0, to: count, by: max(1, chunk)) {
            let made: [String] = onEveryCore(min(chunk, count - start), minimum: 2) { range in make(range.lowerBound + start ..< range.upperBound + start) }
            for text in made { try line(text) }
        }
    }

    /// Makes the report of `record` and writes every file into `folder` (created if needed); `judged` gets the report
    /// as soon as the verdict is in, before its files are written. The series and the writes need no verdict: they
    /// are written on another thread while it is made, since making it leaves a core idle for much of its time. The
    /// logs are written line by line as they are made: at 1,000 houses a day of them is gigabytes of text, which held
    /// whole beside the run record was most of a run's peak memory.
    public static func write(_ record: RunRecord, to folder: String, judged: (RunReport) -> Void = { _ in }) throws(RunError) -> RunReport {
        let folderMade = Result { () throws(RunError) in try writeFiles([:], to: folder, what: "the report") }
        let logs = Background { () throws(RunError) in
            try folderMade.get()
            try writeLog("series.csv", in: folder) { line in try seriesLines(of: record, line) }
            try writeLog("writes.csv", in: folder) { line in try writesLines(of: record, line) }
        }
        let report = RunReport(record)
        judged(report)
        let page = Background { () throws(Never) in HTMLReport(report).html }
        let written = Result { () throws(RunError) in
            try writeLog("capture.jsonl", in: folder, report.captureLines)
            try writeFiles(["results.json": report.json, "junit.xml": report.junit, "summary.txt": report.table + "\n", "report.html": page.wait(),
                            "devices.txt": DevicePlace.table(record.devices).description + "\n"], to: folder, what: "the report")
        }
        try logs.wait()
        try written.get()
        return report
    }

    /// Writes the log `name` into `folder`, each line as `lines` makes it.
    private static func writeLog(_ name: String, in folder: String, _ lines: ((String) throws -> Void) throws -> Void) throws(RunError) {
        do {
            let file = try LineFile(path: "\(folder)/\(name)")
            try lines(file.append)
            try file.close()
        } catch {
            throw RunError(message: "cannot write the report to \(folder): \(name): \(error)")
        }
    }
}

/// A text file written a line at a time through a megabyte's buffer, under a temporary name until it is closed
/// (then renamed into place, so a reader never sees half a file).
final class LineFile {
    private let path: String, partial: String
    private let handle: FileHandle
    private var buffer: [UInt8] = []

    init(path: String) throws {
        self.path = path
        partial = "\(path).partial"
        guard FileManager.default.createFile(atPath: partial, contents: nil), let handle = FileHandle(forWritingAtPath: partial) else {
            throw RunError(message: "cannot create \(partial)")
        }
        self.handle = handle
        buffer.reserveCapacity(1 << 20 + 4_096)
    }

    func append(_ line: String) throws {
        buffer.append(contentsOf: line.utf8)
        buffer.append(UInt8(ascii: "\n"))
        if buffer.count >= 1 << 20 { try flush() }
    }

    private func flush() throws {
        try handle.write(contentsOf: buffer)
        buffer.removeAll(keepingCapacity: true)
    }

    func close() throws {
        try flush()
        try handle.close()
        if FileManager.default.fileExists(atPath: path) { try FileManager.default.removeItem(atPath: path) }
        try FileManager.default.moveItem(atPath: partial, toPath: path)
    }
}

/// Writes each named text into `folder` (made if missing); a failure names `what` and the folder.
package func writeFiles(_ files: [String: String], to folder: String, what: String) throws(RunError) {
    do {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        for (name, text) in files { try text.write(toFile: "\(folder)/\(name)", atomically: true, encoding: .utf8) }
    } catch {
        throw RunError(message: "cannot write \(what) to \(folder): \(error.localizedDescription)")
    }
}

/// Text safe inside XML and HTML, in elements and in quoted attributes.
package func markupEscaped(_ text: String) -> String {
    text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
        .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
}
