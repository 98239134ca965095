public import Emulators
public import Files
import Foundation

/// What a household firmware claims to drive (docs/CONFORMANCE.md, "Claims"): the products of the house under
/// test and the functions it carries out with them. `gridrig certify --claims FILE` builds the house from it.
public struct Claims: Sendable {
    /// One product the firmware drives, as the claims file describes it (a rig device entry).
    public struct Device: Sendable {
        public var kind: DeviceKind
        /// The profile's name, or its file when the team brings its own.
        public var profile: String
        /// The entry, for the rig loader to build the device from.
        let entry: YAMLValue
    }

    public var file: String
    /// The house the firmware runs (the suite's house under test unless the file says).
    public var house: String?
    /// What the firmware says it is, for the certificate.
    public var firmware: String?
    public var devices: [Device]
    /// The ids of the suite's functions (`ConformanceSuite.functions`) the firmware claims.
    public var functions: [String]

    /// Reads a claims file; profiles are found by name in `profiles`, or by path relative to the file. A
    /// function must be the suite's and have a claimed device of a kind it needs.
    public static func load(file: String, profiles: String, functions known: [ClaimFunction]) throws(FileError) -> Claims {
        let root = try YAMLValue.load(file: file)
        let keys = try root.mapping(allowed: ["firmware", "house", "devices", "functions"])
        guard let deviceList = keys["devices"] else { throw root.error("missing key 'devices' (the products the firmware drives)") }
        var devices: [Device] = []
        let entryKeys = DeviceEntry.keys(profiles: ProfileShelf(folder: profiles), folder: URL(fileURLWithPath: file).deletingLastPathComponent().path)
        for entry in try deviceList.list() {
            let profile = try entry.read(entryKeys, from: DeviceEntry(seed: 0)).profile
            let profileValue = try entry.mapping(allowed: entryKeys.map(\.name))["profile"]
            guard profile.kind != .meter else {
                throw (profileValue ?? entry).error("\(profile.name) is a meter: a household is given its inverter, battery, thermostat and charger, not a meter of its own")
            }
            if let twin = devices.first(where: { $0.kind == profile.kind }) {
                throw entry.error("a second \(profile.kind.rawValue) (the first is \(twin.profile)): a house holds one device of each kind")
            }
            devices.append(Device(kind: profile.kind, profile: try profileValue?.string() ?? profile.name, entry: entry))
        }
        guard !devices.isEmpty else { throw deviceList.error("expected at least one device") }
        var claimed: [String] = []
        for value in try keys["functions"]?.list() ?? [] {
            let id = try value.string()
            guard let function = known.first(where: { $0.id == id }) else {
                throw value.expected("a function of the suite (\(known.map(\.id).joined(separator: ", ")))")
            }
            guard function.kinds.isEmpty || devices.contains(where: { function.kinds.contains($0.kind) }) else {
                throw value.error("\(id) needs a device of kind \(function.kinds.map(\.rawValue).joined(separator: " or ")), and none is claimed")
            }
            guard !claimed.contains(id) else { throw value.error("\(id) is claimed twice") }
            claimed.append(id)
        }
        guard !claimed.isEmpty else { throw root.error("missing key 'functions' (what the firmware does with its devices)") }
        return Claims(file: file, house: try keys["house"]?.string(), firmware: try keys["firmware"]?.string(), devices: devices, functions: claimed)
    }
}

/// A function a household firmware may claim (the suite's `functions:`), and the requirements that judge it on a
/// device of one of its kinds.
public struct ClaimFunction: Sendable, Equatable {
    public var id: String
    /// The device kinds the function acts on; empty when it acts on every device.
    public var kinds: [DeviceKind]
    public var statement: String
    public var requirements: [String]

    package init(id: String, kinds: [DeviceKind], statement: String, requirements: [String]) {
        (self.id, self.kinds, self.statement, self.requirements) = (id, kinds, statement, requirements)
    }
}
