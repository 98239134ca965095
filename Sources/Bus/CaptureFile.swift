import Foundation
import Synchronization

/// The bytes of a capture, on disk: an unlinked temporary file (gone once closed, even if the process dies), written
/// a megabyte at a time as the run goes and read back through a megabyte's window. A 1,000-house day captures
/// about 700 MB, which a run would otherwise hold in memory beside everything the verdict decodes from it.
final class CaptureFile: Sendable {
    private struct State {
        let descriptor: Int32
        /// Bytes on disk, then those not written yet (all of them from the first failed write on).
        var written = 0
        var pending: [UInt8] = []
        var failed = false
        /// The last bytes read from disk, from `offset`.
        var window: (offset: Int, bytes: [UInt8]) = (0, [])
    }

    private static let chunk = 1 << 20
    private let state: Mutex<State>

    /// Opens a new file in the temporary folder (TMPDIR).
    init() throws(BusError) {
        var template = Array(FileManager.default.temporaryDirectory.appendingPathComponent("gridrig-capture-XXXXXX").path.utf8CString)
        let descriptor = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard descriptor >= 0 else {
            throw BusError(operation: "the bus capture's temporary file in \(FileManager.default.temporaryDirectory.path)", code: errno,
                           message: String(cString: strerror(errno)))
        }
        _ = template.withUnsafeBufferPointer { unlink($0.baseAddress!) }
        state = Mutex(State(descriptor: descriptor))
    }

    deinit { state.withLock { _ = close($0.descriptor) } }

    /// Bytes kept, on disk and not.
    var byteCount: Int { state.withLock { $0.written + $0.pending.count } }

    /// Appends `bytes`, writing the pending megabyte when it is full. A write that fails (a full disk) leaves the
    /// bytes in memory, and every later one with them: nothing kept is lost.
    func append(_ bytes: UnsafeRawBufferPointer) {
        state.withLock { state in
            state.pending.append(contentsOf: bytes)
            if !state.failed, state.pending.count >= Self.chunk { Self.flush(&state) }
        }
    }

    private static func flush(_ state: inout State) {
        var done = 0
        while done < state.pending.count {
            let count = state.pending.withUnsafeBytes { write(state.descriptor, $0.baseAddress! + done, $0.count - done) }
            if count < 0, errno == EINTR { continue }
            guard count > 0 else {
                state.failed = true
                break
            }
            done += count
        }
        state.written += done
        state.pending.removeFirst(done)
    }

    /// The bytes in `range`, which must lie within `byteCount`.
    func read(_ range: Range<Int>) -> [UInt8] {
        state.withLock { state in
            var bytes: [UInt8] = []
            bytes.reserveCapacity(range.count)
            if range.lowerBound < state.written {
                let disk = range.lowerBound..<min(range.upperBound, state.written)
                let window = state.window.offset..<(state.window.offset + state.window.bytes.count)
                if !(window.lowerBound <= disk.lowerBound && disk.upperBound <= window.upperBound) {
                    state.window = (disk.lowerBound, Self.readDisk(state.descriptor, disk.lowerBound..<min(state.written, disk.lowerBound + max(disk.count, Self.chunk))))
                }
                let offset = disk.lowerBound - state.window.offset
                bytes.append(contentsOf: state.window.bytes[offset..<min(state.window.bytes.count, offset + disk.count)])
            }
            if range.upperBound > state.written {
                bytes.append(contentsOf: state.pending[(max(range.lowerBound, state.written) - state.written)..<(range.upperBound - state.written)])
            }
            return bytes
        }
    }

    /// What the file holds in `range` (less, should the disk fail to give it all).
    private static func readDisk(_ descriptor: Int32, _ range: Range<Int>) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: range.count), done = 0
        while done < range.count {
            let count = bytes.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress! + done, $0.count - done, off_t(range.lowerBound + done)) }
            if count < 0, errno == EINTR { continue }
            guard count > 0 else { break }
            done += count
        }
        return Array(bytes[..<done])
    }
}
