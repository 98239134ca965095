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

    /// When the recording ends: its last row holds for one sampling period (the spacing of its last two rows).
    public var end: Double {
        guard let last = times.last else { return 0 }
        return times.count > 1 ? last + (last - times[times.count - 2]) : last
    }

    /// The value recorded for `column` at `time`: the last sample at or before it (a sampled log holds its value
    /// until the next sample; an empty cell is no sample); nil before the first row, after the recording ends (the
    /// last row holds for one sampling period, the spacing of the last two rows), or for a column not recorded.
    func value(_ column: String, at time: Double) -> Double? {
        guard let values = columns[column], let last = times.last, time < end - 1e-9 || time <= last + 1e-9 else { return nil }
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

        public init(time: Double, request: ModbusRequest, response: ModbusResponse) {
            self.time = time
            self.request = request
            self.response = response
        }
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
}
