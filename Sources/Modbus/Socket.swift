// The POSIX calls of the server loop, each in one place: non-blocking sockets, epoll(7), a wakeup pipe, a thread.
private import CEpoll
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
        buffer.withUnsafeMutableBytes { receive(descriptor, into: $0) }
    }

    static func receive(_ descriptor: Int32, into buffer: UnsafeMutableRawBufferPointer) -> Received {
        let count = recv(descriptor, buffer.baseAddress, buffer.count, 0)
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

    /// Closes with a TCP reset (SO_LINGER 0): the client sees its connection reset, as with a refusing device.
    static func reset(_ descriptor: Int32) {
        var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
        _ = Glibc.close(descriptor)
    }
}

/// Readiness a descriptor is watched for, or was found with.
struct Readiness: OptionSet, Equatable {
    let rawValue: UInt32
    static let readable = Readiness(rawValue: EPOLLIN.rawValue)
    static let writable = Readiness(rawValue: EPOLLOUT.rawValue)
    /// Hang-up or error: reading will tell which.
    static let closed = Readiness(rawValue: EPOLLHUP.rawValue | EPOLLERR.rawValue)
    /// Reported once each time something arrives (edge-triggered), not for as long as it waits unread.
    static let edge = Readiness(rawValue: EPOLLET.rawValue)
}

/// An epoll(7) set: the cost of a wait follows the ready descriptors, not all watched ones (poll(2) scans every
/// descriptor on every wakeup, which dominated with a thousand idle devices).
final class EventPoll {
    private let descriptor = epoll_create1(Int32(EPOLL_CLOEXEC))
    private var ready = [epoll_event](repeating: epoll_event(), count: 256)

    deinit { Socket.close(descriptor) }

    /// Starts watching, or changes what is watched; false when the system refused.
    @discardableResult
    func watch(_ watched: Int32, for readiness: Readiness, isNew: Bool) -> Bool {
        var event = epoll_event()
        event.events = readiness.rawValue
        event.data.fd = watched
        return epoll_ctl(descriptor, isNew ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, watched, &event) == 0 || (isNew && errno == EEXIST)
    }

    /// Stops watching (before the descriptor is closed).
    func forget(_ watched: Int32) { _ = epoll_ctl(descriptor, EPOLL_CTL_DEL, watched, nil) }

    /// Waits up to `timeout` milliseconds (-1: no limit) and calls `body` for each ready descriptor.
    /// Returns false only on a real error.
    func wait(timeout: Int32, _ body: (Int32, Readiness) -> Void) -> Bool {
        let count = ready.withUnsafeMutableBufferPointer { epoll_wait(descriptor, $0.baseAddress, Int32($0.count), timeout) }
        guard count >= 0 else { return errno == EINTR }
        for index in 0..<Int(count) { body(ready[index].data.fd, Readiness(rawValue: ready[index].events)) }
        return true
    }
}

/// A pipe that wakes the server's event loop when another thread has posted work (NIO does this with an eventfd).
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

/// The process's descriptor limit (RLIMIT_NOFILE): every device costs a listening socket and a connection on each
/// side, so a thousand-house rig needs several thousand.
public enum DescriptorLimit {
    /// Raises the soft limit to the hard limit; returns the limit now in force, and the hard limit.
    @discardableResult
    public static func raise() -> (soft: Int, hard: Int) {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return (1024, 1024) }
        if limit.rlim_cur < limit.rlim_max {
            var raised = limit
            raised.rlim_cur = limit.rlim_max
            if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) == 0 { limit = raised }
        }
        func count(_ value: rlim_t) -> Int { Int(clamping: value) }  // RLIM_INFINITY is all ones: Int.max
        return (count(limit.rlim_cur), count(limit.rlim_max))
    }

    /// Descriptors open now (those listed in /proc/self/fd, this listing's own excepted).
    public static var open: Int {
        guard let directory = opendir("/proc/self/fd") else { return 0 }
        defer { closedir(directory) }
        var entries = 0
        while readdir(directory) != nil { entries += 1 }
        return entries - 3  // ".", ".." and the listing's own descriptor
    }
}
