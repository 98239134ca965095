import Bus
@testable import Emulators
import Foundation
import Messages
@testable import Modbus
import Physics
@testable import Reports
@testable import RigFiles
@testable import Rigs
@testable import Run
import TestSupport
@testable import Verdict

/// A run built by hand for one assertion's tests: the default rig's houses and devices, `intervals` intervals of
/// five minutes from midnight, the bus messages a test adds, physics sampled every 10 s from functions of time,
/// and the writes a test adds.
struct RunFixture {
    var rig: Rig
    var intervals: Int
    var messages: [(message: Message, received: Double)] = []
    var series: [SeriesKey: (Double) -> Double] = [:]
    var writes: [LoggedWrite] = []
    var silentSteps: [Int: [(time: Double, participants: [String])]] = [:]
    var market = MessageWriter(sender: "market"), conductor = MessageWriter(sender: "conductor")

    init(intervals: Int = 3, assertions: [AssertionSpec]) throws {
        rig = try RigLoader.load(file: "\(repository)/Rigs/neighborhood.yaml", profiles: "\(repository)/Profiles")
        rig.run.duration = Double(intervals) * 300
        rig.run.assertions = assertions
        self.intervals = intervals
    }

    /// The market's clearing and awards for `interval`, arriving at a wall time of `interval` seconds.
    mutating func clear(_ interval: Int, quantity: Double, awards: [HouseID: [Awards.Award]], price: Double = 0.2) {
        messages.append((conductor.message(Gate(), interval: interval), Double(interval)))
        messages.append((market.message(ClearingResult(price: price, quantity: quantity, clearingType: .buyer, marginalQuantity: 0,
                                                                marginalFraction: 0, unservedDemand: 0, bidCount: 1), interval: interval),
                         Double(interval) + 0.1))
        for house in awards.keys.sorted() {
            messages.append((market.message(Awards(house: house, price: price, awards: awards[house]!), interval: interval), Double(interval) + 0.2))
        }
    }

    /// An accepted write to `device` at simulated `time`.
    mutating func write(_ device: String, at time: Double) {
        let request = ModbusRequest.write(.holdingRegisters, address: 0, values: [1], isSingle: true)
        writes.append(LoggedWrite(device: device, simulatedTime: time,
                                  record: WriteRecord(unixTime: 1000 + time, address: UnitAddress(port: 1502, unit: 1), request: request, exception: nil)))
    }

    var record: RunRecord {
        get throws {
            let end = Double(intervals) * 300
            let times = Array(stride(from: 0.0, through: end, by: 10))
            let records = (1..<intervals + 1).map { number in
                var record = IntervalRecord(interval: number, start: Double(number - 1) * 300)
                record.silentSteps = silentSteps[number] ?? []
                return record
            }
            return RunRecord(rig: rig, intervals: records,
                             capture: try CaptureLog(messages.map { CapturedMessage(topic: $0.message.topic.description, payload: [$0.message.encoded()], received: $0.received) }),
                             writes: writes, physics: PhysicsSeries(times: times, values: series.mapValues { value in times.map(value) }),
                             households: ["h1", "h2", "h3", "h4"], wallSeconds: 0)
        }
    }

    func result(_ kind: AssertionSpec.Kind) throws -> AssertionResult? { RunReport(try record).results.first { $0.kind == kind } }
}
