import Files
import Foundation
import Messages
import Reports
import RigFiles
import Rigs
public import Run
import Verdict

/// A certificate in the three forms of a run's report: certificate.html for people (each requirement with its
/// pass rate and a link to its evidence), certificate.json for machines, junit.xml for CI (one test case per
/// requirement), and a table for the terminal.
public struct CertificateReport: Sendable {
    public let certification: Certification

    public init(_ certification: Certification) { self.certification = certification }

    private var verdicts: [Certification.RequirementVerdict] { certification.verdicts }

    private var dateText: String {
        let formatter = ISO8601DateFormatter()
        return formatter.string(from: certification.date)
    }

    private var outcome: String { certification.passed ? "CERTIFIED" : "NOT CERTIFIED" }

    /// The requirement's evidence: the first run that failed it, else the first run.
    private func evidence(_ verdict: Certification.RequirementVerdict) -> String {
        (verdict.failures.first?.report ?? certification.runs.first?.report ?? "") + "/report.html"
    }

    public var table: String {
        let rows = verdicts.map { verdict in
            [verdict.requirement.id, verdict.requirement.mandatory ? "mandatory" : "advisory", verdict.passed ? "pass" : "FAIL",
             "\(verdict.passedRuns) of \(verdict.runs) runs", verdict.failures.first.map { String("\($0.caseName) seed \($0.seed): \($0.detail)".prefix(110)) } ?? ""]
        }
        var table = TextTable(header: ["requirement", "", "verdict", "pass rate", "first failure"])
        table.rows = rows
        var text = table.description
        if certification.claims != nil {
            var claims = TextTable(header: ["claimed function", "verdict", "judged by", "cases"])
            claims.rows = certification.functionVerdicts.map { verdict in
                [verdict.function.id, Self.word(verdict), verdict.function.requirements.joined(separator: ", "), "\(verdict.cases.count)"]
            }
            var devices = TextTable(header: ["claimed device", "event", "cases"])
            devices.rows = certification.coverage.flatMap { device in
                device.events.enumerated().map { index, entry in
                    [index == 0 ? "\(device.device) (\(device.profile))" : "", entry.event.rawValue,
                     entry.cases.isEmpty ? "untested" : entry.cases.joined(separator: ", ")]
                }
            }
            text += "\n" + claims.description + "\n" + devices.description
            for skipped in certification.notApplicable { text += "\nnot applicable: \(skipped.caseName): \(skipped.reason)" }
            text += "\n"
        }
        return text + "\n\(outcome): \(certification.suite.role.rawValue) \(certification.participant), "
            + "\(Set(certification.runs.map(\.caseName)).count) cases x \(certification.seedsPerCase) seeds (\(certification.edition.description)), "
            + "\(verdicts.filter { $0.requirement.mandatory && !$0.passed }.count) mandatory requirements failed\n"
    }

    /// A claimed function's verdict in one word.
    private static func word(_ verdict: Certification.FunctionVerdict) -> String {
        verdict.untested ? "UNTESTED" : verdict.passed ? "pass" : "FAIL"
    }

    private var claimsJSON: String {
        guard let claims = certification.claims else { return "null" }
        var item = JSONWriter()
        item.field("file", claims.file)
        item.fieldIfPresent("firmware", claims.firmware)
        item.field("functions", json: JSONWriter.list(certification.functionVerdicts.map { verdict in
            var entry = JSONWriter()
            entry.field("id", verdict.function.id)
            entry.field("statement", verdict.function.statement)
            entry.field("requirements", json: JSONWriter.list(verdict.function.requirements.map(JSONWriter.quoted)))
            entry.field("verdict", verdict.untested ? "untested" : verdict.passed ? "pass" : "fail")
            entry.field("cases", json: JSONWriter.list(verdict.cases.map(JSONWriter.quoted)))
            return entry.json
        }))
        item.field("devices", json: JSONWriter.list(certification.coverage.map { device in
            var entry = JSONWriter()
            entry.field("device", device.device)
            entry.field("profile", device.profile)
            entry.field("events", json: JSONWriter.list(device.events.map { event, cases in
                var covered = JSONWriter()
                covered.field("event", event.rawValue)
                covered.field("cases", json: JSONWriter.list(cases.map(JSONWriter.quoted)))
                return covered.json
            }))
            return entry.json
        }))
        item.field("not_applicable", json: JSONWriter.list(certification.notApplicable.map { skipped in
            var entry = JSONWriter()
            entry.field("case", skipped.caseName)
            entry.field("reason", skipped.reason)
            return entry.json
        }))
        return item.json
    }

