public import Logging
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Where a unit is served: a TCP port and the MBAP unit id behind it.
public struct UnitAddress: Hashable, Sendable, CustomStringConvertible {
    public let port: UInt16
    public let unit: UInt8
    public init(port: UInt16, unit: UInt8) { self.port = port; self.unit = unit }
    public var description: String { "port \(port) unit \(unit)" }
}

/// Something the server answers for: a device's registers behind one or more unit ids.
public protocol ModbusUnit: AnyObject, Sendable {
    /// Answers one request. Called on the server thread: it must not block.
    func respond(to request: ModbusRequest, unit: UInt8) -> ModbusResponse
}

/// What happens to one request before it is answered (the fault schedule decides; normally `.reply`).
public enum ReplyVerdict: Sendable, Equatable {
    case reply
    /// Answer with this exception instead of serving the request.
    case exception(ModbusException)
    /// Swallow the request: the client times out.
    case noResponse
    /// Serve the request this long after it arrived, without holding up anyone else.
    case delay(Duration)
    /// Drop the TCP connection.
    case close
    /// Serve it, but send only the MBAP header and half the PDU: the client waits for bytes that never come.
    case partial
    /// Serve it, sending the MBAP header at once and the rest this long after (a slow serial gateway).
    case slow(Duration)
}

/// A client's write request and what it got back, stamped on arrival.
public struct WriteRecord: Sendable, Equatable {
    /// Wall-clock arrival, seconds since the Unix epoch.
    public let unixTime: Double
    public let address: UnitAddress
    public let request: ModbusRequest
    /// The exception answered, or nil when the write was accepted.
    public let exception: ModbusException?
}

/// Hooks around each request of one unit: before the reply and after a write; and whether its port takes a
/// new connection.
public protocol ModbusHooks: Sendable {
    func verdict(for request: ModbusRequest, at address: UnitAddress) -> ReplyVerdict
    func didWrite(_ record: WriteRecord)
    /// Whether a new client may connect while `open` connections are open on the port (every unit on the port
    /// must agree); a refused one is reset at once.
    func admits(open: Int) -> Bool
}

extension ModbusHooks {
    public func verdict(for request: ModbusRequest, at address: UnitAddress) -> ReplyVerdict { .reply }
    public func didWrite(_ record: WriteRecord) {}
    public func admits(open: Int) -> Bool { true }
}

/// No faults, no write log.
public struct NoHooks: ModbusHooks { public init() {} }

/// How one listening port behaves towards its clients.
public struct ListenerOptions: Sendable, Equatable {
    /// Connections idle this long (no complete request) are closed; nil keeps them open.
    public var idleTimeout: Duration?
    /// Connections past this many are closed on accept, like a product that takes only a few masters.
    public var maxConnections: Int?
    public init(idleTimeout: Duration? = nil, maxConnections: Int? = nil) {
        self.idleTimeout = idleTimeout
        self.maxConnections = maxConnections
    }
}

/// A Modbus TCP server: one thread and one epoll(7) loop for every port, unit and client of the process.
///
/// Requests are framed here, without blocking: a client that sends half a frame and stalls, or floods
/// requests, holds up nobody else. Units are found by port and MBAP unit id; a unit id with nothing
/// behind it is answered with exception 11 (gateway target device failed to respond), as a gateway does.
/// A malformed MBAP header (protocol id other than 0, length outside 2...254) closes that connection.
public final class ModbusServer: @unchecked Sendable {
    // @unchecked: `loop` and every socket are touched only by `thread`; other threads go through
    // `inbox` (a Mutex) and `wakeup` (a pipe in the loop's event set).
    private let inbox = Inbox()
    private let wakeup = WakeupPipe()
    private let loop: ServerLoop
    private let thread: LoopThread
    private let started = Mutex(false)

    /// Commands posted to the loop thread.
    final class Inbox: Sendable {
        let commands = Mutex<[Command]>([])
    }

