import Synchronization

/// A Modbus client failure, typed: what went wrong, the operation, the target, and the system's words.
public struct ModbusClientError: Error, CustomStringConvertible, Equatable {
    public enum Kind: Equatable, Sendable {
        /// The device answered with a Modbus exception.
        case exception(ModbusException)
        /// No answer (or no connection) within the timeout.
        case timeout
        /// Nothing listens at the address.
        case refused
        /// The device closed the connection.
        case closed
        /// An answer that does not fit the request.
        case invalidResponse
        /// Any other failure, by errno.
        case other(Int32)
    }

    public let kind: Kind
    public let operation: String
    public let target: String
    public let message: String

    public var description: String {
        switch kind {
        case .exception(let code): "\(target): \(operation): Modbus \(code)"
        default: "\(target): \(operation): \(message)"
        }
    }
}

/// A Modbus TCP client: connects on creation, typed reads and writes, typed errors. It waits with poll(2), so it
/// works at any descriptor number.
///
/// Not thread-safe: one owner at a time.
public final class ModbusClient {
    private let transport: ClientTransport
    public var unit: UInt8

    /// Connects; `timeout` bounds the connect and each answer.
    public init(host: String = "127.0.0.1", port: UInt16, unit: UInt8 = 1, timeout: Duration = .seconds(1)) throws(ModbusClientError) {
        transport = try ClientTransport(host: host, port: port, timeout: timeout)
        self.unit = unit
    }

    /// Sends one request and returns the values read (none for a write); an exception answer throws.
    private func transact(_ request: ModbusRequest) throws(ModbusClientError) -> [UInt16] {
        try values(of: try transport.transact(request, unit: unit, operation: request.operation), to: request, unit: unit)
    }

    /// The values an answer carries (none for a write); an exception answer throws.
    private func values(of response: ModbusResponse, to request: ModbusRequest, unit: UInt8) throws(ModbusClientError) -> [UInt16] {
        switch response {
        case .values(_, let values): return values
        case .written: return []
        case .exception(_, let code):
            throw ModbusClientError(kind: .exception(code), operation: request.operation, target: "\(transport.target) unit \(unit)", message: "\(code)")
        }
    }

    /// Sends each request on its client's connection (to the unit named with it), then reads the answers as they
    /// come, with one poll(2) over every connection: N devices answer in about one round trip, where one request
    /// after another takes N. Each result is what `read` or `write` would give: the values read (none for a write),
    /// or the error. A client named again in the batch takes its next request once its previous one is answered, in
    /// the batch's order; once one of its requests fails other than by an exception (a timeout, a lost connection),
    /// the rest fail with that error unsent, so that a silent device costs one timeout, not one per request.
    /// `answered` learns each result (by its index in `batch`) as soon as it is known: a write's acknowledgement is
    /// timed when it came, not when the slowest device of the batch answered.
    public static func transact(_ batch: [(client: ModbusClient, unit: UInt8, request: ModbusRequest)], on poll: AnswerPoll = AnswerPoll(),
                                answered: (Int, Result<[UInt16], ModbusClientError>) -> Void = { _, _ in }) -> [Result<[UInt16], ModbusClientError>] {
        var waves: [[Int]] = [], wave: [ObjectIdentifier: Int] = [:]
        for (index, (client, _, _)) in batch.enumerated() {
            let number = wave[ObjectIdentifier(client), default: -1] + 1
            wave[ObjectIdentifier(client)] = number
            if number == waves.count { waves.append([]) }
            waves[number].append(index)
        }
        var results = [Result<[UInt16], ModbusClientError>?](repeating: nil, count: batch.count)
        func finish(_ index: Int, _ result: Result<[UInt16], ModbusClientError>) {
            results[index] = result
            answered(index, result)
        }
        var broken: [ObjectIdentifier: ModbusClientError] = [:]
        for indices in waves {
            var sent: [(transport: ClientTransport, pending: ClientTransport.Pending)] = [], slots: [Int] = []
            for index in indices {
                let (client, unit, request) = batch[index]
                if let error = broken[ObjectIdentifier(client)] {
                    finish(index, .failure(error))
                    continue
                }
                do throws(ModbusClientError) {
                    sent.append((client.transport, try client.transport.send(request, unit: unit, operation: request.operation)))
                    slots.append(index)
                } catch {
                    finish(index, .failure(error))
                    broken[ObjectIdentifier(client)] = error
                }
            }
            ClientTransport.answers(to: sent, on: poll) { slot, answer in
                let (client, unit, request) = batch[slots[slot]]
                if case .failure(let error) = answer { broken[ObjectIdentifier(client)] = error }
                finish(slots[slot], answer.flatMap { response in
                    Result { () throws(ModbusClientError) in try client.values(of: response, to: request, unit: unit) }
                })
            }
        }
        return results.compactMap { $0 }  // each was sent and answered, or failed to be sent
    }

    /// The epoll(7) set where a batch's connections wait for their answers (`transact`). A connection joins it once,
    /// edge-triggered, and stays: a wait costs the answers that came, where poll(2) over the batch scanned every
    /// connection still owed one at each answer (several hundred a loop at a 1,000-house interval start). One owner
    /// at a time, as its clients.
    public final class AnswerPoll {
        private static let serial = Atomic<Int>(0)
        let id = AnswerPoll.serial.add(1, ordering: .relaxed).newValue
        let events = EventPoll()
        public init() {}
    }

    /// Reads raw registers (or bits as 0/1) from any table.
    public func read(_ table: RegisterTable = .holdingRegisters, at address: UInt16, count: Int) throws(ModbusClientError) -> [UInt16] {
        try transact(.read(table, address: address, count: UInt16(clamping: count)))
    }

    /// Reads one number of the given type.
    public func read(_ type: RegisterType, at address: UInt16, from table: RegisterTable = .holdingRegisters,
                     order: WordOrder = .highFirst) throws(ModbusClientError) -> Double {
        let registers = try read(table, at: address, count: type.registerCount)
        return type.decode(registers, order: order) ?? .nan
    }

    /// Reads an ASCII string of `registers` registers.
    public func readString(at address: UInt16, registers: Int, from table: RegisterTable = .holdingRegisters) throws(ModbusClientError) -> String {
        RegisterType.string(registers: registers).decodeText(try read(table, at: address, count: registers))
    }

    /// Writes raw values: FC 6 (or FC 5 for a coil) when there is one value and `single` holds, else FC 16 / FC 15.
    public func write(_ values: [UInt16], to table: RegisterTable = .holdingRegisters, at address: UInt16, single: Bool = true) throws(ModbusClientError) {
        _ = try transact(.write(table, address: address, values: values, isSingle: single && values.count == 1))
    }

    /// Writes one number of the given type in one request.
    public func write(_ number: Double, as type: RegisterType, at address: UInt16, order: WordOrder = .highFirst) throws(ModbusClientError) {
        try write(type.encode(number, order: order), at: address)
    }
}

extension ModbusRequest {
    /// What a client's error says it was doing: "read 2 holding-registers at 40083".
    var operation: String {
        switch self {
        case .read(let table, let address, let count): "read \(count) \(table.rawValue) at \(address)"
        case .write(let table, let address, let values, _): "write \(values.count) \(table.rawValue) at \(address)"
        }
    }
}