    public var json: String {
        var root = JSONWriter()
        root.field("certified", json: certification.passed ? "true" : "false")
        root.field("gridrig_version", Certification.gridRigVersion)
        root.field("suite_version", certification.suite.version)
        root.field("role", certification.suite.role.rawValue)
        root.field("participant", certification.participant)
        root.field("controller", json: certification.command.map { JSONWriter.list($0.map(JSONWriter.quoted)) } ?? JSONWriter.quoted("endpoint"))
        root.field("software", json: JSONWriter.list(certification.software.map(JSONWriter.quoted)))
        root.field("date", dateText)
        root.field("seeds", json: JSONWriter.list(certification.seeds.map { "\($0)" }))
        root.field("edition", certification.edition.description)
        root.field("cases", json: JSONWriter.list(certification.suite.cases.map { suiteCase in
            var item = JSONWriter()
            item.field("name", suiteCase.name)
            item.field("file", suiteCase.file)
            item.field("sha256", suiteCase.sha256)
            return item.json
        }))
        root.field("claims", json: claimsJSON)
        root.field("requirements", json: JSONWriter.list(verdicts.map { verdict in
            var item = JSONWriter()
            item.field("id", verdict.requirement.id)
            item.field("mandatory", json: verdict.requirement.mandatory ? "true" : "false")
            item.field("statement", verdict.requirement.statement)
            item.field("assertions", json: JSONWriter.list(verdict.requirement.assertions.map { JSONWriter.quoted($0.name) }))
            item.field("passed", json: verdict.passed ? "true" : "false")
            item.field("pass_rate", verdict.passRate)
            item.field("evidence", evidence(verdict))
            item.field("failures", json: JSONWriter.list(verdict.failures.map { failure in
                var entry = JSONWriter()
                entry.field("case", failure.caseName)
                entry.field("seed", failure.seed)
                entry.field("detail", failure.detail)
                entry.field("report", failure.report + "/report.html")
                return entry.json
            }))
            return item.json
        }))
        root.field("runs", json: JSONWriter.list(certification.runs.map { run in
            var item = JSONWriter()
            item.field("case", run.caseName)
            item.field("seed", run.seed)
            item.field("passed", json: run.error == nil && run.results.allSatisfy(\.passed) ? "true" : "false")
            item.fieldIfPresent("error", run.error)
            item.field("report", run.report + "/report.html")
            return item.json
        }))
        return root.json + "\n"
    }

