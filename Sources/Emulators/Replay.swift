public import Modbus

/// What a device replays from the field (docs/FAULTS.md, "Replay"): recorded measurements in its registers, or
/// recorded answers to the requests it receives.
public enum Replay: Sendable {
    case measurements(MeasurementTrace)
    case traffic(ModbusTrace)
}

/// Measurements recorded in the field, by column: a point's name in the device's profile, or a quantity.
public struct MeasurementTrace: Sendable, Equatable {
    /// Simulated seconds of each row, ascending.
    public let times: [Double]
    /// Each column's values, aligned with `times`; NaN where a row left the cell empty (columns sampled at
    /// different rates).
    public let columns: [String: [Double]]

    public init(times: [Double], columns: [String: [Double]]) {
        self.times = times
        self.columns = columns
    }

    /// The value recorded for `column` at `time`: the last sample at or before it (a sampled log holds its value
    /// until the next sample; an empty cell is no sample); nil before the first sample or for a column not recorded.
    func value(_ column: String, at time: Double) -> Double? {
        guard let values = columns[column] else { return nil }
        var low = 0, high = times.count  // the first row after `time`
        while low < high {
            let middle = (low + high) / 2
            if times[middle] <= time + 1e-9 { low = middle + 1 } else { high = middle }
        }
        return values[..<low].last { !$0.isNaN }
    }
}

/// Modbus traffic recorded in the field: each request and the answer the device gave.
public struct ModbusTrace: Sendable {
    public struct Exchange: Sendable, Equatable {
        /// Seconds since midnight.
        public let time: Double
        public let request: ModbusRequest
        public let response: ModbusResponse
    }

    public let exchanges: [Exchange]
    private let byRequest: [ModbusRequest: [Exchange]]

    public init(_ exchanges: [Exchange]) {
        self.exchanges = exchanges
        byRequest = Dictionary(grouping: exchanges, by: \.request)
    }

    /// The answer recorded for `request` at `time` (seconds since midnight of any day): the latest recorded at or
    /// before that time of day, else the earliest; nil if the request was never recorded.
    func response(to request: ModbusRequest, at time: Double) -> ModbusResponse? {
        guard let recorded = byRequest[request] else { return nil }
        let day = time.truncatingRemainder(dividingBy: 86_400)
        return (recorded.last { $0.time <= day } ?? recorded.first)?.response
    }

    public struct ParseError: Error, Sendable {
        public let line: Int
        public let message: String
    }

    /// Reads an EMS log of Modbus traffic: lines with `send` (or `tx`) and `recv` (or `rx`) followed by the frame
    /// in hex, Modbus TCP (with its MBAP header) or RTU (with its CRC), as evcc writes them at trace level:
    ///
    ///     [battery] TRACE 2024/10/30 18:19:13 modbus: send 15 95 00 00 00 06 47 03 04 12 00 02
    ///     [battery] TRACE 2024/10/30 18:19:13 modbus: recv 15 95 00 00 00 07 47 03 04 00 00 42 be
    ///
    /// The first `HH:MM:SS` on a line is its time of day (a line without one keeps the previous line's). A request
    /// is paired with the next answer (with the same transaction id over TCP); a request never answered is left
    /// out. Other lines are ignored: logs are noisy.
    public static func parse(_ text: String) throws(ParseError) -> ModbusTrace {
        var exchanges: [Exchange] = []
        var pending: [(line: Int, time: Double, transaction: Int?, request: ModbusRequest)] = []
        var time = 0.0
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let number = index + 1
            let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard let keyword = words.firstIndex(where: { ["send", "recv", "tx", "rx", "send:", "recv:", "tx:", "rx:"].contains($0.lowercased()) }) else { continue }
            if let stamp = words[..<keyword].lazy.compactMap(Self.timeOfDay).first { time = stamp }
            let hex = words[(keyword + 1)...]
            guard !hex.isEmpty else { throw ParseError(line: number, message: "no frame after '\(words[keyword])'") }
            var bytes: [UInt8] = []
            for word in hex {
                guard word.count == 2, let byte = UInt8(word, radix: 16) else {
                    throw ParseError(line: number, message: "expected hex bytes (e.g. 01 03 9c 40), found \"\(word)\"")
                }
                bytes.append(byte)
            }
            let (transaction, pdu) = try Self.frame(bytes, line: number)
            let isRequest = words[keyword].lowercased().hasPrefix("send") || words[keyword].lowercased().hasPrefix("tx")
            if isRequest {
                switch ModbusRequest.decode(pdu) {
                case .success(let request): pending.append((number, time, transaction, request))
                case .failure: throw ParseError(line: number, message: "not a Modbus request this emulator serves (function \(pdu.first ?? 0))")
                }
            } else {
                guard let match = pending.lastIndex(where: { transaction == nil || $0.transaction == transaction }) else { continue }
                let asked = pending.remove(at: match)
                guard let response = ModbusResponse.decode(pdu, answering: asked.request) else {
                    throw ParseError(line: number, message: "this answer does not fit the request at line \(asked.line)")
                }
                exchanges.append(Exchange(time: asked.time, request: asked.request, response: response))
            }
        }
        return ModbusTrace(exchanges)
    }

    /// The transaction id (TCP) and the PDU of a frame: TCP when the MBAP header fits the length, else RTU with
    /// its CRC checked.
    private static func frame(_ bytes: [UInt8], line: Int) throws(ParseError) -> (Int?, ArraySlice<UInt8>) {
        if bytes.count >= 8, bytes[2] == 0, bytes[3] == 0, Int(bytes[4]) << 8 | Int(bytes[5]) == bytes.count - 6 {
            return (Int(bytes[0]) << 8 | Int(bytes[1]), bytes[7...])
        }
        guard bytes.count >= 4 else { throw ParseError(line: line, message: "a frame of \(bytes.count) bytes is neither Modbus TCP nor RTU") }
        var crc: UInt16 = 0xFFFF
        for byte in bytes.dropLast(2) {
            crc ^= UInt16(byte)
            for _ in 0..<8 { crc = crc & 1 != 0 ? crc >> 1 ^ 0xA001 : crc >> 1 }
        }
        guard UInt16(bytes[bytes.count - 2]) | UInt16(bytes[bytes.count - 1]) << 8 == crc else {
            throw ParseError(line: line, message: "neither a Modbus TCP frame (its length field disagrees) nor an RTU frame (its CRC is wrong)")
        }
        return (nil, bytes[1..<(bytes.count - 2)])
    }

    /// Seconds since midnight of `HH:MM:SS[.fff]`, found anywhere in a word (e.g. ISO 8601's `2024-10-30T18:19:13Z`).
    private static func timeOfDay(_ word: Substring) -> Double? {
        let text = word.split(separator: "T").last ?? word
        let parts = text.prefix { $0.isNumber || $0 == ":" || $0 == "." }.split(separator: ":")
        guard parts.count == 3, let hours = Double(parts[0]), let minutes = Double(parts[1]), let seconds = Double(parts[2]),
              hours < 24, minutes < 60, seconds < 61 else { return nil }
        return hours * 3600 + minutes * 60 + seconds
    }
}
