import Emulators
import Modbus

/// An EMS log of Modbus traffic, replayed as a device's answers (docs/FAULTS.md, "Replay"): lines with `send`
/// (or `tx`) and `recv` (or `rx`) followed by the frame in hex, Modbus TCP or RTU, as evcc writes them at trace
/// level:
///
///     [battery] TRACE 2024/10/30 18:19:13 modbus: send 15 95 00 00 00 06 47 03 04 12 00 02
///     [battery] TRACE 2024/10/30 18:19:13 modbus: recv 15 95 00 00 00 07 47 03 04 00 00 42 be
///
/// The first `HH:MM:SS` on a line is its time of day (a line without one keeps the previous line's). A request
/// is paired with the next answer (with the same transaction id over TCP); a request never answered is left
/// out. Other lines are ignored: logs are noisy.
enum ModbusLog {
    /// `text`, read from `path` (named in errors).
    static func parse(path: String, _ text: String) throws(FileError) -> ModbusTrace {
        func fail(_ line: Int, _ message: String) -> FileError { FileError(file: path, line: line, column: 1, path: "", message: message) }
        var exchanges: [ModbusTrace.Exchange] = []
        var pending: [(line: Int, time: Double, transaction: Int?, request: ModbusRequest)] = []
        var time = 0.0
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let number = index + 1
            let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard let keyword = words.firstIndex(where: { ["send", "recv", "tx", "rx", "send:", "recv:", "tx:", "rx:"].contains($0.lowercased()) }) else { continue }
            if let stamp = words[..<keyword].lazy.compactMap(timeOfDay).first { time = stamp }
            let hex = words[(keyword + 1)...]
            guard !hex.isEmpty else { throw fail(number, "no frame after '\(words[keyword])'") }
            var bytes: [UInt8] = []
            for word in hex {
                guard word.count == 2, let byte = UInt8(word, radix: 16) else { throw fail(number, "expected hex bytes (e.g. 01 03 9c 40), found \"\(word)\"") }
                bytes.append(byte)
            }
            guard let frame = ModbusFrame(bytes) else {
                throw fail(number, "neither a Modbus TCP frame (its length field disagrees) nor an RTU frame (its CRC is wrong)")
            }
            if ["send", "tx"].contains(where: words[keyword].lowercased().hasPrefix) {
                switch ModbusRequest.decode(frame.pdu) {
                case .success(let request): pending.append((number, time, frame.transaction, request))
                case .failure: throw fail(number, "not a Modbus request this emulator serves (function \(frame.pdu.first ?? 0))")
                }
            } else {
                guard let match = pending.lastIndex(where: { frame.transaction == nil || $0.transaction == frame.transaction }) else { continue }
                let asked = pending.remove(at: match)
                guard let response = ModbusResponse.decode(frame.pdu, answering: asked.request) else {
                    throw fail(number, "this answer does not fit the request at line \(asked.line)")
                }
                exchanges.append(ModbusTrace.Exchange(time: asked.time, request: asked.request, response: response))
            }
        }
        return ModbusTrace(exchanges)
    }

    /// The time of day in a word that holds `HH:MM:SS` (a log's time, or ISO 8601's `2024-10-30T18:19:13Z`);
    /// fractions of a second are dropped.
    private static func timeOfDay(_ word: Substring) -> Double? {
        let clock = (word.split(separator: "T").last ?? word).prefix { $0.isNumber || $0 == ":" }
        return clock.count == 8 ? secondsSinceMidnight(String(clock)) : nil
    }
}