    public var junit: String {
        let name = markupEscaped("certify \(certification.suite.role.rawValue) \(certification.participant)")
        var xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n"
        let functions = certification.functionVerdicts
        xml += "  <testsuite name=\"\(name)\" tests=\"\(verdicts.count + functions.count)\" "
            + "failures=\"\(verdicts.filter { !$0.passed }.count + functions.filter { !$0.passed && !$0.untested }.count)\">\n"
        for verdict in verdicts {
            xml += "    <testcase classname=\"gridrig.certify.\(certification.suite.role.rawValue)\" name=\"\(verdict.requirement.id)\">\n"
            xml += "      <system-out>\(markupEscaped("\(verdict.passedRuns) of \(verdict.runs) runs passed; evidence \(evidence(verdict))"))</system-out>\n"
            if !verdict.passed {
                let first = verdict.failures.first.map { "\($0.caseName) seed \($0.seed): \($0.detail)" } ?? "no run"
                xml += verdict.requirement.mandatory ? "      <failure message=\"\(markupEscaped(first))\"/>\n"
                    : "      <skipped message=\"\(markupEscaped("advisory: " + first))\"/>\n"
            }
            xml += "    </testcase>\n"
        }
        for verdict in certification.functionVerdicts {
            xml += "    <testcase classname=\"gridrig.certify.claims\" name=\"\(markupEscaped(verdict.function.id))\">\n"
            if verdict.untested {
                xml += "      <skipped message=\"untested: no requirement or case judges it\"/>\n"
            } else if !verdict.passed {
                xml += "      <failure message=\"\(markupEscaped("failed: " + verdict.function.requirements.joined(separator: ", ")))\"/>\n"
            }
            xml += "    </testcase>\n"
        }
        return xml + "  </testsuite>\n</testsuites>\n"
    }

