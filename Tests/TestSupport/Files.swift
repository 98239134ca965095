public import Emulators
public import Files
import Foundation

/// The repository's root, found from this file: where the shipped rigs, profiles and suites are.
public let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

/// Writes `text` to a temporary profile file and loads it.
public func loadProfile(_ text: String) throws(FileError) -> DeviceProfile {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("profile-\(UUID().uuidString).yaml").path
    _ = FileManager.default.createFile(atPath: path, contents: Data(text.utf8))
    defer { try? FileManager.default.removeItem(atPath: path) }
    return try ProfileLoader.load(file: path)
}

/// The error a profile of that text is refused with; nil when it loads.
public func loadError(_ text: String) -> FileError? {
    do { _ = try loadProfile(text); return nil } catch { return error }
}

/// The head of an inverter profile whose points a test appends.
public let profileHeader = """
    kind: inverter
    product: test
    blocks:
      - table: holding-registers
        start: 0
        points:

    """
