import Foundation
import Logging
@testable import Modbus
import Synchronization
import Testing

/// A plain register store as a unit.
final class BankUnit: ModbusUnit {
    let bank: Mutex<RegisterBank>
    init(_ bank: RegisterBank) { self.bank = Mutex(bank) }
    func respond(to request: ModbusRequest, unit: UInt8) -> ModbusResponse { bank.withLock { $0.respond(to: request) } }
}

/// Answers every request with a chosen verdict and records writes.
final class ScriptedHooks: ModbusHooks {
    let verdict: ReplyVerdict
    let writes = Mutex<[WriteRecord]>([])
    /// Requests heard.
    let heard = Mutex(0)
    init(_ verdict: ReplyVerdict = .reply) { self.verdict = verdict }
    func verdict(for request: ModbusRequest, at address: UnitAddress) -> ReplyVerdict {
        heard.withLock { $0 += 1 }
        return verdict
    }
    func didWrite(_ record: WriteRecord) { writes.withLock { $0.append(record) } }
}

/// Answers its first request `delay` late, every other at once.
final class LateFirstHooks: ModbusHooks {
    let delay: Duration
    let heard = Mutex(0)
    init(delay: Duration) { self.delay = delay }
    func verdict(for request: ModbusRequest, at address: UnitAddress) -> ReplyVerdict {
        heard.withLock { heard in
            heard += 1
            return heard == 1 ? .delay(delay) : .reply
        }
    }
    func didWrite(_ record: WriteRecord) {}
}

/// A server on a free port with two units behind it.
struct LiveServer {
    let server = ModbusServer(logger: Logger(label: "test"))
    let port: UInt16

    init(hooks: any ModbusHooks = NoHooks(), options: ListenerOptions = .init()) throws {
        port = try server.listen(port: 0, options: options)
        for unit in [1, 2] as [UInt8] {
            let bank = try RegisterBank(blocks: [RegisterBlock(table: .holdingRegisters, start: 100, values: (0..<125).map { UInt16($0) + UInt16(unit) * 1000 })])
            server.serve(BankUnit(bank), at: UnitAddress(port: port, unit: unit), hooks: hooks)
        }
        server.start()
    }
}

/// A raw TCP socket, for frames no well-behaved client sends.
final class RawSocket {
    let descriptor: Int32
    init(port: UInt16) throws {
        descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let done = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard done == 0 else { throw ModbusClientError(kind: .refused, operation: "connect", target: "\(port)", message: "") }
    }
    func send(_ bytes: [UInt8]) { _ = bytes.withUnsafeBytes { Glibc.send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) } }
    /// Reads until the peer closes or `timeout` passes; true if it closed.
    func closedByPeer(within seconds: Int) -> Bool {
        var timeout = timeval(tv_sec: seconds, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var buffer = [UInt8](repeating: 0, count: 256)
        while true {
            let count = recv(descriptor, &buffer, buffer.count, 0)
            if count == 0 { return true }
            if count < 0 { return false }
        }
    }
    deinit { close(descriptor) }
}

