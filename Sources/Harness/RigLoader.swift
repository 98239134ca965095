import Foundation
public import Emulators
public import Physics

/// The devices of a rig: what `gridrig emulate Rigs/<rig>.yaml` serves (format: docs/RIGS.md).
public struct Rig: Sendable {
    public var name: String
    public var seed: UInt64
    /// Simulated seconds since midnight of day 0 at which the rig starts; nil leaves it to the caller.
    public var start: Double?
    public var weather: DayCurve
    public var baseLoads: [String: BaseLoad]
    public var devices: [DeviceSpec]
}

/// Reads rig files; profiles are looked up by name in a profiles folder.
public enum RigLoader {
    /// - Parameters:
    ///   - profiles: the folder of `<name>.yaml` profiles.
    ///   - firstPort: overrides the rig's `first-port` (0: every device on a free port of its own).
    public static func load(file: String, profiles: String, firstPort: UInt16? = nil) throws(FileError) -> Rig {
        let root = try YAMLValue.load(file: file)
        let keys = try root.mapping(allowed: ["name", "seed", "start", "weather", "first-port", "houses", "pcc"])
        let seed = UInt64(try keys["seed"]?.int(in: 0...Int.max) ?? 1)
        var rig = Rig(name: try keys["name"]?.string() ?? URL(fileURLWithPath: file).deletingPathExtension().lastPathComponent,
                      seed: seed, start: try keys["start"]?.timeOfDay(), weather: .clear(), baseLoads: [:], devices: [])
        if let weather = keys["weather"] {
            switch try weather.string() {
            case "clear": rig.weather = .clear()
            case "cloudy": rig.weather = .cloudy(seed: seed)
            default: throw weather.expected("clear or cloudy")
            }
        }
        let rigPort = try keys["first-port"]?.int(in: 0...65535) ?? 1502
        var nextPort = firstPort.map(Int.init) ?? rigPort
        var cache: [String: DeviceProfile] = [:]
        func device(_ value: YAMLValue, house: String?, fallbackName: String, index: Int) throws(FileError) -> DeviceSpec {
            let fields = try value.mapping(allowed: ["name", "profile", "port", "unit", "initial-soc", "room-temperature", "vehicle"])
            guard let profileValue = fields["profile"] else { throw value.error("missing key 'profile'") }
            let profileName = try profileValue.string()
            let profile: DeviceProfile
            if let cached = cache[profileName] {
                profile = cached
            } else {
                let path = "\(profiles)/\(profileName).yaml"
                guard FileManager.default.fileExists(atPath: path) else {
                    let known = ((try? FileManager.default.contentsOfDirectory(atPath: profiles)) ?? [])
                        .filter { $0.hasSuffix(".yaml") }.map { String($0.dropLast(5)) }.sorted()
                    throw profileValue.expected("a profile in \(profiles)/ (\(known.joined(separator: ", ")))")
                }
                profile = try ProfileLoader.load(file: path)
                cache[profileName] = profile
            }
            let deviceName = try fields["name"]?.string() ?? fallbackName
            var parameters = DeviceParameters(seed: seed &+ UInt64(index) &* 0x9E37_79B9)
            if let soc = fields["initial-soc"] {
                guard profile.kind == .battery else { throw soc.error("'initial-soc' applies to a battery, not a \(profile.kind.rawValue)") }
                let value = try soc.double()
                guard (0...100).contains(value) else { throw soc.expected("a percentage in 0...100") }
                parameters.initialSoC = value
            }
            if let temperature = fields["room-temperature"] {
                guard profile.kind == .thermostat else { throw temperature.error("'room-temperature' applies to a thermostat") }
                parameters.roomTemperature = try temperature.double()
            }
            if let vehicle = fields["vehicle"] {
                guard profile.kind == .evCharger else { throw vehicle.error("'vehicle' applies to an ev-charger") }
                parameters.vehicle = try session(vehicle)
            }
            var port: UInt16
            if let explicit = fields["port"] {
                port = UInt16(try explicit.int(in: 0...65535))
            } else {
                port = UInt16(clamping: nextPort)
                if nextPort != 0 { nextPort += 1 }
            }
            let unit = try fields["unit"].map { v throws(FileError) in UInt8(try v.int(in: 0...255)) }
            return DeviceSpec(name: deviceName, house: house, profile: profile, parameters: parameters, port: port, unit: unit)
        }
        if let houses = keys["houses"] {
            for (houseIndex, houseValue) in try houses.list().enumerated() {
                let fields = try houseValue.mapping(allowed: ["name", "base-load", "devices"])
                let house = try fields["name"]?.string() ?? "h\(houseIndex + 1)"
                guard rig.baseLoads[house] == nil else { throw houseValue.error("duplicate house name '\(house)'") }
                let mean = try fields["base-load"]?.double() ?? 400
                guard mean >= 0 else { throw fields["base-load"]!.expected("a mean load in W, 0 or more") }
                rig.baseLoads[house] = BaseLoad(mean: mean)
                for (index, value) in try (fields["devices"]?.list() ?? []).enumerated() {
                    let spec = try device(value, house: house, fallbackName: "", index: rig.devices.count)
                    var named = spec
                    named.name = "\(house)/\(spec.name.isEmpty ? "\(spec.profile.kind.rawValue)\(index + 1)" : spec.name)"
                    rig.devices.append(named)
                }
            }
        }
        if let pcc = keys["pcc"] {
            let fields = try pcc.mapping(allowed: ["meter"])
            if let meter = fields["meter"] {
                let spec = try device(meter, house: nil, fallbackName: "pcc/meter", index: rig.devices.count)
                guard spec.profile.kind == .meter else { throw meter.error("the PCC device must be a meter, found a \(spec.profile.kind.rawValue)") }
                rig.devices.append(spec)
            }
        }
        guard !rig.devices.isEmpty else { throw root.error("expected at least one device under 'houses' or 'pcc'") }
        var names: Set<String> = []
        for spec in rig.devices where !names.insert(spec.name).inserted {
            throw root.error("two devices are named '\(spec.name)'")
        }
        return rig
    }

    private static func session(_ value: YAMLValue) throws(FileError) -> VehicleSession {
        let fields = try value.mapping(allowed: ["arrival", "departure", "capacity", "initial-soc", "target-soc", "max-current", "phases"])
        guard let arrival = fields["arrival"], let departure = fields["departure"] else {
            throw value.error("missing key 'arrival' or 'departure' (HH:MM)")
        }
        let arrives = try arrival.timeOfDay()
        var departs = try departure.timeOfDay()
        if departs <= arrives { departs += 86_400 }  // leaves the next morning
        var session = VehicleSession(arrival: arrives, departure: departs)
        if let capacity = fields["capacity"] { session.batteryCapacity = try capacity.double() }
        func percent(_ key: String) throws(FileError) -> Double? {
            guard let field = fields[key] else { return nil }
            let number = try field.double()
            guard (0...100).contains(number) else { throw field.expected("a percentage in 0...100") }
            return number / 100
        }
        if let soc = try percent("initial-soc") { session.initialSoC = soc }
        if let soc = try percent("target-soc") { session.targetSoC = soc }
        if let current = fields["max-current"] { session.maxCurrent = try current.double() }
        if let phases = fields["phases"] {
            let count = try phases.int(in: 1...3)
            guard count != 2 else { throw phases.expected("1 or 3") }
            session.phases = count
        }
        return session
    }
}
