import ArgumentParser
import Bus
import Files
import Foundation

struct KeysCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys",
        abstract: "Make CURVE certificates for a bus that authenticates: the broker's and one per participant running elsewhere.",
        discussion: """
            Writes FOLDER/broker.key and broker.key_secret, and NAME.key and NAME.key_secret for each participant, in the format of ZeroMQ's own tools (pyzmq's zmq.auth.load_certificate reads them). Name the folder in the rig (bus: {keys: FOLDER}); give each firmware its NAME.key_secret and broker.key, and nothing else. Existing certificates are kept unless --replace is given. See docs/PROTOCOL.md, "Security".
            """)

    @Argument(help: "The folder to write the certificates into (created if needed).")
    var folder: String

    @Option(help: ArgumentHelp("The participants running elsewhere, e.g. h1,market.", valueName: "name,name..."))
    var participants: CommaList<String>

    @Flag(help: "Overwrite certificates that exist.")
    var replace = false

    func run() throws {
        let names = participants.items
        guard names.allSatisfy({ !$0.isEmpty && !$0.contains("/") }) else {
            throw ValidationError("--participants: expected names such as h1,market, found \"\(names.joined(separator: ","))\".")
        }
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        } catch {
            throw ValidationError("cannot make the folder \(folder): \(error.localizedDescription)")
        }
        for name in [BusKeyFiles.broker] + names {
            if !replace, FileManager.default.fileExists(atPath: "\(folder)/\(name).key_secret") {
                print("kept \(folder)/\(name).key_secret")
                continue
            }
            for path in try BusKeyFiles.write(try BusKeyPair.generate(), name: name, into: folder) { print("wrote \(path)") }
        }
    }
}