    enum Command: Sendable {
        case listen(ListeningSocket, ListenerOptions)
        case serve(any ModbusUnit, UnitAddress, any ModbusHooks)
        case stop
    }

    public init(logger: Logger) {
        let loop = ServerLoop(logger: logger)
        self.loop = loop
        let inbox = self.inbox, wakeup = self.wakeup
        thread = LoopThread { loop.run(inbox: inbox, wakeup: wakeup) }
    }

    /// Binds a listening port now (errors surface here) and serves it from the loop.
    ///
    /// Port 0 picks a free port; the port bound is returned. The corresponding libmodbus function is
    /// `modbus_tcp_listen(3)`.
    @discardableResult
    public func listen(host: String = "127.0.0.1", port: UInt16, options: ListenerOptions = .init()) throws(ModbusError) -> UInt16 {
        let socket = try ListeningSocket(host: host, port: port)
        Socket.setNonBlocking(socket.descriptor)
        post(.listen(socket, options))
        return socket.port
    }

    /// Serves `unit` at a port already listened on and an MBAP unit id.
    public func serve(_ unit: any ModbusUnit, at address: UnitAddress, hooks: any ModbusHooks = NoHooks()) {
        post(.serve(unit, address, hooks))
    }

    /// Starts the loop thread (once).
    public func start() {
        let first = started.withLock { started in defer { started = true }; return !started }
        if first { thread.start() }
    }

    /// Closes every socket and joins the loop thread.
    public func stop() {
        let wasStarted = started.withLock { started in defer { started = false }; return started }
        guard wasStarted else { return }
        post(.stop)
        thread.join()
    }

    deinit { stop() }

    private func post(_ command: Command) {
        inbox.commands.withLock { $0.append(command) }
        wakeup.signal()
    }
}

/// The loop's own state; lives on the server thread only.
final class ServerLoop: @unchecked Sendable {
    // @unchecked: created on the owner's thread, then used only by the server thread.
    private struct Route { let unit: any ModbusUnit; let hooks: any ModbusHooks }
    private struct Listener { let socket: ListeningSocket; let options: ListenerOptions; var connections = 0 }
    private final class Connection {
        let descriptor: Int32
        let port: UInt16
        var input: [UInt8] = []
        var output: [UInt8] = []
        var lastRequest: ContinuousClock.Instant
        /// What the event set watches this connection for.
        var watched: Readiness = .readable
        init(descriptor: Int32, port: UInt16, now: ContinuousClock.Instant) {
            self.descriptor = descriptor
            self.port = port
            lastRequest = now
        }
    }
    private struct DelayedReply {
        let due: ContinuousClock.Instant
        let connection: Int32
        let header: [UInt8]
        let request: ModbusRequest
        let route: Route
        /// Already answered: these are the bytes still to send.
        var rest: [UInt8]? = nil
    }

    /// Frames served from one connection before the others get their turn.
    private static let framesPerTurn = 16
    /// Unsent bytes past which a connection is not read until its client reads its answers.
    private static let outputHighWater = 256 * 1024

    private let logger: Logger
    private var listeners: [UInt16: Listener] = [:]
    private var listenerPorts: [Int32: UInt16] = [:]
    private var routes: [UInt16: [UInt8: Route]] = [:]
    private var connections: [Int32: Connection] = [:]
    private var delayed: [DelayedReply] = []
    private var readBuffer = [UInt8](repeating: 0, count: 16 * 1024)
    private let clock = ContinuousClock()
    private let events = EventPoll()

    init(logger: Logger) { self.logger = logger }

    /// Connections with answers waiting to be sent.
    private var unflushed: Set<Int32> = []
    /// Listeners that close idle connections (the idle scan runs only when there are any), and when it runs next.
    private var idleTimeoutListeners = 0
    private lazy var nextIdleCheck = clock.now
    private lazy var nextDescriptorComplaint = clock.now

