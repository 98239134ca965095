import Messages

/// Every setpoint a household reports as landed has an accepted write to that device in the write log, between
/// its awards and its report. Catches an agent that reports what it meant to do rather than what the device took.
struct DispatchReportsTruthful: Assertion {
    func judge(_ run: RunView) -> Judgement {
        var claims = 0, failures: [String] = []
        var awardsAt: [String: Double] = [:]
        for (message, received) in run.messages {
            switch message.body {
            case .awards(let awards): awardsAt[awards.house] = received
            case .dispatch(let report):
                let from = awardsAt[report.house] ?? 0
                for setpoint in report.setpoints where setpoint.landedAt != nil {
                    claims += 1
                    if (run.firstWrite(to: setpoint.id, atOrAfter: from - 0.001) ?? .infinity) > received + 0.001 {
                        failures.append("interval \(message.header.interval ?? 0): \(setpoint.id) \(setpoint.name) reported landed, but no accepted write reached it")
                    }
                }
            default: continue
            }
        }
        return Judgement(passed: failures.isEmpty, measured: "\(failures.count) of \(claims) claims false", threshold: "0",
                         detail: failures.prefix(3).joined(separator: "; "))
    }
}
