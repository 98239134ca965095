public import Emulators
public import Files
import Foundation
public import Physics

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
    public var house: HouseID?
    /// What the firmware says it is, for the certificate.
    public var firmware: String?
    public var devices: [Device]
    /// The ids of the suite's functions (`ConformanceSuite.functions`) the firmware claims.
    public var functions: [String]

    /// Reads a claims file; profiles are found by name in `profiles`, or by path relative to the file. A
    /// function must be the suite's and have a claimed device of a kind it needs.
    public static func load(file: String, profiles: String, functions known: [ClaimFunction]) throws(FileError) -> Claims {
        let root = try YAMLValue.load(file: file)
        let entryKeys = DeviceEntry.keys(profiles: ProfileShelf(folder: profiles), folder: URL(fileURLWithPath: file).deletingLastPathComponent().path)
        let claims = try root.read(keys(entryKeys: entryKeys, functions: known), from: Claims(file: file, devices: [], functions: []))
        guard !claims.functions.isEmpty else { throw root.error("missing key 'functions' (what the firmware does with its devices)") }
        return claims
    }

    /// A claims file's keys; the functions come after the devices, whose kinds they need.
    static func keys(entryKeys: [FileKey<DeviceEntry>], functions known: [ClaimFunction]) -> [FileKey<Claims>] { [
        FileKey("firmware", "what the firmware says it is, for the certificate") { value, claims throws(FileError) in claims.firmware = try value.string() },
        FileKey("house", "the house it runs (default: the suite's house under test)") { value, claims throws(FileError) in
            claims.house = try value.houseName()
        },
        FileKey("devices", "the products the firmware drives") { value, claims throws(FileError) in
            for entry in try value.list() { claims.devices.append(try device(entry, keys: entryKeys, besides: claims.devices)) }
            guard !claims.devices.isEmpty else { throw value.error("expected at least one device") }
        }.required,
        FileKey("functions", "what the firmware does with its devices") { value, claims throws(FileError) in
            for item in try value.list() {
                let id = try item.string()
                guard let function = known.first(where: { $0.id == id }) else {
                    throw item.expected("a function of the suite (\(known.map(\.id).joined(separator: ", ")))")
                }
                guard function.kinds.isEmpty || claims.devices.contains(where: { function.kinds.contains($0.kind) }) else {
                    throw item.error("\(id) needs a device of kind \(function.kinds.map(\.rawValue).joined(separator: " or ")), and none is claimed")
                }
                guard !claims.functions.contains(id) else { throw item.error("\(id) is claimed twice") }
                claims.functions.append(id)
            }
        },
    ] }

    /// One claimed device, checked whole: a house holds one device of each kind, and no meter of its own.
    private static func device(_ entry: YAMLValue, keys: [FileKey<DeviceEntry>], besides claimed: [Device]) throws(FileError) -> Device {
        let profile = try entry.read(keys, from: DeviceEntry(seed: 0)).profile
        let profileValue = try entry.mapping(allowed: keys.map(\.name))["profile"]
        guard profile.kind != .meter else {
            throw (profileValue ?? entry).error("\(profile.name) is a meter: a household is given its inverter, battery, thermostat and charger, not a meter of its own")
        }
        if let twin = claimed.first(where: { $0.kind == profile.kind }) {
            throw entry.error("a second \(profile.kind.rawValue) (the first is \(twin.profile)): a house holds one device of each kind")
        }
        return Device(kind: profile.kind, profile: try profileValue?.string() ?? profile.name, entry: entry)
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
