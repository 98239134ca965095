import Bus
import Modbus

/// The Modbus requests a loop's households plan while it handles the messages of one wake-up, and what each of
/// them does once those are answered (its dispatch report, its time request). `send()` puts every request on its
/// device's connection before it reads any answer (`ModbusClient.transact`), so a loop reaches all its devices in
/// about one round trip instead of one after another. The loop sends twice a wake-up: the reads its households
/// will need, ahead of handling the messages, then the writes the messages planned, with the reports after them,
/// since those claim what landed.
final class ModbusBatch {
    private var requests: [(client: ModbusClient, unit: UInt8, request: ModbusRequest, done: (Result<[UInt16], ModbusClientError>) -> Void)] = []
    private var afterward: [(participant: Participant, body: () throws(BusError) -> Void)] = []
    /// The participants with something in `afterward`: asked of every message a loop serves.
    private var waiting: Set<ObjectIdentifier> = []
    /// Where the loop's connections wait for their answers, joined once each.
    private let answers = ModbusClient.AnswerPoll()
    /// Counts the times reads ahead expired: registers read ahead are good while it stays the same.
    private(set) var epoch = 0

    var isEmpty: Bool { requests.isEmpty && afterward.isEmpty }

    /// Plans `request` to `unit` on `client`'s connection; `done` learns its answer when the batch is sent.
    func add(_ request: ModbusRequest, on client: ModbusClient, unit: UInt8, done: @escaping (Result<[UInt16], ModbusClientError>) -> Void) {
        requests.append((client, unit, request, done))
    }

    /// What `participant` does once the batch is answered, in the order asked.
    func then(_ participant: Participant, _ body: @escaping () throws(BusError) -> Void) {
        afterward.append((participant, body))
        waiting.insert(ObjectIdentifier(participant))
    }

    /// Whether `participant` waits on the batch: its next message must wait until the batch is sent.
    func awaits(_ participant: Participant) -> Bool { waiting.contains(ObjectIdentifier(participant)) }

    /// Drops what `participant` was to do after the requests (it left the bus); its requests still go out.
    func forget(_ participant: Participant) {
        afterward.removeAll { $0.participant === participant }
        waiting.remove(ObjectIdentifier(participant))
    }

    /// Sends the requests, hands each its answer as it comes, then runs what waited on them. Returns the participants whose
    /// follow-up failed on the bus, with the error (the rest of theirs is not run).
    func send() -> [(participant: Participant, error: BusError)] {
        let requests = self.requests, afterward = self.afterward
        self.requests = []
        self.afterward = []
        waiting = []
        _ = ModbusClient.transact(requests.map { ($0.client, $0.unit, $0.request) }, on: answers) { index, result in requests[index].done(result) }
        var failed: [(participant: Participant, error: BusError)] = []
        for (participant, body) in afterward where !failed.contains(where: { $0.participant === participant }) {
            do { try body() } catch { failed.append((participant, error)) }
        }
        return failed
    }

    /// Ends the reads ahead: once writes went out, what was read before them is read again.
    func expireReads() { epoch += 1 }
}