    func run(inbox: ModbusServer.Inbox, wakeup: WakeupPipe) {
        events.watch(wakeup.readEnd, for: .readable, isNew: true)
        var backlogged: Set<Int32> = []
        var ready: Set<Int32> = []
        var readable: Set<Int32> = []
        while true {
            let commands = inbox.commands.withLock { commands in defer { commands.removeAll() }; return commands }
            for command in commands {
                switch command {
                case .listen(let socket, let options):
                    listeners[socket.port] = Listener(socket: socket, options: options)
                    listenerPorts[socket.descriptor] = socket.port
                    if options.idleTimeout != nil { idleTimeoutListeners += 1 }
                    events.watch(socket.descriptor, for: .readable, isNew: true)
                case .serve(let unit, let address, let hooks): routes[address.port, default: [:]][address.unit] = Route(unit: unit, hooks: hooks)
                case .stop: shutDown(); return
                }
            }
            ready = backlogged
            backlogged.removeAll(keepingCapacity: true)
            readable.removeAll(keepingCapacity: true)
            let waited = events.wait(timeout: ready.isEmpty ? pollTimeout() : 0) { descriptor, readiness in
                if descriptor == wakeup.readEnd {
                    wakeup.drain()
                } else if let port = listenerPorts[descriptor] {
                    acceptAll(on: port)
                } else {
                    ready.insert(descriptor)
                    if !readiness.isDisjoint(with: [.readable, .closed]) { readable.insert(descriptor) }
                }
            }
            guard waited else {
                logger.error("epoll_wait failed; the Modbus server stops", metadata: ["errno": "\(errno)"])
                shutDown()
                return
            }
            for descriptor in ready {
                guard let connection = connections[descriptor] else { continue }
                if readable.contains(descriptor), !receive(connection) { continue }
                if !serveFrames(of: connection) { continue }
                if hasCompleteFrame(connection) { backlogged.insert(descriptor) }
            }
            releaseDueReplies()
            if idleTimeoutListeners > 0, clock.now >= nextIdleCheck { closeIdleConnections() }
            for descriptor in unflushed { if let connection = connections[descriptor] { flush(connection) } }
            for descriptor in ready.union(unflushed) {
                guard let connection = connections[descriptor] else { continue }
                let wanted = wantedReadiness(connection)
                if wanted != connection.watched {
                    events.watch(descriptor, for: wanted, isNew: false)
                    connection.watched = wanted
                }
            }
            unflushed.removeAll(keepingCapacity: true)
        }
    }

    /// Read until too many answers wait unread; write while answers wait.
    private func wantedReadiness(_ connection: Connection) -> Readiness {
        var wanted: Readiness = connection.output.count < Self.outputHighWater ? .readable : []
        if !connection.output.isEmpty { wanted.insert(.writable) }
        return wanted
    }

    private func pollTimeout() -> Int32 {
        // O(1) in the connections: the idle check keeps its own next time (a scan per wake-up made each request
        // cost more with every device served).
        let now = clock.now
        guard let next = (delayed.map(\.due) + (idleTimeoutListeners > 0 ? [nextIdleCheck] : [])).min() else { return -1 }
        let wait = now.duration(to: next)
        if wait <= .zero { return 0 }
        let (seconds, attoseconds) = wait.components
        return Int32(clamping: seconds * 1000 + attoseconds / 1_000_000_000_000_000 + 1)
    }