@Suite("Modbus server over real TCP", .timeLimit(.minutes(1)))
struct ServerTests {
    @Test("Units behind one port answer by MBAP unit id; an unknown unit id is exception 11")
    func dispatchesByUnit() throws {
        let live = try LiveServer()
        let client = try ModbusClient(port: live.port, unit: 1)
        #expect(try client.read(at: 100, count: 2) == [1000, 1001])
        client.unit = 2
        #expect(try client.read(at: 100, count: 2) == [2000, 2001])
        client.unit = 9
        #expect(throws: ModbusClientError.self) { try client.read(at: 100, count: 1) }
        do { _ = try client.read(at: 100, count: 1) } catch { #expect(error.kind == .exception(.gatewayTargetFailedToRespond)) }
    }

    @Test("An unmapped address answers exception 2, and the client reports it by name")
    func unmapped() throws {
        let live = try LiveServer()
        let client = try ModbusClient(port: live.port)
        do {
            _ = try client.read(at: 5000, count: 1)
            Issue.record("expected an exception")
        } catch {
            #expect(error.kind == .exception(.illegalDataAddress))
            #expect(error.description.contains("illegal data address"))
        }
    }

    @Test("Writes are logged with their unit and outcome")
    func writeLog() throws {
        let hooks = ScriptedHooks()
        let live = try LiveServer(hooks: hooks)
        let client = try ModbusClient(port: live.port, unit: 2)
        try client.write([7, 8], at: 110, single: false)
        #expect(try client.read(at: 110, count: 2) == [7, 8])
        let writes = hooks.writes.withLock { $0 }
        #expect(writes.count == 1)
        #expect(writes.first?.address == UnitAddress(port: live.port, unit: 2))
        #expect(writes.first?.request == .write(.holdingRegisters, address: 110, values: [7, 8], isSingle: false))
        #expect(writes.first?.exception == nil)
    }

    @Test("A verdict's exception reaches the client", arguments: [ModbusException.serverDeviceFailure, .serverDeviceBusy])
    func verdictException(code: ModbusException) throws {
        let live = try LiveServer(hooks: ScriptedHooks(.exception(code)))
        let client = try ModbusClient(port: live.port)
        do { _ = try client.read(at: 100, count: 1); Issue.record("expected an exception") } catch {
            #expect(error.kind == .exception(code))
        }
    }

    @Test("No response makes the client time out; a delay still answers")
    func silenceAndDelay() throws {
        let silent = try LiveServer(hooks: ScriptedHooks(.noResponse))
        let client = try ModbusClient(port: silent.port, timeout: .milliseconds(200))
        do { _ = try client.read(at: 100, count: 1); Issue.record("expected a timeout") } catch { #expect(error.kind == .timeout) }
        let slow = try LiveServer(hooks: ScriptedHooks(.delay(.milliseconds(50))))
        #expect(try ModbusClient(port: slow.port).read(at: 100, count: 1) == [1000])
    }

    @Test("A batch sends every request before it reads any answer: each result is its own device's, a silent device times out alone, an exception stays its device's")
    func batch() throws {
        let plain = try LiveServer(), busy = try LiveServer(hooks: ScriptedHooks(.exception(.serverDeviceBusy)))
        let silent = try LiveServer(hooks: ScriptedHooks(.noResponse)), slow = try LiveServer(hooks: ScriptedHooks(.delay(.milliseconds(300))))
        let readers = try [plain, slow, plain].map { try ModbusClient(port: $0.port, unit: 1, timeout: .seconds(2)) }
        let writer = try ModbusClient(port: plain.port, unit: 2)
        let failing = [try ModbusClient(port: busy.port), try ModbusClient(port: silent.port, timeout: .milliseconds(200))]
        let began = ContinuousClock.now
        let results = ModbusClient.transact([(readers[0], readers[0].unit, .read(.holdingRegisters, address: 100, count: 2)),
                                             (failing[0], failing[0].unit, .read(.holdingRegisters, address: 100, count: 1)),
                                             (readers[1], readers[1].unit, .read(.holdingRegisters, address: 102, count: 1)),
                                             (writer, writer.unit, .write(.holdingRegisters, address: 110, values: [7], isSingle: true)),
                                             (failing[1], failing[1].unit, .read(.holdingRegisters, address: 100, count: 1)),
                                             (readers[2], readers[2].unit, .read(.holdingRegisters, address: 124, count: 1))])
        // The slow device's 300 ms and the silent one's 200 ms timeout ran side by side, not one after the other.
        #expect(ContinuousClock.now - began < .milliseconds(480))
        #expect(try results[0].get() == [1000, 1001])
        #expect(throws: ModbusClientError(kind: .exception(.serverDeviceBusy), operation: "read 1 holding-registers at 100",
                                          target: "127.0.0.1:\(busy.port) unit 1", message: "\(ModbusException.serverDeviceBusy)")) { try results[1].get() }
        #expect(try results[2].get() == [1002])
        #expect(try results[3].get() == [])
        #expect(try writer.read(at: 110, count: 1) == [7])
        #expect(throws: ModbusClientError.self) { try results[4].get() }
        if case .failure(let error) = results[4] { #expect(error.kind == .timeout) }
        #expect(try results[5].get() == [1024])
        // Each connection is left ready for the next request.
        #expect(try readers[1].read(at: 100, count: 1) == [1000])
    }

    @Test("A client named twice in a batch takes its requests in the batch's order, each answered as its own")
    func batchRepeatsClient() throws {
        let live = try LiveServer()
        let client = try ModbusClient(port: live.port, unit: 1), other = try ModbusClient(port: live.port, unit: 2)
        let results = ModbusClient.transact([(client, client.unit, .write(.holdingRegisters, address: 120, values: [42], isSingle: true)),
                                             (other, other.unit, .read(.holdingRegisters, address: 100, count: 1)),
                                             (client, client.unit, .read(.holdingRegisters, address: 120, count: 1)),
                                             (client, 2, .read(.holdingRegisters, address: 100, count: 1))])
        #expect(try results[0].get() == [])
        #expect(try results[1].get() == [2000])
        #expect(try results[2].get() == [42], "the read follows the write it comes after")
        #expect(try results[3].get() == [2000], "each request goes to the unit named with it")
    }

    @Test("A client whose request times out is sent no more of the batch: its later requests fail with that timeout")
    func batchAfterTimeout() throws {
        let hooks = ScriptedHooks(.noResponse)
        let silent = try LiveServer(hooks: hooks), live = try LiveServer()
        let client = try ModbusClient(port: silent.port, timeout: .milliseconds(200)), other = try ModbusClient(port: live.port)
        let results = ModbusClient.transact([(client, 1, .write(.holdingRegisters, address: 120, values: [1], isSingle: true)),
                                             (client, 1, .write(.holdingRegisters, address: 121, values: [2], isSingle: true)),
                                             (other, 1, .read(.holdingRegisters, address: 100, count: 1))])
        for result in results[0...1] {
            if case .failure(let error) = result { #expect(error.kind == .timeout) } else { Issue.record("\(result) is no timeout") }
        }
        #expect(try results[2].get() == [1000])
        #expect(hooks.heard.withLock { $0 } == 1, "the silent device heard the first request only")
    }

    @Test("Batches waiting in one answer poll: a late answer that came between them is skipped, and each request gets its own answer")
    func batchesShareAnswerPoll() throws {
        let late = try LiveServer(hooks: LateFirstHooks(delay: .milliseconds(300))), live = try LiveServer()
        let slow = try ModbusClient(port: late.port, timeout: .milliseconds(100)), other = try ModbusClient(port: live.port)
        let answers = ModbusClient.AnswerPoll()
        let first = ModbusClient.transact([(slow, 1, .read(.holdingRegisters, address: 100, count: 1)),
                                           (other, 1, .read(.holdingRegisters, address: 100, count: 1))], on: answers)
        if case .failure(let error) = first[0] { #expect(error.kind == .timeout) } else { Issue.record("\(first[0]) is no timeout") }
        #expect(try first[1].get() == [1000])
        Thread.sleep(forTimeInterval: 0.4)  // the late answer arrives while no batch waits for it
        let second = ModbusClient.transact([(slow, 1, .read(.holdingRegisters, address: 101, count: 1)),
                                            (other, 2, .read(.holdingRegisters, address: 102, count: 1))], on: answers)
        #expect(try second[0].get() == [1001], "the late answer to the first read is not taken for the second's")
        #expect(try second[1].get() == [2002])
        let elsewhere = ModbusClient.transact([(slow, 1, .read(.holdingRegisters, address: 103, count: 1))])
        #expect(try elsewhere[0].get() == [1003], "a connection waits in another poll as well")
        let again = ModbusClient.transact([(slow, 2, .read(.holdingRegisters, address: 104, count: 1))], on: answers)
        #expect(try again[0].get() == [2004])
    }

    @Test("Nothing listening is reported as refused")
    func refused() throws {
        let live = try LiveServer()
        let port = live.port
        live.server.stop()
        do { _ = try ModbusClient(port: port); Issue.record("expected refused") } catch { #expect(error.kind == .refused) }
    }

    @Test("A half frame, a wrong protocol id and a flood on other connections never delay another client")
    func misbehavingClients() throws {
        let live = try LiveServer()
        let stalled = try RawSocket(port: live.port)
        stalled.send([0, 1, 0, 0, 0, 6, 1, 3])  // half a read request, then silence
        let flood = try RawSocket(port: live.port)
        let request: [UInt8] = [0, 1, 0, 0, 0, 6, 1, 3, 0, 100, 0, 125]
        flood.send(Array((0..<2000).map { _ in request }.joined()))  // never reads its answers
        let wrongProtocol = try RawSocket(port: live.port)
        wrongProtocol.send([0, 1, 0, 7, 0, 6, 1, 3, 0, 100, 0, 1])
        #expect(wrongProtocol.closedByPeer(within: 5))
        let garbage = try RawSocket(port: live.port)
        garbage.send([0, 1, 0, 0, 0xFF, 0xFF, 1, 3])  // length 65535: malformed
        #expect(garbage.closedByPeer(within: 5))
        let abrupt = try RawSocket(port: live.port)
        abrupt.send([0, 1, 0, 0, 0, 6])
        _ = abrupt  // closed on deinit mid-frame
        let client = try ModbusClient(port: live.port, unit: 2, timeout: .seconds(2))
        for _ in 0..<50 { #expect(try client.read(at: 100, count: 3) == [2000, 2001, 2002]) }
    }

    @Test("A port in use is reported with libmodbus's words")
    func portInUse() throws {
        let live = try LiveServer()
        let other = ModbusServer(logger: Logger(label: "test"))
        do { try other.listen(port: live.port); Issue.record("expected address in use") } catch {
            #expect(error.description.contains("modbus_tcp_listen"))
            #expect(error.code == EADDRINUSE)
        }
    }

    @Test("Connections past the limit are closed")
    func connectionLimit() throws {
        let live = try LiveServer(options: ListenerOptions(maxConnections: 1))
        let first = try ModbusClient(port: live.port)
        #expect(try first.read(at: 100, count: 1) == [1000])
        let second = try RawSocket(port: live.port)
        #expect(second.closedByPeer(within: 5))
        #expect(try first.read(at: 100, count: 1) == [1000])
    }

    @Test("A connection idle past the timeout is dropped")
    func idleTimeout() throws {
        let live = try LiveServer(options: ListenerOptions(idleTimeout: .milliseconds(300)))
        let idle = try RawSocket(port: live.port)
        #expect(idle.closedByPeer(within: 5))
    }
}
