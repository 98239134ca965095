import Bus
import Modbus

/// The Modbus writes a loop's households plan while it handles the messages of one wake-up, and what each of them
/// does once those writes are answered (its dispatch report, its time request). `send()` puts every write on its
/// device's connection before it reads any answer (`ModbusClient.transact`), so a loop sets all its devices in
/// about one round trip instead of one after another; the reports go out after, since they claim what landed.
final class WriteBatch {
    private var writes: [(client: ModbusClient, unit: UInt8, request: ModbusRequest, done: (Result<[UInt16], ModbusClientError>) -> Void)] = []
    private var afterward: [(participant: Participant, body: () throws(BusError) -> Void)] = []

    var isEmpty: Bool { writes.isEmpty && afterward.isEmpty }

    /// Plans `request` to `unit` on `client`'s connection; `done` learns its answer when the batch is sent.
    func add(_ request: ModbusRequest, on client: ModbusClient, unit: UInt8, done: @escaping (Result<[UInt16], ModbusClientError>) -> Void) {
        writes.append((client, unit, request, done))
    }

    /// What `participant` does once the batch is answered, in the order asked.
    func then(_ participant: Participant, _ body: @escaping () throws(BusError) -> Void) {
        afterward.append((participant, body))
    }

    /// Whether `participant` waits on the batch: its next message must wait until the batch is sent.
    func awaits(_ participant: Participant) -> Bool { afterward.contains { $0.participant === participant } }

    /// Drops what `participant` was to do after the writes (it left the bus); its writes still go out.
    func forget(_ participant: Participant) { afterward.removeAll { $0.participant === participant } }

    /// Sends the writes, hands each its answer, then runs what waited on them. Returns the participants whose
    /// follow-up failed on the bus, with the error (the rest of theirs is not run).
    func send() -> [(participant: Participant, error: BusError)] {
        let writes = self.writes, afterward = self.afterward
        self.writes = []
        self.afterward = []
        for (write, result) in zip(writes, ModbusClient.transact(writes.map { ($0.client, $0.unit, $0.request) })) { write.done(result) }
        var failed: [(participant: Participant, error: BusError)] = []
        for (participant, body) in afterward where !failed.contains(where: { $0.participant === participant }) {
            do { try body() } catch { failed.append((participant, error)) }
        }
        return failed
    }
}
