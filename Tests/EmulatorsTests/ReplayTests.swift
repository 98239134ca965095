@testable import Emulators
import Testing

@Suite("Field replay: recorded measurements")
struct ReplayTests {
    @Test("A measurement trace holds each sample until the next (an empty cell is no sample); before the first row and after the recording there is none")
    func sampleAndHold() {
        let trace = MeasurementTrace(times: [100, 200, 300], columns: ["W": [1, .nan, 3]])
        #expect(trace.value("W", at: 99) == nil)
        #expect(trace.value("W", at: 100) == 1 && trace.value("W", at: 199.9) == 1)
        #expect(trace.value("W", at: 250) == 1, "an empty cell holds the sample before")
        #expect(trace.value("W", at: 300) == 3 && trace.value("W", at: 399) == 3, "the last row holds for one sampling period")
        #expect(trace.value("W", at: 400) == nil && trace.value("W", at: 1e6) == nil, "after the recording, the physics answers")
        #expect(trace.value("Hz", at: 300) == nil)
    }
}
