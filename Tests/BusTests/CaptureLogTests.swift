@testable import Bus
import Testing

/// The capture's log on disk (`CaptureLog`, `CaptureFile`): what goes in comes back out, in any order, across the
/// megabytes it is written and read in.
@Suite("The capture's log", .timeLimit(.minutes(1)))
struct CaptureLogTests {
    /// 3,000 messages of one to three frames, about 3 MB: several chunks written, several windows read.
    private static let messages: [CapturedMessage] = (0..<3_000).map { (index: Int) -> CapturedMessage in
        let frames: [[UInt8]] = (0..<(index % 3)).map { (frame: Int) -> [UInt8] in
            (0..<(500 + index % 700)).map { (byte: Int) -> UInt8 in UInt8((byte + frame + index) % 251) }
        }
        return CapturedMessage(topic: "t/\(index)", payload: frames, received: Double(index) / 10)
    }

    @Test("Every message reads back whole, frames and arrival, read in order, backwards and at random")
    func roundTrip() throws {
        let log = try CaptureLog(Self.messages)
        #expect(log.count == Self.messages.count)
        let random: [Int] = (0..<500).map { _ in Int.random(in: 0..<log.count) }
        let order: [Int] = Array(log.indices) + Array(log.indices.reversed()) + random
        for index in order {
            let message = log[index], expected = Self.messages[index]
            #expect(message.topic == expected.topic && message.payload == expected.payload && message.received == expected.received, "message \(index)")
            #expect(log.topic(at: index) == expected.topic)
        }
    }

    @Test("A copy keeps the messages it was taken with while the original takes more: the file is only appended to")
    func snapshot() throws {
        var log = try CaptureLog(Self.messages.prefix(10))
        let taken = log
        for frame in [Array("late".utf8), [1, 2, 3]] { frame.withUnsafeBytes { log.append(frame: $0) } }
        log.endMessage(at: 99)
        #expect(taken.count == 10 && log.count == 11)
        #expect(log[10].topic == "late" && log[10].payload == [[1, 2, 3]] && log[10].received == 99)
        #expect(taken.map { $0.topic } == Self.messages.prefix(10).map { $0.topic })
    }
}
