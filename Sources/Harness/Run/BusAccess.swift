import Bus
import Messages

/// Who may use a run's bus (docs/PROTOCOL.md, "Security"): the broker's rules, and the credentials of every
/// participant GridRig starts. With authentication, GridRig makes a key pair per run for each participant it
/// starts; an endpoint's public key, and then the broker's pair, come from the rig's keys folder.
struct BusAccess {
    let rules: BusRules
    /// By participant; empty without authentication.
    let credentials: [String: BusCredentials]

    /// - Parameter speakers: every participant by name, each with the further senders it speaks for (the conductor
    ///   bids as `grid`), and whether it runs elsewhere.
    init(_ settings: RunSettings.BusSettings, speakers: [(name: String, alsoSpeaksFor: [String], endpoint: Bool)]) throws(RunError) {
        var rules = BusRules(roster: BusRoster(names: Set(speakers.flatMap { [$0.name] + $0.alsoSpeaksFor }),
                                               sender: { Message.sender(of: $0) }))
        rules.maxMessageBytes = settings.maxMessageBytes
        rules.rateLimit = settings.rateLimit
        rules.captureLimit = settings.captureLimit
        rules.unlimited = [ParticipantName.conductor]
        var credentials: [String: BusCredentials] = [:]
        if settings.authenticates {
            if settings.keys == nil, let endpoint = speakers.first(where: \.endpoint) {
                throw RunError(message: "\(endpoint.name) runs elsewhere and the bus authenticates: name a keys folder (bus: {keys: FOLDER}), made with `gridrig keys FOLDER --participants \(endpoint.name)`",
                               isBadInput: true)
            }
            do throws(FileError) {
                var server = try Self.generate()
                if let folder = settings.keys { server = try BusKeyFiles.keyPair(of: BusKeyFiles.broker, in: folder) }
                var keys: [String: Set<String>] = [:]
                for speaker in speakers {
                    let names = Set([speaker.name] + speaker.alsoSpeaksFor)
                    if speaker.endpoint, let folder = settings.keys {
                        keys[try BusKeyFiles.publicKey(of: speaker.name, in: folder), default: []].formUnion(names)
                    } else {
                        let pair = try Self.generate()
                        credentials[speaker.name] = BusCredentials(keys: pair, serverKey: server.publicKey)
                        keys[pair.publicKey] = names
                    }
                }
                rules.authentication = BusAuthentication(server: server, participants: keys)
            } catch {
                throw RunError(message: "the bus cannot authenticate: \(error)", isBadInput: true)
            }
        }
        self.rules = rules
        self.credentials = credentials
    }

    private static func generate() throws(FileError) -> BusKeyPair {
        do { return try BusKeyPair.generate() } catch {
            throw FileError(file: "libzmq", line: 0, column: 0, path: "", message: "cannot make CURVE keys: \(error)")
        }
    }
}