    private func acceptAll(on port: UInt16) {
        guard let listener = listeners[port] else { return }
        while let descriptor = Socket.accept(listener.socket.descriptor) {
            if let limit = listener.options.maxConnections, listener.connections >= limit {
                logger.notice("refused a connection past the limit", metadata: ["port": "\(port)", "limit": "\(limit)"])
                Socket.close(descriptor)
                continue
            }
            guard (routes[port] ?? [:]).values.allSatisfy({ $0.hooks.admits(open: listener.connections) }) else {
                logger.debug("refused a connection by the unit's fault", metadata: ["port": "\(port)"])
                Socket.reset(descriptor)
                continue
            }
            listeners[port]?.connections += 1
            connections[descriptor] = Connection(descriptor: descriptor, port: port, now: clock.now)
            if let idle = listener.options.idleTimeout { nextIdleCheck = min(nextIdleCheck, clock.now + idle) }
            events.watch(descriptor, for: .readable, isNew: true)
            logger.debug("client connected", metadata: ["port": "\(port)"])
        }
        if errno == EMFILE || errno == ENFILE, clock.now >= nextDescriptorComplaint {  // the clients wait in the backlog
            logger.error("cannot accept a client: the process has no file descriptor left; raise the hard limit (ulimit -Hn)",
                         metadata: ["port": "\(port)", "connections": "\(connections.count)"])
            nextDescriptorComplaint = clock.now + .seconds(10)
        }
    }

    /// Reads what has arrived; false when the connection is gone.
    private func receive(_ connection: Connection) -> Bool {
        switch Socket.receive(connection.descriptor, into: &readBuffer) {
        case .bytes(let count):
            connection.input.append(contentsOf: readBuffer[0..<count])
            return true
        case .wouldBlock:
            return true
        case .closed:
            close(connection, reason: "peer closed")
            return false
        }
    }

    private func frameLength(_ input: [UInt8]) -> Int? {
        guard input.count >= 7 else { return nil }
        return 6 + (Int(input[4]) << 8 | Int(input[5]))
    }

    private func hasCompleteFrame(_ connection: Connection) -> Bool {
        guard let length = frameLength(connection.input) else { return false }
        return connection.input.count >= length && connection.output.count < Self.outputHighWater
    }

    /// Serves up to `framesPerTurn` complete frames; false when the connection was closed.
    private func serveFrames(of connection: Connection) -> Bool {
        var consumed = 0
        defer { if consumed > 0, connections[connection.descriptor] != nil { connection.input.removeFirst(consumed) } }
        for _ in 0..<Self.framesPerTurn where connection.output.count < Self.outputHighWater {
            let input = connection.input[consumed...]
            guard input.count >= 7 else { break }
            let base = input.startIndex
            let protocolID = Int(input[base + 2]) << 8 | Int(input[base + 3])
            let length = Int(input[base + 4]) << 8 | Int(input[base + 5])
            guard protocolID == 0, (2...254).contains(length) else {
                close(connection, reason: "malformed MBAP header (protocol id \(protocolID), length \(length))")
                return false
            }
            guard input.count >= 6 + length else { break }
            let header = Array(input[base..<base + 7])
            let pdu = input[(base + 7)..<(base + 6 + length)]
            consumed += 6 + length
            connection.lastRequest = clock.now
            if !serve(pdu: pdu, header: header, on: connection) { return false }
        }
        return true
    }

    /// Answers one request PDU; false when its verdict closed the connection.
    private func serve(pdu: ArraySlice<UInt8>, header: [UInt8], on connection: Connection) -> Bool {
        let unit = header[6]
        guard let route = routes[connection.port]?[unit] else {
            let function = pdu.first ?? 0
            append(.exception(function: function & 0x7F, .gatewayTargetFailedToRespond), header: header, to: connection)
            return true
        }
        let request: ModbusRequest
        switch ModbusRequest.decode(pdu) {
        case .success(let decoded): request = decoded
        case .failure(let code):
            append(.exception(function: pdu.first ?? 0, code), header: header, to: connection)
            return true
        }
        let address = UnitAddress(port: connection.port, unit: unit)
        let verdict = route.hooks.verdict(for: request, at: address)
        switch verdict {
        case .reply:
            answer(request, header: header, route: route, on: connection)
        case .exception(let code):
            append(.exception(function: request.functionCode, code), header: header, to: connection)
            if request.isWrite { route.hooks.didWrite(record(request, address, code)) }
        case .noResponse:
            break
        case .delay(let duration):
            delayed.append(DelayedReply(due: clock.now + duration, connection: connection.descriptor, header: header, request: request, route: route))
        case .close:
            close(connection, reason: "closed by the unit's fault verdict")
            return false
        case .partial, .slow:
            var bytes: [UInt8] = []
            let response = route.unit.respond(to: request, unit: unit)
            Self.frame(response, header: header, into: &bytes)
            if request.isWrite { route.hooks.didWrite(record(request, address, response.exception)) }
            let cut = 7 + (bytes.count - 7) / 2
            connection.output.append(contentsOf: bytes[..<(verdict == .partial ? cut : 7)])
            unflushed.insert(connection.descriptor)
            if case .slow(let duration) = verdict {
                delayed.append(DelayedReply(due: clock.now + duration, connection: connection.descriptor, header: header, request: request,
                                            route: route, rest: Array(bytes[7...])))
            }
        }
        return true
    }

