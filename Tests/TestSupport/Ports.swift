import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The ports handed out so far in this test process: a range is free when it is checked, but the test binds it only
/// later, and a concurrent test must not be handed it in between (a broker once found its port taken that way).
private let handedOut = Mutex<Set<UInt16>>([])

/// `count` consecutive TCP ports that are free now, below the kernel's ephemeral range (32768 and up), where no
/// client connection of a concurrent test can take one, and handed to no other test of this process: for a rig
/// whose devices an endpoint must find at fixed ports.
public func freeConsecutivePorts(_ count: Int) -> UInt16 {
    func isFree(_ port: UInt16) -> Bool {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }
    while true {
        let base = UInt16.random(in: 20_000...30_000), ports = (0..<UInt16(count)).map { base + $0 }
        let taken = handedOut.withLock { handedOut in
            guard ports.allSatisfy({ !handedOut.contains($0) && isFree($0) }) else { return false }
            handedOut.formUnion(ports)
            return true
        }
        if taken { return base }
    }
}
