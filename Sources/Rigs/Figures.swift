import Foundation

/// How runs' figures are summed up and written for a person: the verdict's, the reports' and the run's own.
package enum Figures {
    package static func percentile(_ values: [Double], _ p: Double) -> Double { percentile(sorted: values.sorted(), p) ?? 0 }

    /// The `p` percentile of values already in order; nil for none.
    package static func percentile(sorted: [Double], _ p: Double) -> Double? {
        sorted.isEmpty ? nil : sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))]
    }

    package static func format(_ value: Double, _ digits: Int = 2) -> String { String(format: "%.\(digits)f", value) }

    /// "p50 0.3 p99 1.2 max 1.5 ms".
    package static func latencies(_ values: [Double]) -> String {
        "p50 \(format(percentile(values, 0.5), 1)) p99 \(format(percentile(values, 0.99), 1)) max \(format(values.max() ?? 0, 1)) ms"
    }

    /// "HH:MM" of a simulated time, with the day when past the first.
    package static func clockTime(_ seconds: Double) -> String {
        guard seconds.isFinite else { return "end" }
        let total = Int(seconds.rounded())
        let day = total / 86_400, rest = total % 86_400
        let text = (rest / 3600 < 10 ? "0" : "") + "\(rest / 3600):" + (rest / 60 % 60 < 10 ? "0" : "") + "\(rest / 60 % 60)"
        return day > 0 ? "day \(day + 1) \(text)" : text
    }
}
