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
        /// The broker's ZAP handler (ZeroMQ's authentication protocol, RFC 27).
        case reply
        /// The end of a socket monitor.
        case pair

        var raw: Int32 {
            switch self {
            case .reply: ZMQ_REP
            case .pair: ZMQ_PAIR
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

    private func set(_ option: Int32, _ text: String, _ name: String) throws(BusError) {
        let bytes = Array(text.utf8)
        guard zmq_setsockopt(raw, option, bytes, bytes.count) == 0 else { throw .current("zmq_setsockopt \(name)") }
    }

    /// Makes this socket a CURVE server: peers must present a key its ZAP handler accepts. Set before binding.
    func serveCurve(secretKey: String) throws(BusError) {
        try set(ZMQ_CURVE_SERVER, 1, "ZMQ_CURVE_SERVER")
        try set(ZMQ_CURVE_SECRETKEY, secretKey, "ZMQ_CURVE_SECRETKEY")
    }

    /// Makes this socket a CURVE client of the server whose public key `credentials` names. Set before connecting.
    func useCurve(_ credentials: BusCredentials) throws(BusError) {
        try set(ZMQ_CURVE_SERVERKEY, credentials.serverKey, "ZMQ_CURVE_SERVERKEY")
        try set(ZMQ_CURVE_PUBLICKEY, credentials.keys.publicKey, "ZMQ_CURVE_PUBLICKEY")
        try set(ZMQ_CURVE_SECRETKEY, credentials.keys.secretKey, "ZMQ_CURVE_SECRETKEY")
    }

    /// Asks the context's ZAP handler about every connection, also without CURVE, so that each message carries the
    /// connection's User-Id.
    func authenticate(domain: String) throws(BusError) { try set(ZMQ_ZAP_DOMAIN, domain, "ZMQ_ZAP_DOMAIN") }

    /// Publishes this socket's failed security handshakes (a client with the wrong server key, or without CURVE) on
    /// `endpoint`, for a `.pair` socket to read with `handshakeFailures()`.
    func monitorHandshakes(on endpoint: String) throws(BusError) {
        guard zmq_socket_monitor(raw, endpoint, ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL) == 0 else {
            throw .current("zmq_socket_monitor \(endpoint)")
        }
    }

    /// How many monitor events are waiting on this `.pair` socket (each a failed handshake); reads them all.
    func handshakeFailures() -> Int {
        var count = 0
        while let event = (try? receiveMessage()) ?? nil, event.frameCount == 2 { count += 1 }
        return count
    }

    /// A peer sending a frame larger than `bytes` is disconnected before the frame is read (ZMQ_MAXMSGSIZE).
    func limitFrames(to bytes: Int) throws(BusError) {
        var value = Int64(bytes)
        guard zmq_setsockopt(raw, ZMQ_MAXMSGSIZE, &value, MemoryLayout<Int64>.size) == 0 else { throw .current("zmq_setsockopt ZMQ_MAXMSGSIZE") }
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

    /// Receives one whole message as libzmq's buffers, or nil if none is waiting (never blocks). `reusing` an empty
    /// message (one that was sent) saves an allocation per message.
    func receiveMessage(reusing empty: ReceivedMessage? = nil) throws(BusError) -> ReceivedMessage? {
        let message = empty.flatMap { $0.frames.isEmpty ? $0 : nil } ?? ReceivedMessage()
        while true {
            var frame = zmq_msg_t()
            zmq_msg_init(&frame)
            guard zmq_msg_recv(&frame, raw, message.frames.isEmpty ? ZMQ_DONTWAIT : 0) >= 0 else {
                zmq_msg_close(&frame)
                if zmq_errno() == EAGAIN, message.frames.isEmpty { return nil }
                throw .current("zmq_msg_recv")
            }
            let more = zmq_msg_more(&frame) == 1
            message.frames.append(frame)
            if !more { return message }
        }
    }

    /// Sends `message`'s frames without copying them; `message` is empty afterwards. A full queue drops it.
    func send(_ message: ReceivedMessage) {
        for index in message.frames.indices {
            let last = index == message.frames.count - 1
            if zmq_msg_send(&message.frames[index], raw, last ? 0 : ZMQ_SNDMORE) < 0 { zmq_msg_close(&message.frames[index]) }
        }
        message.frames.removeAll(keepingCapacity: true)
    }

    /// Receives one whole message as bytes, or nil if none is waiting (never blocks).
    func receiveFrames() throws(BusError) -> [[UInt8]]? {
        guard let message = try receiveMessage() else { return nil }
        return message.frames.indices.map { message.bytes(of: $0) }
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


/// One whole message as the broker received it, its frames still libzmq's buffers (freed when it goes).
final class ReceivedMessage {
    // Unchecked: a message is used by one thread at a time, and the broker touches it several times per message.
    @exclusivity(unchecked) fileprivate var frames: [zmq_msg_t] = []

    /// Frees the frames of a message that is not sent (refused or dropped), leaving it empty for reuse.
    func discard() {
        for index in frames.indices { zmq_msg_close(&frames[index]) }
        frames.removeAll(keepingCapacity: true)
    }

    fileprivate init() {}

    deinit { discard() }

    var frameCount: Int { frames.count }
    var byteCount: Int { frames.indices.reduce(0) { $0 + zmq_msg_size(&frames[$1]) } }

    /// Frame `index` (the topic is frame 0), valid only inside `body`.
    func withFrame<T>(_ index: Int, _ body: (UnsafeRawBufferPointer) -> T) -> T {
        body(UnsafeRawBufferPointer(start: zmq_msg_data(&frames[index]), count: zmq_msg_size(&frames[index])))
    }

    func bytes(of index: Int) -> [UInt8] { withFrame(index) { Array($0) } }
    var topic: String { frames.isEmpty ? "" : withFrame(0) { String(decoding: $0, as: UTF8.self) } }

    /// A connection property of the message (`zmq_msg_gets(3)`): "User-Id" is what the ZAP handler named the
    /// connection, "Peer-Address" its IP address.
    func property(_ name: String) -> String? {
        guard !frames.isEmpty, let value = zmq_msg_gets(&frames[0], name) else { return nil }
        return String(cString: value)
    }

    /// An independent copy (a duplicated message); libzmq shares the buffers.
    func copy() -> ReceivedMessage {
        let copy = ReceivedMessage()
        for index in frames.indices {
            var frame = zmq_msg_t()
            zmq_msg_init(&frame)
            zmq_msg_copy(&frame, &frames[index])
            copy.frames.append(frame)
        }
        return copy
    }
}

/// A CURVE key pair, each key Z85-encoded in 40 characters (`zmq_curve(7)`).
public struct BusKeyPair: Sendable, Hashable {
    public let publicKey: String
    public let secretKey: String

    /// A fresh pair from libsodium's random source.
    public static func generate() throws(BusError) -> BusKeyPair {
        var publicKey = [CChar](repeating: 0, count: 41), secretKey = [CChar](repeating: 0, count: 41)
        guard zmq_curve_keypair(&publicKey, &secretKey) == 0 else { throw .current("zmq_curve_keypair") }
        return BusKeyPair(publicKey: BusKeyPair.text(publicKey), secretKey: BusKeyPair.text(secretKey))
    }

    /// The pair of a secret key, its public half derived; nil if `secretKey` is not 40 Z85 characters.
    public init?(secretKey: String) {
        guard secretKey.utf8.count == 40, BusKeyPair.isZ85(secretKey) else { return nil }
        var publicKey = [CChar](repeating: 0, count: 41)
        guard zmq_curve_public(&publicKey, secretKey) == 0 else { return nil }
        self.init(publicKey: BusKeyPair.text(publicKey), secretKey: secretKey)
    }

    private init(publicKey: String, secretKey: String) {
        self.publicKey = publicKey
        self.secretKey = secretKey
    }

    /// Whether `key` is 40 characters of ZeroMQ's Z85 alphabet, as every CURVE key is written.
    public static func isZ85(_ key: String) -> Bool {
        let alphabet = Set("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#".utf8)
        return key.utf8.count == 40 && key.utf8.allSatisfy(alphabet.contains)
    }

    /// The Z85 form of a 32-byte binary key, as a ZAP request carries it.
    static func z85(_ binary: [UInt8]) -> String? {
        guard binary.count == 32 else { return nil }
        var text = [CChar](repeating: 0, count: 41)
        guard zmq_z85_encode(&text, binary, 32) != nil else { return nil }
        return BusKeyPair.text(text)
    }

    /// A C string libzmq wrote into `buffer`, up to its terminating zero.
    private static func text(_ buffer: [CChar]) -> String {
        String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// What a participant presents to a broker with CURVE on: its own key pair and the broker's public key.
public struct BusCredentials: Sendable, Hashable {
    public var keys: BusKeyPair
    public var serverKey: String

    public init(keys: BusKeyPair, serverKey: String) {
        self.keys = keys
        self.serverKey = serverKey
    }
}
