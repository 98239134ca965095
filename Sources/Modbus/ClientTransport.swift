// A Modbus TCP client connection: MBAP framing over a non-blocking socket that waits with poll(2), or in a batch's
// epoll(7) set.
//
// libmodbus's client waits with select(2), whose fd_set ends at descriptor 1,023: in a process serving a thousand
// devices its next connection aborts the process. poll(2) has no such bound.
#if canImport(Glibc)
import Glibc
#endif

/// One TCP connection to a Modbus server, one transaction at a time.
final class ClientTransport {
    private let descriptor: Int32
    let target: String
    private let timeout: Duration
    /// The `ModbusClient.AnswerPoll` this connection waits in, once it joined one.
    private var polledBy: Int?
    private var transaction: UInt16 = 0
    /// Bytes received past the frame being read (a late answer to an abandoned request, say).
    private var received: [UInt8] = []

    init(host: String, port: UInt16, timeout: Duration) throws(ModbusClientError) {
        target = "\(host):\(port)"
        self.timeout = timeout
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var found: UnsafeMutablePointer<addrinfo>?
        let resolved = getaddrinfo(host, String(port), &hints, &found)
        guard resolved == 0, let address = found else {
            throw ModbusClientError(kind: .other(resolved), operation: "connect", target: target,
                                    message: String(cString: gai_strerror(resolved)))
        }
        defer { freeaddrinfo(found) }
        let descriptor = socket(address.pointee.ai_family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { throw .current("connect", target: target) }
        self.descriptor = descriptor
        Socket.setNonBlocking(descriptor)
        var one: Int32 = 1
        setsockopt(descriptor, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        let deadline = ContinuousClock.now + timeout
        if connect(descriptor, address.pointee.ai_addr, address.pointee.ai_addrlen) != 0 {
            guard errno == EINPROGRESS else { throw .current("connect", target: target) }
            try wait(for: Int16(POLLOUT), until: deadline, operation: "connect")
            var failure: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            getsockopt(descriptor, SOL_SOCKET, SO_ERROR, &failure, &length)
            guard failure == 0 else { throw .failed(failure, "connect", target: target) }
        }
    }

    deinit { Socket.close(descriptor) }

    /// A request sent whose answer has not been read yet.
    struct Pending {
        let transaction: UInt16
        let request: ModbusRequest
        let unit: UInt8
        let operation: String
        let deadline: ContinuousClock.Instant
    }

    /// Sends `request` to `unit` and returns the device's answer (an exception answer included). Answers to
    /// earlier requests that arrive late are skipped by their transaction id.
    func transact(_ request: ModbusRequest, unit: UInt8, operation: String) throws(ModbusClientError) -> ModbusResponse {
        let pending = try send(request, unit: unit, operation: operation)
        while true {
            if let answer = try answer(to: pending) { return answer }
            try receiveMore(until: pending.deadline, operation: operation)
        }
    }

    /// Sends `request` to `unit` without waiting for its answer, which `answer(to:)` reads.
    func send(_ request: ModbusRequest, unit: UInt8, operation: String) throws(ModbusClientError) -> Pending {
        transaction &+= 1
        let pending = Pending(transaction: transaction, request: request, unit: unit, operation: operation, deadline: ContinuousClock.now + timeout)
        var frame = [UInt8(transaction >> 8), UInt8(transaction & 0xFF), 0, 0, 0, 0, unit]
        request.encode(into: &frame)
        let length = frame.count - 6
        frame[4] = UInt8(length >> 8)
        frame[5] = UInt8(length & 0xFF)
        var sent = 0
        while sent < frame.count {
            guard let count = Socket.send(descriptor, frame[sent...]) else { throw .failed(errno, operation, target: target) }
            sent += count
            if sent < frame.count { try wait(for: Int16(POLLOUT), until: pending.deadline, operation: operation) }
        }
        return pending
    }

    /// The answer to `pending` if it is among the bytes received so far; nil while it is not whole. Frames of
    /// other transactions before it (late answers to abandoned requests) are dropped.
    func answer(to pending: Pending) throws(ModbusClientError) -> ModbusResponse? {
        while received.count >= 7, received.count >= 6 + (Int(received[4]) << 8 | Int(received[5])) {
            let end = 6 + (Int(received[4]) << 8 | Int(received[5]))
            let answer = received[..<end]
            received.removeFirst(end)
            guard end >= 8, answer[2] == 0, answer[3] == 0 else {
                throw ModbusClientError(kind: .invalidResponse, operation: pending.operation, target: target, message: "not a Modbus TCP frame")
            }
            guard UInt16(answer[0]) << 8 | UInt16(answer[1]) == pending.transaction else { continue }
            guard answer[6] == pending.unit, let response = ModbusResponse.decode(answer[7...], answering: pending.request) else {
                throw ModbusClientError(kind: .invalidResponse, operation: pending.operation, target: target,
                                        message: "an answer that does not fit the request")
            }
            return response
        }
        return nil
    }

    /// Reads what has arrived without waiting; false when nothing had. It stops at a read that leaves room in its
    /// buffer: the socket was empty then, so what comes later is a new arrival (`.edge`), and an answer costs one
    /// receive, not a second one to learn that nothing more is there.
    func receiveAvailable(operation: String) throws(ModbusClientError) -> Bool {
        var any = false
        while true {
            let (outcome, capacity) = withUnsafeTemporaryAllocation(byteCount: 4096, alignment: 1) { buffer in
                let outcome = Socket.receive(descriptor, into: buffer)
                if case .bytes(let count) = outcome { received += buffer[..<count] }
                return (outcome, buffer.count)
            }
            switch outcome {
            case .bytes(let count):
                any = true
                if count < capacity { return true }
            case .wouldBlock: return any
            case .closed: throw ModbusClientError(kind: .closed, operation: operation, target: target, message: "the device closed the connection")
            }
        }
    }

    /// Joins `poll` (once: it stays watched until closed); false when the system refused.
    func join(_ poll: ModbusClient.AnswerPoll) -> Bool {
        if polledBy == poll.id { return true }
        guard poll.events.watch(descriptor, for: [.readable, .edge], isNew: true) else { return false }
        polledBy = poll.id
        return true
    }

    /// The answers to requests sent on several connections, each read as it comes: every connection waits in
    /// `poll`, so N devices take about one round trip rather than N, and a wake-up costs the answers that came. A
    /// connection's failure (or its deadline passing) is its answer's; the others are still read. `answered` learns
    /// each answer (by its index in `sent`) the moment it is read.
    static func answers(to sent: [(transport: ClientTransport, pending: Pending)], on poll: ModbusClient.AnswerPoll,
                        answered: (Int, Result<ModbusResponse, ModbusClientError>) -> Void) {
        var settled = [Bool](repeating: false, count: sent.count), open = sent.count
        func finish(_ index: Int, _ result: Result<ModbusResponse, ModbusClientError>) {
            settled[index] = true
            open -= 1
            answered(index, result)
        }
        func settle(_ index: Int) {
            let (transport, pending) = sent[index]
            do throws(ModbusClientError) {
                if let answer = try transport.answer(to: pending) { finish(index, .success(answer)) }
            } catch {
                finish(index, .failure(error))
            }
        }
        var owed: [Int32: Int] = [:]
        owed.reserveCapacity(sent.count)
        for index in sent.indices {
            settle(index)
            guard !settled[index] else { continue }
            let transport = sent[index].transport
            if transport.join(poll) {
                owed[transport.descriptor] = index
            } else {
                finish(index, .failure(.failed(errno, "watch for the answer", target: transport.target)))
            }
        }
        let byDeadline = sent.indices.sorted { sent[$0].pending.deadline < sent[$1].pending.deadline }
        var soonest = 0
        while open > 0 {
            let now = ContinuousClock.now
            while soonest < byDeadline.count, settled[byDeadline[soonest]] || sent[byDeadline[soonest]].pending.deadline <= now {
                let index = byDeadline[soonest]
                soonest += 1
                guard !settled[index] else { continue }
                finish(index, .failure(ModbusClientError(kind: .timeout, operation: sent[index].pending.operation, target: sent[index].transport.target,
                                                         message: "no answer within \(sent[index].transport.timeout)")))
            }
            guard soonest < byDeadline.count else { break }
            let wait = now.duration(to: sent[byDeadline[soonest]].pending.deadline)
            let waited = poll.events.wait(timeout: Int32(clamping: Int((wait / .milliseconds(1)).rounded(.up)))) { descriptor, _ in
                // A connection not owed an answer now may report what came late; it is read with its next request.
                guard let index = owed[descriptor], !settled[index] else { return }
                do throws(ModbusClientError) {
                    if try sent[index].transport.receiveAvailable(operation: sent[index].pending.operation) { settle(index) }
                } catch {
                    finish(index, .failure(error))
                }
            }
            if !waited {
                let failure = ModbusClientError.failed(errno, "epoll_wait", target: "\(open) devices")
                for index in sent.indices where !settled[index] { finish(index, .failure(failure)) }
            }
        }
    }

    /// Reads what has arrived, or waits for more until `deadline`.
    private func receiveMore(until deadline: ContinuousClock.Instant, operation: String) throws(ModbusClientError) {
        guard try !receiveAvailable(operation: operation) else { return }
        try wait(for: Int16(POLLIN), until: deadline, operation: operation)
    }

    /// Waits for `events` until `deadline`; a timeout, or the socket's error, throws.
    private func wait(for events: Int16, until deadline: ContinuousClock.Instant, operation: String) throws(ModbusClientError) {
        while true {
            let left = ContinuousClock.now.duration(to: deadline)
            guard left > .zero else {
                throw ModbusClientError(kind: .timeout, operation: operation, target: target, message: "no answer within \(timeout)")
            }
            var watched = pollfd(fd: descriptor, events: events, revents: 0)
            let milliseconds = Int32(clamping: Int((left / .milliseconds(1)).rounded(.up)))
            let ready = poll(&watched, 1, milliseconds)
            if ready > 0 { return }  // readable, writable, or an error that the next call reports
            if ready < 0, errno != EINTR { throw .failed(errno, operation, target: target) }
        }
    }
}

extension ModbusClientError {
    static func current(_ operation: String, target: String) -> ModbusClientError { failed(errno, operation, target: target) }

    static func failed(_ code: Int32, _ operation: String, target: String) -> ModbusClientError {
        let kind: Kind = switch code {
        case ETIMEDOUT, EAGAIN: .timeout
        case ECONNREFUSED: .refused
        case ECONNRESET, EPIPE, EBADF, ENOTCONN: .closed
        default: .other(code)
        }
        return ModbusClientError(kind: kind, operation: operation, target: target, message: String(cString: strerror(code)))
    }
}
