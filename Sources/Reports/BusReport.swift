import Bus
import Files
import Foundation
import Messages
import Run
import Verdict

/// What was kept off the bus or judged no part of the run, for the report: connections the broker refused,
/// messages it refused (by connection, claimed sender and reason), what the capture could not hold, and messages
/// that belong to no interval of the run.
struct BusReport {
    let admissions: BusAdmissions
    let strays: [RunView.StrayMessages]
    /// The run's first wall-clock moment on the bus, from which times are counted.
    let origin: Double
    /// Intervals the conductor opened that the verdict could not judge from the bus: the capture was full.
    let unjudged: Int

    init(_ record: RunRecord, view: RunView) {
        admissions = record.admissions
        strays = view.strays
        origin = record.capture.first?.received ?? 0
        unjudged = record.intervals.count - view.intervals.count
    }

    var isEmpty: Bool {
        admissions.refusals.isEmpty && admissions.refusedConnections.isEmpty && admissions.captureOverflow.messages == 0 && strays.isEmpty
    }

    private func since(_ time: Double) -> String { String(format: "+%.1f s", max(0, time - origin)) }

    /// One row per kind of trouble, with who caused it: what, who, messages, first, last.
    var table: TextTable {
        var table = TextTable(header: ["on the bus", "who", "messages", "first", "last"], alignments: [.left, .left, .right, .right, .right])
        for connection in admissions.refusedConnections {
            let who = [connection.address, connection.key.map { "key \($0.prefix(8))…" }].compactMap { $0 }.joined(separator: " ")
            table.append(["connection refused: \(connection.reason)", who.isEmpty ? "unknown" : who, "\(connection.attempts) tries",
                          since(connection.first), since(connection.last)])
        }
        for refusal in admissions.refusals {
            let who = (refusal.sender.map { "\"\($0)\" on " } ?? "") + "\(refusal.connection) (\(refusal.address))"
            table.append(["refused: \(refusal.reason.rawValue)", who, "\(refusal.messages)", since(refusal.first), since(refusal.last)])
        }
        for stray in strays {
            table.append(["protocol violation: \(stray.why.rawValue)", stray.sender, "\(stray.messages)", since(stray.first), since(stray.last)])
        }
        let overflow = admissions.captureOverflow
        if overflow.messages > 0 {
            table.append(["capture full: counted, not kept; the last \(unjudged) intervals not judged from the bus", "everyone", "\(overflow.messages)",
                          since(overflow.first), since(overflow.last)])
        }
        return table
    }

    /// results.json's `bus`.
    var json: String {
        var root = JSONWriter()
        root.field("authenticated", json: admissions.authenticated ? "true" : "false")
        root.field("refused_connections", json: JSONWriter.list(admissions.refusedConnections.map { connection in
            var item = JSONWriter()
            item.fieldIfPresent("address", connection.address)
            item.fieldIfPresent("key", connection.key)
            item.field("reason", connection.reason)
            item.field("attempts", connection.attempts)
            item.field("first", connection.first)
            item.field("last", connection.last)
            return item.json
        }))
        root.field("refused", json: JSONWriter.list(admissions.refusals.map { refusal in
            var item = JSONWriter()
            Self.write(refusal, into: &item)
            return item.json
        }))
        root.field("protocol_violations", json: JSONWriter.list(strays.map { stray in
            var item = JSONWriter()
            item.field("sender", stray.sender)
            item.field("what", stray.why.rawValue)
            item.field("messages", stray.messages)
            item.field("first", stray.first)
            item.field("last", stray.last)
            return item.json
        }))
        var overflow = JSONWriter()
        Self.write(admissions.captureOverflow, into: &overflow)
        overflow.field("intervals_not_judged", unjudged)
        root.field("capture_overflow", json: overflow.json)
        return root.json
    }

    /// capture.jsonl's closing lines: each refusal and the overflow as a summary, where a flood leaves no messages.
    var captureSummaries: [String] {
        var lines = admissions.refusals.map { refusal in
            var line = JSONWriter()
            line.field("summary", "refused")
            Self.write(refusal, into: &line)
            return line.json
        }
        if admissions.captureOverflow.messages > 0 {
            var line = JSONWriter()
            line.field("summary", "capture-full")
            Self.write(admissions.captureOverflow, into: &line)
            lines.append(line.json)
        }
        return lines
    }

    private static func write(_ refusal: BusRefusal, into item: inout JSONWriter) {
        item.field("connection", refusal.connection)
        item.field("address", refusal.address)
        item.fieldIfPresent("sender", refusal.sender)
        item.field("reason", refusal.reason.rawValue)
        item.field("messages", refusal.messages)
        item.field("bytes", refusal.bytes)
        item.field("first", refusal.first)
        item.field("last", refusal.last)
    }

    private static func write(_ overflow: BusCaptureOverflow, into item: inout JSONWriter) {
        item.field("messages", overflow.messages)
        item.field("bytes", overflow.bytes)
        item.field("first", overflow.first)
        item.field("last", overflow.last)
    }
}
