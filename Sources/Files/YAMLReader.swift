import Foundation
import Yams

/// A problem in a file a user wrote, located compiler-style so editors jump there.
public struct FileError: Error, CustomStringConvertible, Equatable {
    public let file: String
    public let line: Int
    public let column: Int
    /// The key path, e.g. `blocks[0].points[12].sf`.
    public let path: String
    public let message: String

    package init(file: String, line: Int, column: Int, path: String, message: String) {
        (self.file, self.line, self.column, self.path, self.message) = (file, line, column, path, message)
    }

    public var description: String {
        path.isEmpty ? "\(file):\(line):\(column): \(message)" : "\(file):\(line):\(column): \(path): \(message)"
    }
}

/// A YAML node with its file and key path, read with checks that produce `FileError`s. Sendable by hand: Yams's
/// `Node` is an immutable value tree that only lacks the annotation.
package struct YAMLValue: @unchecked Sendable {
    let node: Node
    package let file: String
    package let path: String

    /// Parses a whole file.
    package static func load(file: String) throws(FileError) -> YAMLValue {
        guard let data = FileManager.default.contents(atPath: file) else {
            throw FileError(file: file, line: 0, column: 0, path: "", message: "cannot read the file")
        }
        let text = String(decoding: data, as: UTF8.self)
        do {
            guard let node = try Yams.compose(yaml: text) else {
                throw FileError(file: file, line: 1, column: 1, path: "", message: "expected a YAML mapping, found an empty file")
            }
            return YAMLValue(node: node, file: file, path: "")
        } catch let error as FileError {
            throw error
        } catch let error as YamlError {
            throw Self.locate(error, file: file)
        } catch {
            throw FileError(file: file, line: 1, column: 1, path: "", message: "not valid YAML: \(error)")
        }
    }

    private static func locate(_ error: YamlError, file: String) -> FileError {
        switch error {
        case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _), .composer(_, let problem, let mark, _):
            return FileError(file: file, line: mark.line, column: mark.column, path: "", message: "not valid YAML: \(problem)")
        default:
            return FileError(file: file, line: 1, column: 1, path: "", message: "not valid YAML: \(error)")
        }
    }

    package var line: Int { node.mark?.line ?? 0 }

    package func error(_ message: String) -> FileError {
        FileError(file: file, line: node.mark?.line ?? 0, column: node.mark?.column ?? 0, path: path, message: message)
    }

    /// "expected …, found …".
    package func expected(_ expectation: String) -> FileError { error("expected \(expectation), found \(found)") }

    private var found: String {
        switch node {
        case .scalar(let scalar): scalar.string.isEmpty ? "nothing" : "\"\(scalar.string)\""
        case .mapping: "a mapping"
        case .sequence: "a list"
        case .alias: "an alias"
        }
    }

    /// The mapping's entries; a key outside `allowed` is an error that lists the allowed keys.
    package func mapping(allowed: [String]) throws(FileError) -> [String: YAMLValue] {
        guard case .mapping(let mapping) = node else { throw expected("a mapping with keys \(allowed.joined(separator: ", "))") }
        var entries: [String: YAMLValue] = [:]
        for (key, value) in mapping {
            let name = key.string ?? ""
            let child = YAMLValue(node: value, file: file, path: path.isEmpty ? name : "\(path).\(name)")
            guard allowed.contains(name) else {
                throw YAMLValue(node: key, file: file, path: child.path).error("unknown key; expected one of \(allowed.joined(separator: ", "))")
            }
            entries[name] = child
        }
        return entries
    }

    /// A mapping whose keys are values of a closed set (`allowed`, in the order errors list them).
    package func mapping<Key: RawRepresentable<String> & Hashable>(allowed: [Key]) throws(FileError) -> [Key: YAMLValue] {
        try mapping(allowed: allowed, named: \.rawValue)
    }

    /// A mapping whose keys are values of a closed set, each written as `name` gives it.
    package func mapping<Key: Hashable>(allowed: [Key], named name: (Key) -> String) throws(FileError) -> [Key: YAMLValue] {
        let entries = try mapping(allowed: allowed.map(name))
        return Dictionary(uniqueKeysWithValues: allowed.compactMap { key in entries[name(key)].map { (key, $0) } })
    }

    /// Whether the value is a single scalar (not a mapping or a list).
    package var isScalar: Bool {
        if case .scalar = node { return true }
        return false
    }

    package func list() throws(FileError) -> [YAMLValue] {
        guard case .sequence(let sequence) = node else { throw expected("a list") }
        return sequence.enumerated().map { YAMLValue(node: $1, file: file, path: "\(path)[\($0)]") }
    }

    /// A scalar as text; empty only when `allowingEmpty` (a command's argument may be "").
    package func string(allowingEmpty: Bool = false) throws(FileError) -> String {
        guard case .scalar(let scalar) = node, allowingEmpty || !scalar.string.isEmpty else { throw expected("a string") }
        return scalar.string
    }

    package func double() throws(FileError) -> Double {
        guard case .scalar(let scalar) = node else { throw expected("a number") }
        if let integer = Self.integer(scalar.string) { return Double(integer) }
        guard let number = Double(scalar.string.replacingOccurrences(of: "_", with: "")), number.isFinite else { throw expected("a number") }
        return number
    }

    /// A number that must meet `isAllowed`; another is refused here, as `expectation` says.
    package func double(where isAllowed: (Double) -> Bool, expected expectation: String) throws(FileError) -> Double {
        let number = try double()
        guard isAllowed(number) else { throw expected(expectation) }
        return number
    }

    package func int(in range: ClosedRange<Int> = Int.min...Int.max) throws(FileError) -> Int {
        guard case .scalar(let scalar) = node, let integer = Self.integer(scalar.string), range.contains(integer) else {
            throw expected(range == Int.min...Int.max ? "an integer" : "an integer in \(range.lowerBound)...\(range.upperBound)")
        }
        return integer
    }

    package func bool() throws(FileError) -> Bool {
        guard case .scalar(let scalar) = node, let value = Bool(scalar.string.lowercased()) else { throw expected("true or false") }
        return value
    }

    /// One of a closed set's values (by their raw value).
    package func choice<T: RawRepresentable & CaseIterable>(_ type: T.Type) throws(FileError) -> T where T.RawValue == String {
        try choice(among: Array(T.allCases), named: \.rawValue)
    }

    /// One of `choices`, each written as `name` gives it.
    package func choice<T>(among choices: [T], named name: (T) -> String) throws(FileError) -> T {
        guard case .scalar(let scalar) = node, let value = choices.first(where: { name($0) == scalar.string }) else {
            throw expected("one of \(choices.map(name).joined(separator: ", "))")
        }
        return value
    }

    /// Seconds since midnight from "HH:MM" or "HH:MM:SS".
    package func timeOfDay() throws(FileError) -> Double {
        guard case .scalar(let scalar) = node, let seconds = secondsSinceMidnight(scalar.string) else {
            throw expected("a time of day as HH:MM")
        }
        return seconds
    }

    package static func integer(_ text: String) -> Int? {
        let cleaned = text.replacingOccurrences(of: "_", with: "")
        if cleaned.lowercased().hasPrefix("0x") { return Int(cleaned.dropFirst(2), radix: 16) }
        if cleaned.hasPrefix("-0x") { return Int(cleaned.dropFirst(3), radix: 16).map { -$0 } }
        return Int(cleaned)
    }
}

/// Seconds since midnight from "HH:MM" or "HH:MM:SS" (00:00 to 23:59:59); nil for anything else.
public func secondsSinceMidnight(_ text: String) -> Double? {
    let parts = text.split(separator: ":", omittingEmptySubsequences: false).map { Int($0) }
    guard (2...3).contains(parts.count), let hours = parts[0], let minutes = parts[1], (0...23).contains(hours),
          (0...59).contains(minutes) else { return nil }
    let seconds = parts.count == 3 ? parts[2] : 0
    guard let seconds, (0...59).contains(seconds) else { return nil }
    return Double(hours * 3600 + minutes * 60 + seconds)
}
