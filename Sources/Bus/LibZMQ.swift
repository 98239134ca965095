// Every call into libzmq lives in this file; no libzmq type or pointer leaves it.
private import CZMQ
#if canImport(Glibc)
import Glibc
#endif

/// A libzmq failure: the operation, its target, and libzmq's own words (`zmq_strerror(3)`).
public struct BusError: Error, CustomStringConvertible, Equatable, Sendable {
    public let operation: String
    public let code: Int32
    public let message: String
    public var description: String { "\(operation): \(message) (errno \(code))" }

    static func current(_ operation: String) -> BusError {
        let code = zmq_errno()  // before any other call can overwrite it
        return BusError(operation: operation, code: code, message: String(cString: zmq_strerror(code)))
    }
}

/// A ZeroMQ context: one per process or test. Thread-safe (zmq.adoc), so shared by reference.
public final class BusContext: @unchecked Sendable {
    // @unchecked: libzmq documents a context as safe to use from any thread.
    let raw: UnsafeMutableRawPointer

    public init() throws(BusError) {
        guard let raw = zmq_ctx_new() else { throw .current("zmq_ctx_new") }
        self.raw = raw
    }

    /// Waits for every socket to close (each holds a reference, so this runs last); sockets linger briefly.
    deinit { zmq_ctx_term(raw) }

    /// The libzmq version, e.g. "4.3.4".
    public static var libraryVersion: String {
        var major: Int32 = 0, minor: Int32 = 0, patch: Int32 = 0
        zmq_version(&major, &minor, &patch)
        return "\(major).\(minor).\(patch)"
    }
}

/// One ZeroMQ socket, owned by one thread at a time (libzmq sockets are not thread-safe).
final class BusSocket {
    enum Kind {
        case publisher, subscriber, extendedPublisher, extendedSubscriber

        var raw: Int32 {
            switch self {
            case .publisher: ZMQ_PUB
            case .subscriber: ZMQ_SUB
            case .extendedPublisher: ZMQ_XPUB
            case .extendedSubscriber: ZMQ_XSUB
            }
        }
    }

    private let context: BusContext
    fileprivate let raw: UnsafeMutableRawPointer
    let kind: Kind

    /// Messages queued past `highWater` per peer are dropped (PUB) rather than blocking anyone; closing waits at
    /// most `linger` for unsent messages.
    init(_ context: BusContext, _ kind: Kind, highWater: Int32 = 100_000, linger: Duration = .milliseconds(200)) throws(BusError) {
        guard let raw = zmq_socket(context.raw, kind.raw) else { throw .current("zmq_socket") }
        self.context = context
        self.raw = raw
        self.kind = kind
        try set(ZMQ_SNDHWM, highWater, "ZMQ_SNDHWM")
        try set(ZMQ_RCVHWM, highWater, "ZMQ_RCVHWM")
        try set(ZMQ_LINGER, Int32(linger / .milliseconds(1)), "ZMQ_LINGER")
    }

    deinit { zmq_close(raw) }

    private func set(_ option: Int32, _ value: Int32, _ name: String) throws(BusError) {
        var value = value
        guard zmq_setsockopt(raw, option, &value, MemoryLayout<Int32>.size) == 0 else { throw .current("zmq_setsockopt \(name)") }
    }

