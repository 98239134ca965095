// The POSIX calls of the server loop, each in one place: non-blocking sockets, poll(2), a wakeup pipe, a thread.
#if canImport(Glibc)
import Glibc
#endif

enum Socket {
    static func boundPort(_ descriptor: Int32) -> UInt16? {
        var address = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let done = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        return done == 0 ? UInt16(bigEndian: address.sin_port) : nil
    }

    static func setNonBlocking(_ descriptor: Int32) {
        _ = fcntl(descriptor, F_SETFL, fcntl(descriptor, F_GETFL) | O_NONBLOCK)
    }

    /// Accepts one pending connection, non-blocking, with TCP_NODELAY (a reply is one small segment).
    static func accept(_ listener: Int32) -> Int32? {
        let descriptor = Glibc.accept(listener, nil, nil)
        guard descriptor >= 0 else { return nil }
        setNonBlocking(descriptor)
        var one: Int32 = 1
        setsockopt(descriptor, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        return descriptor
    }

    enum Received { case bytes(Int), wouldBlock, closed }

    static func receive(_ descriptor: Int32, into buffer: inout [UInt8]) -> Received {
        let count = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
        if count > 0 { return .bytes(count) }
        if count < 0, errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR { return .wouldBlock }
        return .closed
    }

    /// Sends what the socket takes now; nil when the peer is gone.
    static func send(_ descriptor: Int32, _ bytes: ArraySlice<UInt8>) -> Int? {
        let count = bytes.withUnsafeBytes { Glibc.send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        if count >= 0 { return count }
        return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? 0 : nil
    }

    static func close(_ descriptor: Int32) { _ = Glibc.close(descriptor) }

    /// Waits for readiness; `timeout` in milliseconds, -1 for none. Returns false only on a real error.
    static func poll(_ descriptors: inout [pollfd], timeout: Int32) -> Bool {
        let ready = descriptors.withUnsafeMutableBufferPointer { Glibc.poll($0.baseAddress, nfds_t($0.count), timeout) }
        return ready >= 0 || errno == EINTR
    }
}

/// A pipe that wakes the server's poll(2) when another thread has posted work (NIO does this with an eventfd).
final class WakeupPipe: Sendable {
    let readEnd: Int32
    private let writeEnd: Int32

    init() {
        var ends: [Int32] = [-1, -1]
        _ = pipe(&ends)
        (readEnd, writeEnd) = (ends[0], ends[1])
        Socket.setNonBlocking(readEnd)
        Socket.setNonBlocking(writeEnd)
    }

    deinit {
        Socket.close(readEnd)
        Socket.close(writeEnd)
    }

    func signal() {
        var byte: UInt8 = 1
        _ = write(writeEnd, &byte, 1)
    }

    func drain() {
        var bytes = [UInt8](repeating: 0, count: 64)
        while read(readEnd, &bytes, bytes.count) > 0 {}
    }
}

/// A dedicated OS thread for a blocking loop (a `Task` would hold one of the cooperative pool's two threads).
final class LoopThread: @unchecked Sendable {
    // @unchecked: `handle` is written once by start() and read once by join(), both on the owner's thread.
    private var handle = pthread_t()
    private let body: @Sendable () -> Void

    init(_ body: @escaping @Sendable () -> Void) { self.body = body }

    func start() {
        let context = Unmanaged.passRetained(self).toOpaque()
        pthread_create(&handle, nil, { context in
            let thread = Unmanaged<LoopThread>.fromOpaque(context!).takeRetainedValue()
            thread.body()
            return nil
        }, context)
    }

    func join() { pthread_join(handle, nil) }
}
