import Bus
import Files
import Messages
import Rigs

/// Who may use a run's bus (docs/PROTOCOL.md, "Security"): the broker's rules, and the credentials of the
/// controller processes GridRig starts. GridRig's own participants (the conductor, and reference agents in its
/// process) speak on the broker's local endpoints, and no connection from the network may use their names. With
/// authentication, GridRig makes a key pair per run for each process it starts; an endpoint's public key, and then
/// the broker's pair, come from the rig's keys folder.
struct BusAccess {
    /// How a participant reaches the bus.
    enum Place: Equatable {
        /// In GridRig's process, on the broker's local endpoints.
        case local
        /// A process GridRig starts.
        case command
        /// Started elsewhere.
        case endpoint
    }

    let rules: BusRules
    /// Of the processes GridRig starts, by participant; empty without authentication.
    let credentials: [String: BusCredentials]

    /// - Parameter speakers: every participant by name, the further senders it speaks for (the conductor bids as
    ///   `grid`), and where it runs.
    /// - Parameter captureLimit: the capture's bound when the rig gives none.
    init(_ settings: RunSettings.BusSettings, speakers: [(name: String, alsoSpeaksFor: [String], place: Place)], captureLimit: Int) throws(RunError) {
        var rules = BusRules(roster: BusRoster(names: Set(speakers.flatMap { [$0.name] + $0.alsoSpeaksFor }),
                                               claims: { Message.claims(of: $0) }))
        rules.maxMessageBytes = settings.maxMessageBytes
        rules.rateLimit = settings.rateLimit
        rules.captureLimit = settings.captureLimit ?? captureLimit
        rules.local = Set(speakers.filter { $0.place == .local }.flatMap { [$0.name] + $0.alsoSpeaksFor })
        var credentials: [String: BusCredentials] = [:]
        if settings.authenticates {
            if settings.keys == nil, let endpoint = speakers.first(where: { $0.place == .endpoint }) {
                throw RunError(message: "\(endpoint.name) runs elsewhere and the bus authenticates: name a keys folder (bus: {keys: FOLDER}), made with `gridrig keys FOLDER --participants \(endpoint.name)`",
                               isBadInput: true)
            }
            do throws(FileError) {
                var server = try Self.generate()
                if let folder = settings.keys { server = try BusKeyFiles.keyPair(of: BusKeyFiles.broker, in: folder) }
                var keys: [String: Set<String>] = [:]
                for speaker in speakers {
                    let names = Set([speaker.name] + speaker.alsoSpeaksFor)
                    switch speaker.place {
                    case .local: continue
                    case .endpoint: if let folder = settings.keys { keys[try BusKeyFiles.publicKey(of: speaker.name, in: folder), default: []].formUnion(names) }
                    case .command:
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