    private func answer(_ request: ModbusRequest, header: [UInt8], route: Route, on connection: Connection) {
        let response = route.unit.respond(to: request, unit: header[6])
        append(response, header: header, to: connection)
        if request.isWrite {
            route.hooks.didWrite(record(request, UnitAddress(port: connection.port, unit: header[6]), response.exception))
        }
    }

    private func record(_ request: ModbusRequest, _ address: UnitAddress, _ exception: ModbusException?) -> WriteRecord {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return WriteRecord(unixTime: Double(now.tv_sec) + Double(now.tv_nsec) / 1e9, address: address, request: request, exception: exception)
    }

    private func append(_ response: ModbusResponse, header: [UInt8], to connection: Connection) {
        Self.frame(response, header: header, into: &connection.output)
        unflushed.insert(connection.descriptor)
    }

    /// Appends the MBAP header (its length set) and the response PDU.
    private static func frame(_ response: ModbusResponse, header: [UInt8], into output: inout [UInt8]) {
        let start = output.count
        output.append(contentsOf: header)
        response.encode(into: &output)
        let length = output.count - start - 6
        output[start + 4] = UInt8(length >> 8)
        output[start + 5] = UInt8(length & 0xFF)
    }

    private func releaseDueReplies() {
        guard !delayed.isEmpty else { return }
        let now = clock.now
        let due = delayed.filter { $0.due <= now }
        delayed.removeAll { $0.due <= now }
        for reply in due {
            guard let connection = connections[reply.connection] else { continue }
            if let rest = reply.rest {
                connection.output.append(contentsOf: rest)
                unflushed.insert(connection.descriptor)
            } else {
                answer(reply.request, header: reply.header, route: reply.route, on: connection)
            }
        }
    }

    /// Closes the connections idle past their listener's timeout, and sets the next check to the earliest time
    /// another can be (never sooner than 50 ms): requests only move that time later.
    private func closeIdleConnections() {
        let now = clock.now
        var next = now + .seconds(3600)
        for connection in Array(connections.values) {
            guard let idle = listeners[connection.port]?.options.idleTimeout else { continue }
            if connection.lastRequest + idle <= now {
                close(connection, reason: "idle for \(idle)")
            } else {
                next = min(next, connection.lastRequest + idle)
            }
        }
        nextIdleCheck = max(next, now + .milliseconds(50))
    }

    private func flush(_ connection: Connection) {
        guard let sent = Socket.send(connection.descriptor, connection.output[...]) else {
            close(connection, reason: "send failed")
            return
        }
        connection.output.removeFirst(sent)
    }

    private func close(_ connection: Connection, reason: String) {
        logger.debug("client connection closed", metadata: ["port": "\(connection.port)", "reason": "\(reason)"])
        events.forget(connection.descriptor)
        Socket.close(connection.descriptor)
        connections[connection.descriptor] = nil
        unflushed.remove(connection.descriptor)
        listeners[connection.port]?.connections -= 1
        delayed.removeAll { $0.connection == connection.descriptor }
    }

    private func shutDown() {
        for connection in Array(connections.values) { close(connection, reason: "server stopping") }
        listeners.removeAll()
        listenerPorts.removeAll()
        routes.removeAll()
    }
}