    public var html: String {
        let role = certification.suite.role.rawValue
        var page = """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>GridRig certificate: \(markupEscaped(role)) \(markupEscaped(certification.participant))</title>
            <style>
            body { font-family: sans-serif; margin: 2em; color: #222; max-width: 70em; }
            h1 { margin-bottom: 0.2em; }
            .outcome { font-size: 1.6em; font-weight: bold; padding: 0.3em 0.6em; display: inline-block; border-radius: 4px; color: #fff; }
            .pass { background: #2ca02c; } .fail { background: #d62728; } .advisory { background: #ff7f0e; }
            table { border-collapse: collapse; margin: 1em 0; width: 100%; }
            th, td { border: 1px solid #ccc; padding: 0.35em 0.6em; text-align: left; vertical-align: top; font-size: 0.92em; }
            th { background: #f0f0f0; }
            .bar { background: #eee; width: 8em; height: 0.9em; display: inline-block; vertical-align: middle; }
            .bar span { display: block; height: 100%; background: #2ca02c; }
            .verdict { color: #fff; padding: 0.1em 0.5em; border-radius: 3px; }
            code { font-size: 0.9em; }
            </style></head><body>
            <h1>GridRig conformance certificate</h1>
            <p><span class="outcome \(certification.passed ? "pass" : "fail")">\(outcome)</span></p>
            <table>
            <tr><th>role</th><td>\(markupEscaped(role)) (\(markupEscaped(certification.participant)) under test)</td></tr>
            <tr><th>controller</th><td><code>\(markupEscaped(certification.command?.joined(separator: " ") ?? "an endpoint started separately"))</code></td></tr>
            <tr><th>identity (hello.software)</th><td>\(markupEscaped(certification.software.isEmpty ? "none given" : certification.software.joined(separator: ", ")))</td></tr>
            <tr><th>GridRig version</th><td>\(Certification.gridRigVersion)</td></tr>
            <tr><th>suite version</th><td>\(certification.suite.version)</td></tr>
            <tr><th>seeds</th><td>\(certification.seeds.map { "\($0)" }.joined(separator: ", "))</td></tr>
            <tr><th>edition</th><td>\(markupEscaped(certification.edition.description))</td></tr>
            <tr><th>date</th><td>\(dateText)</td></tr>
            </table>
            <h2>Requirements</h2>
            <table><tr><th>requirement</th><th>statement</th><th>verdict</th><th>pass rate</th><th>evidence</th></tr>

            """
        for verdict in verdicts {
            let kind = verdict.passed ? "pass" : verdict.requirement.mandatory ? "fail" : "advisory"
            let failure = verdict.failures.first.map { "<br><small>\(markupEscaped("\($0.caseName) seed \($0.seed): \($0.detail)"))</small>" } ?? ""
            page += "<tr><td><b>\(markupEscaped(verdict.requirement.id))</b><br><small>\(verdict.requirement.mandatory ? "mandatory" : "advisory")</small></td>"
                + "<td>\(markupEscaped(verdict.requirement.statement))<br><small>judged by \(verdict.requirement.assertions.map(\.name).joined(separator: ", "))</small>\(failure)</td>"
                + "<td><span class=\"verdict \(kind)\">\(verdict.passed ? "pass" : "fail")</span></td>"
                + "<td><span class=\"bar\"><span style=\"width: \(Int((verdict.passRate * 100).rounded()))%\"></span></span> "
                + "\(verdict.passedRuns) of \(verdict.runs)</td>"
                + "<td><a href=\"\(markupEscaped(evidence(verdict)))\">run report</a></td></tr>\n"
        }
        page += "</table>\n"
        if let claims = certification.claims {
            page += "<h2>Claims</h2>\n<p>From <code>\(markupEscaped(claims.file))</code>\(claims.firmware.map { ": \(markupEscaped($0))" } ?? "").</p>\n"
                + "<table><tr><th>function</th><th>statement</th><th>verdict</th><th>judged by</th><th>cases</th></tr>\n"
            for verdict in certification.functionVerdicts {
                let kind = verdict.untested ? "advisory" : verdict.passed ? "pass" : "fail"
                page += "<tr><td><b>\(markupEscaped(verdict.function.id))</b></td><td>\(markupEscaped(verdict.function.statement))</td>"
                    + "<td><span class=\"verdict \(kind)\">\(Self.word(verdict).lowercased())</span></td>"
                    + "<td>\(markupEscaped(verdict.function.requirements.joined(separator: ", ")))</td><td>\(markupEscaped(verdict.cases.joined(separator: ", ")))</td></tr>\n"
            }
            page += "</table>\n<table><tr><th>claimed device</th><th>event</th><th>cases</th></tr>\n"
            for device in certification.coverage {
                for (index, entry) in device.events.enumerated() {
                    let head = index == 0 ? "<td rowspan=\"\(device.events.count)\"><b>\(markupEscaped(device.device))</b><br><small>\(markupEscaped(device.profile))</small></td>" : ""
                    page += "<tr>\(head)<td>\(markupEscaped(entry.event.rawValue))</td><td>\(entry.cases.isEmpty ? "<b>untested</b>" : markupEscaped(entry.cases.joined(separator: ", ")))</td></tr>\n"
                }
            }
            page += "</table>\n"
            for skipped in certification.notApplicable {
                page += "<p>Not applicable: <b>\(markupEscaped(skipped.caseName))</b>: \(markupEscaped(skipped.reason))</p>\n"
            }
        }
        page += "<h2>Cases</h2>\n<table><tr><th>case</th><th>file</th><th>SHA-256</th><th>runs</th></tr>\n"
        for suiteCase in certification.suite.cases {
            let runs = certification.runs.filter { $0.caseName == suiteCase.name }.map { run in
                let passed = run.error == nil && run.results.allSatisfy(\.passed)
                return "<a href=\"\(markupEscaped(run.report))/report.html\">seed \(run.seed): \(passed ? "pass" : "fail")</a>"
            }
            page += "<tr><td>\(markupEscaped(suiteCase.name))</td><td><code>\(markupEscaped(suiteCase.file))</code></td>"
                + "<td><code>\(suiteCase.sha256)</code></td><td>\(runs.joined(separator: "<br>"))</td></tr>\n"
        }
        return page + "</table>\n</body></html>\n"
    }

    /// Writes certificate.html, certificate.json, junit.xml and summary.txt into `folder` (the runs' reports are
    /// already in its `runs/`).
    public func write(to folder: String) throws(RunError) {
        let files = ["certificate.html": html, "certificate.json": json, "junit.xml": junit, "summary.txt": table]
        try writeFiles(files, to: folder, what: "the certificate")
    }
}
