import Emulators
import Files
import Market
import Physics
import Synchronization

/// A device entry of a rig or of a claims file, as written: before its house names it and it takes a port
/// (docs/RIGS.md, "Devices").
struct DeviceEntry {
    /// Read first: the other keys depend on its kind.
    var profile: DeviceProfile
    var name: String?
    var port: UInt16?
    var unit: UInt8?
    var parameters: DeviceParameters
    var comfort: ThermostatStrategy?
    var replay: Replay?

    /// An entry with nothing read yet; `seed` is the device's own.
    init(seed: UInt64) {
        profile = DeviceProfile(name: "", kind: .meter, product: "", blocks: [])
        parameters = DeviceParameters(seed: seed)
    }

    /// The keys, `profile` first; `profiles` finds the products, `folder` is the file's (replays are relative to it).
    static func keys(profiles: ProfileShelf, folder: String) -> [FileKey<DeviceEntry>] { [
        FileKey("profile", "the product: a profile's name, or a profile file ending in .yaml") { value, entry throws(FileError) in
            entry.profile = try profiles.profile(value)
        }.required,
        FileKey("name", "its name in its house; the PCC's meter by its whole id (default: its kind and position)") {
            value, entry throws(FileError) in entry.name = try value.string()
        },
        FileKey("port", "its TCP port, 0 for a free one (default: the rig's next)") { value, entry throws(FileError) in
            entry.port = UInt16(try value.int(in: 0...65535))
        },
        FileKey("unit", "its Modbus unit id (default: each block's)") { value, entry throws(FileError) in entry.unit = UInt8(try value.int(in: 0...255)) },
        FileKey("ratings", "its nameplate, replacing the profile's") { value, entry throws(FileError) in
            for (rating, number) in try value.mapping(allowed: entry.profile.kind.ratingDefaults.keys.sorted()) {
                entry.profile.ratings[rating] = try number.double(where: { $0 >= 0 }, expected: "a rating of 0 or more")
            }
        },
        .only(.battery, "initial-soc", "its state of charge at the start, %") { value, entry throws(FileError) in
            entry.parameters.initialSoC = try value.double(where: (0...100).contains, expected: "a percentage in 0...100")
        },
        .only(.thermostat, "room-temperature", "the room at the start, °C") { value, entry throws(FileError) in
            entry.parameters.roomTemperature = try value.double()
        },
        .only(.thermostat, "comfort", "how the household likes the room (keys below)") { value, entry throws(FileError) in
            entry.comfort = try value.read(RigLoader.comfortKeys, from: ThermostatStrategy(season: .heating, setpoint: 21))
        },
        .only(.evCharger, "vehicle", "the vehicle that visits it (keys below)") { value, entry throws(FileError) in
            entry.parameters.vehicle = try value.read(RigLoader.vehicleKeys, from: VehicleSession(arrival: 0, departure: 0))
        },
        FileKey("settings", "registers as the installer commissioned them, by control; a client may rewrite them") {
            value, entry throws(FileError) in
            let known = entry.profile.kind.controls.sorted { $0.rawValue < $1.rawValue }
            for (control, number) in try value.mapping(allowed: known) { entry.parameters.settings[control] = try number.double() }
        },
        FileKey("replay", "field data it replays instead of its physics") { value, entry throws(FileError) in
            entry.replay = try ReplayFile.load(value, profile: entry.profile, folder: folder)
        },
    ] }
}

extension FileKey where Target == DeviceEntry {
    /// A key only a device of `kind` takes; another kind's entry is refused, naming both.
    static func only(_ kind: DeviceKind, _ name: String, _ doc: String,
                     read: @escaping @Sendable (YAMLValue, inout DeviceEntry) throws(FileError) -> Void) -> Self {
        Self(name, doc) { value, entry throws(FileError) in
            guard entry.profile.kind == kind else { throw value.error("'\(name)' applies to \(kind.withArticle), not \(entry.profile.kind.withArticle)") }
            try read(value, &entry)
        }
    }
}

extension DeviceKind {
    /// "a battery", "an inverter", as the loader's messages name a kind.
    var withArticle: String { (["a", "e", "i", "o", "u"].contains(rawValue.first.map(String.init) ?? "") ? "an " : "a ") + rawValue }
}

/// The profiles a file's devices name, each read once however many devices name it.
final class ProfileShelf: Sendable {
    /// The folder profiles are found in by name.
    let folder: String
    private let read = Mutex<[String: DeviceProfile]>([:])

    init(folder: String) { self.folder = folder }

    /// The profile a value names: a name in the folder, or a file (ending in `.yaml`) relative to the file naming it.
    func profile(_ value: YAMLValue) throws(FileError) -> DeviceProfile {
        let key = "\(value.file)\u{0}\(try value.string())"
        if let profile = read.withLock({ $0[key] }) { return profile }
        let profile = try RigLoader.profile(value, profiles: folder)
        read.withLock { $0[key] = profile }
        return profile
    }
}