    /// Binds and returns the endpoint actually bound (a "*" port resolved), from ZMQ_LAST_ENDPOINT.
    func bind(_ endpoint: String) throws(BusError) -> String {
        guard zmq_bind(raw, endpoint) == 0 else { throw .current("zmq_bind \(endpoint)") }
        var buffer = [CChar](repeating: 0, count: 256)
        var size = buffer.count
        guard zmq_getsockopt(raw, ZMQ_LAST_ENDPOINT, &buffer, &size) == 0 else { throw .current("zmq_getsockopt ZMQ_LAST_ENDPOINT") }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    func connect(_ endpoint: String) throws(BusError) {
        guard zmq_connect(raw, endpoint) == 0 else { throw .current("zmq_connect \(endpoint)") }
    }

    /// A SUB socket's topic prefix filter ("" receives everything).
    func subscribe(_ prefix: String) throws(BusError) {
        let bytes = Array(prefix.utf8)
        guard zmq_setsockopt(raw, ZMQ_SUBSCRIBE, bytes, bytes.count) == 0 else { throw .current("zmq_setsockopt ZMQ_SUBSCRIBE \(prefix)") }
    }

    /// Sends a topic frame, then `frames`, as one multipart message (a PUB socket drops rather than block).
    func send(topic: String, _ frames: [[UInt8]]) throws(BusError) {
        var topic = topic
        let sent = topic.withUTF8 { zmq_send(raw, $0.baseAddress, $0.count, frames.isEmpty ? 0 : ZMQ_SNDMORE) }
        guard sent >= 0 else { throw .current("zmq_send") }
        guard !frames.isEmpty else { return }
        try send(frames)
    }

    /// Sends all frames as one multipart message. Returns false when it would block (a full queue) and `wait` is
    /// false; a PUB socket never blocks, it drops.
    @discardableResult
    func send(_ frames: [[UInt8]], wait: Bool = true) throws(BusError) -> Bool {
        for (index, frame) in frames.enumerated() {
            var flags: Int32 = index < frames.count - 1 ? ZMQ_SNDMORE : 0
            if !wait { flags |= ZMQ_DONTWAIT }
            let sent = frame.withUnsafeBytes { zmq_send(raw, $0.baseAddress, $0.count, flags) }
            guard sent >= 0 else {
                if zmq_errno() == EAGAIN, index == 0 { return false }
                throw .current("zmq_send")
            }
        }
        return true
    }

    /// Receives one whole multipart message, the first frame as text and the rest as bytes, or nil if none is
    /// waiting (never blocks).
    func receive() throws(BusError) -> (topic: String, payload: [[UInt8]])? {
        var topic: String?
        var payload: [[UInt8]] = []
        while true {
            var message = zmq_msg_t()
            zmq_msg_init(&message)
            defer { zmq_msg_close(&message) }
            let size = zmq_msg_recv(&message, raw, topic == nil ? ZMQ_DONTWAIT : 0)
            guard size >= 0 else {
                if zmq_errno() == EAGAIN, topic == nil { return nil }
                throw .current("zmq_msg_recv")
            }
            let bytes = UnsafeBufferPointer(start: zmq_msg_data(&message)!.assumingMemoryBound(to: UInt8.self), count: Int(size))
            if topic == nil { topic = String(decoding: bytes, as: UTF8.self) } else { payload.append(Array(bytes)) }
            guard zmq_msg_more(&message) == 1 else { return (topic!, payload) }
        }
    }

    /// Moves every waiting message to `destination` without copying it into Swift values, showing each frame to
    /// `record` first (the broker's capture; `last` marks a message's final frame). Returns how many messages
    /// moved. The buffers go to libzmq's send queue as they are (`zmq_msg_send(3)`), which is what lets one broker
    /// thread pass a million messages a second.
    func forwardWaiting(to destination: BusSocket, record: (_ frame: UnsafeRawBufferPointer, _ last: Bool) -> Void) throws(BusError) -> Int {
        var moved = 0
        var inside = false  // between the frames of one message
        while true {
            var message = zmq_msg_t()
            zmq_msg_init(&message)
            let size = zmq_msg_recv(&message, raw, inside ? 0 : ZMQ_DONTWAIT)
            guard size >= 0 else {
                zmq_msg_close(&message)
                if zmq_errno() == EAGAIN, !inside { return moved }
                throw .current("zmq_msg_recv")
            }
            let more = zmq_msg_more(&message) == 1
            record(UnsafeRawBufferPointer(start: zmq_msg_data(&message), count: Int(size)), !more)
            if zmq_msg_send(&message, destination.raw, more ? ZMQ_SNDMORE : 0) < 0 {
                zmq_msg_close(&message)  // a full queue drops, as PUB does
            }
            inside = more
            if !more { moved += 1 }
        }
    }

    /// Waits until some of `sockets` can be read, at most `timeout` (nil: forever); returns which.
    /// The corresponding libzmq function is `zmq_poll(3)`.
    static func readable(_ sockets: [BusSocket], timeout: Duration?) throws(BusError) -> [Bool] {
        var items = sockets.map { zmq_pollitem_t(socket: $0.raw, fd: 0, events: Int16(ZMQ_POLLIN), revents: 0) }
        let milliseconds = timeout.map { max(0, $0 / .milliseconds(1)) }.map { Int($0.rounded(.up)) } ?? -1
        guard zmq_poll(&items, Int32(items.count), milliseconds) >= 0 else {
            if zmq_errno() == EINTR { return sockets.map { _ in false } }
            throw .current("zmq_poll")
        }
        return items.map { $0.revents & Int16(ZMQ_POLLIN) != 0 }
    }
}
