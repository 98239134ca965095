public import Bus
import Foundation

/// CURVE certificates as ZeroMQ's own tools write them (pyzmq's `zmq.auth.create_certificates`, CZMQ's zcert):
/// `NAME.key` holds a public key, `NAME.key_secret` the pair. A rig's `bus: {keys: FOLDER}` holds the broker's
/// pair (`broker.key_secret`) and each endpoint's public key (docs/PROTOCOL.md, "Security").
public enum BusKeyFiles {
    /// The broker's certificate name.
    public static let broker = "broker"

    /// The public key in `folder/NAME.key`.
    public static func publicKey(of name: String, in folder: String) throws(FileError) -> String {
        try keys(in: "\(folder)/\(name).key").publicKey
    }

    /// The key pair in `folder/NAME.key_secret`.
    public static func keyPair(of name: String, in folder: String) throws(FileError) -> BusKeyPair {
        let file = "\(folder)/\(name).key_secret"
        let found = try keys(in: file)
        guard let secret = found.secretKey else {
            throw FileError(file: file, line: 0, column: 0, path: "", message: "no secret-key line: this is a public certificate")
        }
        guard let pair = BusKeyPair(secretKey: secret) else {
            throw FileError(file: file, line: found.secretLine, column: 0, path: "", message: "secret-key is not 40 characters of Z85")
        }
        guard pair.publicKey == found.publicKey else {
            throw FileError(file: file, line: found.secretLine, column: 0, path: "", message: "the public-key is not the secret key's")
        }
        return pair
    }

    /// Writes `NAME.key` and `NAME.key_secret` (readable by the owner only) into `folder`; returns their paths.
    @discardableResult
    public static func write(_ pair: BusKeyPair, name: String, into folder: String) throws(FileError) -> [String] {
        let stamp = ISO8601DateFormatter().string(from: Date())
        let files = [
            ("\(folder)/\(name).key", "ZeroMQ CURVE Public Certificate", ["public-key = \"\(pair.publicKey)\""], 0o644),
            ("\(folder)/\(name).key_secret", "ZeroMQ CURVE **Secret** Certificate",
             ["public-key = \"\(pair.publicKey)\"", "secret-key = \"\(pair.secretKey)\""], 0o600),
        ]
        for (path, title, lines, mode) in files {
            let text = "#   ****  Generated on \(stamp) by gridrig keys  ****\n#   \(title)\n\nmetadata\ncurve\n"
                + lines.map { "    \($0)\n" }.joined()
            guard FileManager.default.createFile(atPath: path, contents: Data(text.utf8), attributes: [.posixPermissions: mode]) else {
                throw FileError(file: path, line: 0, column: 0, path: "", message: "cannot write the file")
            }
        }
        return files.map(\.0)
    }

    /// The keys of one certificate file, each with the line it is on.
    private static func keys(in file: String) throws(FileError) -> (publicKey: String, secretKey: String?, secretLine: Int) {
        guard let data = FileManager.default.contents(atPath: file) else {
            throw FileError(file: file, line: 0, column: 0, path: "", message: "cannot read the file (make keys with `gridrig keys`)")
        }
        var publicKey: String?, secretKey: String?, secretLine = 0
        for (index, line) in String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let parts = line.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2, ["public-key", "secret-key"].contains(parts[0]) else { continue }
            let value = parts[1].hasPrefix("\"") && parts[1].hasSuffix("\"") && parts[1].count >= 2 ? String(parts[1].dropFirst().dropLast()) : parts[1]
            guard BusKeyPair.isZ85(value) else {
                throw FileError(file: file, line: index + 1, column: 0, path: "", message: "\(parts[0]) is not 40 characters of Z85")
            }
            if parts[0] == "public-key" { publicKey = value } else { secretKey = value; secretLine = index + 1 }
        }
        guard let publicKey else { throw FileError(file: file, line: 0, column: 0, path: "", message: "no public-key line: not a ZeroMQ CURVE certificate") }
        return (publicKey, secretKey, secretLine)
    }
}
