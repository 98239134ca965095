import Emulators
import Files
import Messages
import Modbus
import Physics
import Rigs

/// One entry of a rig's `faults:` (docs/FAULTS.md): every key a fault may hold, each read once with its doc line.
/// The common ones are read as they come; the rest are kept where they are written for the fault's form and kind,
/// which read those they take and refuse the others, naming them.
struct FaultEntry {
    var device, bus, from, participant, kind, duration: YAMLValue?
    var start = 0.0
    var count: Int?
    var probability = 1.0
    var functions, unit, addresses, code, ms, jitter, value, quantity, point, restart, gridForming, house: YAMLValue?
    /// Every key given, with its value: what a kind's refusal names.
    var given: [(key: String, value: YAMLValue)] = []

    static let keys: [FileKey<FaultEntry>] = [
        kept("device", \.device, "the device it strikes, <house>/<name>"),
        kept("bus", \.bus, "the topic prefix of the bus messages it strikes (\"\": every topic)"),
        kept("from", \.from, "the participant whose messages a bus fault strikes (default: anyone's)"),
        kept("participant", \.participant, "the household or the market it stalls or crashes"),
        kept("kind", \.kind, "what goes wrong").required,
        given(FileKey("start", "the simulated time of day it begins, HH:MM") { value, entry throws(FileError) in entry.start = try value.timeOfDay() }).required,
        kept("duration", \.duration, "the seconds it lasts (default: to the end of the run)"),
        given(FileKey("count", "at most this many requests or messages struck") { value, entry throws(FileError) in entry.count = try value.int(in: 1...Int.max) }),
        given(.number("probability", \.probability, where: { $0 > 0 && $0 <= 1 }, expected: "a probability in (0, 1]",
                      "the share of the matching requests or messages struck")),
        kept("functions", \.functions, "the Modbus function codes a device fault answers (default: all)"),
        kept("unit", \.unit, "the unit id a device fault answers on (default: every unit)"),
        kept("addresses", \.addresses, "[first, last]: the registers a device fault answers for"),
        kept("code", \.code, "the Modbus exception code"),
        kept("ms", \.ms, "milliseconds of delay or gap"),
        kept("jitter", \.jitter, "up to this many milliseconds more, seeded"),
        kept("value", \.value, "the fault's level: an offset, a share of the sun, a state of charge, an exponent, a grid level"),
        kept("quantity", \.quantity, "the measurement a distortion strikes (default: every one)"),
        kept("point", \.point, "the scale-factor point a scale-factor fault changes"),
        kept("restart", \.restart, "seconds after a crash that the participant starts again"),
        kept("grid-forming", \.gridForming, "the battery that forms the island in a grid outage"),
        kept("house", \.house, "the house a grid level holds at (default: everywhere)"),
    ]

    /// A key kept as it is written, for the fault's kind to read.
    private static func kept(_ name: String, _ field: any WritableKeyPath<FaultEntry, YAMLValue?> & Sendable, _ doc: String) -> FileKey<FaultEntry> {
        given(.section(name, field, doc))
    }

    /// `key`, noting it among the keys given.
    private static func given(_ key: FileKey<FaultEntry>) -> FileKey<FaultEntry> {
        FileKey(key.name, key.doc) { value, entry throws(FileError) in
            try key.read(value, &entry)
            entry.given.append((key.name, value))
        }
    }
}

extension RigLoader {
    private static let deviceKinds = "exception, timeout, latency, drop, partial-frame, slow-frame, refused, single-client, reboot, word-swap, "
        + "scale-factor, frozen, min-gap, offset, drift, noise, out-of-service, shade, depart or arrival-soc"

    /// `faults:`. Each entry names a `device`, a `bus` topic, a `participant`, or is a `grid-outage`, with a
    /// `kind`, a `start`, and a duration, count and probability where they apply (docs/FAULTS.md).
    /// Faults of the devices in `leftOut` (a house under test's devices that its claims do not hold) are skipped.
    static func faults(_ value: YAMLValue, devices: [DeviceSpec], leftOut: Set<String> = [], islanded: Bool) throws(FileError) -> ([DeviceFault], RigFaults) {
        var deviceFaults: [DeviceFault] = [], places: [YAMLValue] = []
        var rigFaults = RigFaults()
        for entry in try value.list() {
            let fields = try entry.read(FaultEntry.keys, from: FaultEntry())
            guard let kindValue = fields.kind else { throw entry.error("missing key 'kind'") }  // required: read refuses its absence first
            let kind = try kindValue.string(), start = fields.start, count = fields.count, probability = fields.probability
            var end = Double.infinity
            if let duration = fields.duration {
                end = start + (try duration.double(where: { $0 > 0 }, expected: "a duration of more than 0 s"))
            }
            func only(_ keys: Set<String>) throws(FileError) { try refuse(fields, beyond: keys, kind: kind) }
            if let deviceValue = fields.device {
                if leftOut.contains(try deviceValue.string()) { continue }
                let fault = try deviceFault(fields, entry: entry, device: deviceValue, kind: kindValue, devices: devices,
                                            window: (start, end, count, probability))
                if let index = deviceFaults.firstIndex(where: { $0.contradicts(fault) }) {
                    throw entry.error("contradicts the fault at line \(places[index].line): both answer \(fault.device)'s requests at the same time")
                }
                deviceFaults.append(fault)
                places.append(entry)
            } else if let topicValue = fields.bus {
                rigFaults.bus.append(try busFault(fields, entry: entry, topic: topicValue, kind: kindValue, devices: devices,
                                                  window: (start, end, count, probability)))
            } else if let participantValue = fields.participant {
                try participantFault(fields, entry: entry, participant: participantValue, kind: kindValue, devices: devices, window: (start, end),
                                     into: &rigFaults)
            } else if kind == "grid-outage" {
                try only(["grid-forming"])
                guard !islanded else { throw kindValue.error("an islanded rig has no grid to lose") }
                let outage = try gridOutage(fields, entry: entry, devices: devices, window: (start, end))
                if rigFaults.outages.contains(where: { $0.start < end && start < $0.end }) { throw entry.error("overlaps another grid outage") }
                rigFaults.outages.append(outage)
            } else if kind == "grid-voltage" || kind == "grid-frequency" {
                let event = try gridEvent(fields, entry: entry, kind: kind, devices: devices, window: (start, end))
                if let other = rigFaults.gridEvents.first(where: { $0.overlaps(event) }) {
                    throw entry.error("overlaps the \(kind) from \(Figures.clockTime(other.start))\(other.house.map { " at \($0)" } ?? ""): one level at a time")
                }
                rigFaults.gridEvents.append(event)
            } else {
                throw entry.error("a fault names a 'device', a 'bus' topic or a 'participant', or is kind grid-outage, grid-voltage or grid-frequency")
            }
        }
        return (deviceFaults, rigFaults)
    }

    /// `{bus: <topic prefix>, from?, kind: drop | duplicate | reorder | latency, ms?, jitter?}`.
    private static func busFault(_ fields: FaultEntry, entry: YAMLValue, topic: YAMLValue, kind kindValue: YAMLValue, devices: [DeviceSpec],
                                 window: (start: Double, end: Double, count: Int?, probability: Double)) throws(FileError) -> BusFault {
        let kind = try kindValue.string()
        try refuse(fields, beyond: ["bus", "from", "count", "probability", "ms", "jitter"], kind: kind)
        let busKind: BusFault.Kind
        switch kind {
        case "drop": busKind = .drop
        case "duplicate": busKind = .duplicate
        case "reorder": busKind = .reorder
        case "latency":
            let (ms, jitter) = try delay(fields, entry: entry)
            busKind = .delay(milliseconds: ms, jitter: jitter)
        default: throw kindValue.expected("a bus fault: drop, duplicate, latency or reorder")
        }
        if case .delay = busKind {} else { try refuse(fields, beyond: ["bus", "from", "count", "probability"], kind: kind) }
        let sender = try fields.from.map { value throws(FileError) in try participant(value, devices: devices) }
        return BusFault(topic: try topic.string(), sender: sender, kind: busKind, start: window.start, end: window.end, count: window.count,
                        probability: window.probability)
    }

    /// `{participant, kind: stall}` (its messages dropped for a while) or `{participant, kind: crash, restart?}`.
    private static func participantFault(_ fields: FaultEntry, entry: YAMLValue, participant participantValue: YAMLValue, kind kindValue: YAMLValue,
                                         devices: [DeviceSpec], window: (start: Double, end: Double), into rigFaults: inout RigFaults) throws(FileError) {
        let name = try participant(participantValue, devices: devices), kind = try kindValue.string()
        switch kind {
        case "stall":
            try refuse(fields, beyond: ["participant"], kind: kind)
            guard window.end < .infinity else { throw entry.error("a stall needs 'duration' (a participant stalled for good has crashed)") }
            rigFaults.bus.append(BusFault(topic: "", sender: name, kind: .drop, start: window.start, end: window.end, count: nil, probability: 1))
        case "crash":
            try refuse(fields, beyond: ["participant", "restart"], kind: kind)
            if let duration = fields.duration { throw duration.error("a crash has no duration; 'restart: S' starts it again S seconds later") }
            let restart = try fields.restart.map { value throws(FileError) in try value.double(where: { $0 >= 0 }, expected: "seconds of 0 or more") }
            rigFaults.crashes.append(Crash(participant: name, time: window.start, restart: restart))
        default: throw kindValue.expected("a participant fault: stall or crash")
        }
    }

    /// `{kind: grid-outage, grid-forming: <battery>, start, duration?}`.
    private static func gridOutage(_ fields: FaultEntry, entry: YAMLValue, devices: [DeviceSpec],
                                   window: (start: Double, end: Double)) throws(FileError) -> GridOutage {
        guard let formingValue = fields.gridForming else { throw entry.error("a grid outage needs 'grid-forming': the battery that forms the island") }
        let former = try formingValue.string()
        guard let battery = devices.first(where: { $0.name == former && $0.profile.kind == .battery }) else {
            throw formingValue.expected("a battery of the rig (\(devices.filter { $0.profile.kind == .battery }.map(\.name).joined(separator: ", ")))")
        }
        return GridOutage(start: window.start, end: window.end, gridForming: battery.id)
    }

    /// A scripted grid level: `{kind: grid-voltage, value: % of nominal | kind: grid-frequency, value: Hz, house?, start, duration?}`.
    private static func gridEvent(_ fields: FaultEntry, entry: YAMLValue, kind: String, devices: [DeviceSpec],
                                  window: (start: Double, end: Double)) throws(FileError) -> GridEvent {
        try refuse(fields, beyond: ["house", "value"], kind: kind)
        let house = try fields.house.map { value throws(FileError) -> HouseID in
            let name = try value.string()
            let houses = Array(Set(devices.compactMap(\.house))).sorted()
            guard let house = houses.first(where: { $0.name == name }) else { throw value.expected("a house of the rig (\(houses.map(\.name).joined(separator: ", ")))") }
            return house
        }
        guard let levelValue = fields.value else {
            throw entry.error("a \(kind) event needs 'value': " + (kind == "grid-voltage" ? "the voltage in % of nominal" : "the frequency in Hz"))
        }
        let level = try levelValue.double()
        if kind == "grid-voltage" {
            guard level >= 0, level <= 200 else { throw levelValue.expected("a voltage in % of nominal, 0...200") }
            return GridEvent(house: house, level: .voltage(level.fromPercent), start: window.start, end: window.end)
        }
        guard level > 0, level <= 100 else { throw levelValue.expected("a frequency in Hz, more than 0 and at most 100") }
        return GridEvent(house: house, level: .frequency(level), start: window.start, end: window.end)
    }

    /// Refuses the keys of an entry that its form and kind have no use for (besides `kind`, `start`, `duration`).
    private static func refuse(_ fields: FaultEntry, beyond keys: Set<String>, kind: String) throws(FileError) {
        for (key, value) in fields.given.sorted(by: { $0.key < $1.key }) where !["kind", "start", "duration"].contains(key) && !keys.contains(key) {
            throw value.error("'\(key)' does not apply to a \(kind) fault")
        }
    }

    /// A household of the rig, or the market.
    private static func participant(_ value: YAMLValue, devices: [DeviceSpec]) throws(FileError) -> String {
        let name = try value.string()
        let known = Set(devices.compactMap(\.house?.name)).union([ParticipantName.market]).sorted()
        guard known.contains(name) else { throw value.expected("a participant of the rig (\(known.joined(separator: ", ")))") }
        return name
    }

    /// `ms` and `jitter` of a latency fault.
    private static func delay(_ fields: FaultEntry, entry: YAMLValue) throws(FileError) -> (Double, Double) {
        guard let ms = fields.ms else { throw entry.error("a latency fault needs 'ms'") }
        func milliseconds(_ value: YAMLValue) throws(FileError) -> Double {
            try value.double(where: (0...60_000).contains, expected: "milliseconds in 0...60000")
        }
        return (try milliseconds(ms), try fields.jitter.map(milliseconds) ?? 0)
    }

    /// One device's fault: `{device, kind, start, duration | count, probability, functions, code | ms, jitter | value, quantity}`.
    private static func deviceFault(_ fields: FaultEntry, entry: YAMLValue, device deviceValue: YAMLValue, kind kindValue: YAMLValue,
                                    devices: [DeviceSpec], window: (start: Double, end: Double, count: Int?, probability: Double)) throws(FileError) -> DeviceFault {
        let device = try deviceValue.string()
        guard let spec = devices.first(where: { $0.name == device }) else {
            throw deviceValue.expected("a device of the rig (\(devices.map(\.name).joined(separator: ", ")))")
        }
        let name = try kindValue.string()
        let kind = try faultKind(name, fields: fields, entry: entry, kindValue: kindValue, spec: spec, lasts: window.end < .infinity)
        try refuse(fields, beyond: kind.keys.union(["device", "count", "probability", "functions", "unit", "addresses"]), kind: name)
        let fault = DeviceFault(device: device, kind: kind, functions: try functionCodes(fields.functions), unit: try unitID(fields.unit, of: spec),
                                addresses: try registers(fields.addresses), start: window.start, end: window.end, count: window.count,
                                probability: window.probability)
        for (key, value) in [("unit", fields.unit), ("addresses", fields.addresses)] where !fault.answersRequests {
            if let value { throw value.error("'\(key)' applies to faults that answer requests, not to a \(name) fault") }
        }
        return fault
    }

    /// What a device fault of kind `name` does, from the keys its kind takes. `lasts`: whether it has a duration.
    private static func faultKind(_ name: String, fields: FaultEntry, entry: YAMLValue, kindValue: YAMLValue, spec: DeviceSpec,
                                  lasts: Bool) throws(FileError) -> DeviceFault.Kind {
        switch name {
        case "exception":
            guard let code = fields.code else { throw entry.error("an exception fault needs 'code' (1-8, 10 or 11)") }
            return .exception(try exception(code))
        case "timeout": return .noResponse
        case "drop": return .drop
        case "frozen": return .frozen
        case "offset", "drift", "noise": return try distortion(name, fields: fields, entry: entry)
        case "out-of-service": return .outOfService
        case "shade":
            guard let amount = fields.value else { throw entry.error("a shade fault needs 'value': the share of the sun left, 0...1") }
            let share = try amount.double(where: (0...1).contains, expected: "a share of the sun in 0...1")
            guard spec.profile.kind == .inverter else { throw kindValue.error("shade applies to an inverter") }
            return .shade(share)
        case "min-gap":
            guard let ms = fields.ms else { throw entry.error("a min-gap fault needs 'ms'") }
            let gap = try ms.double(where: { $0 > 0 && $0 <= 60_000 }, expected: "milliseconds in (0, 60000]")
            return .minimumGap(milliseconds: gap, code: try fields.code.map(exception) ?? .serverDeviceBusy)
        case "latency":
            let (ms, jitter) = try delay(fields, entry: entry)
            return .delay(milliseconds: ms, jitter: jitter)
        case "partial-frame": return .partialFrame
        case "slow-frame": return .slowFrame(milliseconds: try delay(fields, entry: entry).0)
        case "refused": return .refused
        case "single-client": return .singleClient
        case "reboot":
            guard lasts else { throw entry.error("a reboot needs 'duration': the boot time, while the device is unreachable") }
            return .reboot
        case "word-swap":
            guard spec.profile.blocks.flatMap(\.points).contains(where: { $0.type.registerCount == 2 }) else {
                throw kindValue.error("\(spec.profile.name) has no 32-bit values to swap")
            }
            return .wordSwap
        case "scale-factor": return try scaleFactor(fields, entry: entry, spec: spec)
        case "depart", "arrival-soc":
            guard spec.parameters.vehicle != nil else { throw kindValue.error("\(name) applies to an EV charger with a 'vehicle'") }
            guard name == "arrival-soc" else { return .departure }
            guard let amount = fields.value else { throw entry.error("an arrival-soc fault needs 'value': the state of charge the vehicle arrives with, %") }
            return .arrivalSoC(try amount.double(where: (0...100).contains, expected: "a state of charge in 0...100 %"))
        default: throw kindValue.expected(deviceKinds)
        }
    }

    private static func exception(_ code: YAMLValue) throws(FileError) -> ModbusException {
        guard let exception = ModbusException(rawValue: UInt8(clamping: try code.int(in: 0...255))) else {
            throw code.expected("a Modbus exception code (1-8, 10 or 11)")
        }
        return exception
    }

    /// An offset, drift or noise on a quantity's readings (all of them without `quantity`).
    private static func distortion(_ name: String, fields: FaultEntry, entry: YAMLValue) throws(FileError) -> DeviceFault.Kind {
        guard let amount = fields.value else { throw entry.error("a \(name) fault needs 'value' (in the quantity's units\(name == "drift" ? " per hour" : ""))") }
        let number = try amount.double(where: { name != "noise" || $0 >= 0 }, expected: "a standard deviation of 0 or more")
        let quantity = try fields.quantity.map { value throws(FileError) -> Quantity in
            guard let quantity = Quantity(rawValue: try value.string()) else {
                throw value.expected("a quantity (\(Quantity.allCases.prefix(6).map(\.rawValue).joined(separator: ", ")), ...; docs/PROFILES.md)")
            }
            return quantity
        }
        return .distortion(offset: name == "offset" ? number : 0, drift: name == "drift" ? number : 0, noise: name == "noise" ? number : 0,
                           quantity: quantity)
    }

    /// A SunSpec scale-factor point of the device's profile read with another exponent.
    private static func scaleFactor(_ fields: FaultEntry, entry: YAMLValue, spec: DeviceSpec) throws(FileError) -> DeviceFault.Kind {
        guard let pointValue = fields.point, let amount = fields.value else {
            throw entry.error("a scale-factor fault needs 'point' (a sunssf point) and 'value' (its new exponent)")
        }
        let name = try pointValue.string()
        let factors = Set(spec.profile.blocks.flatMap(\.points).compactMap(\.scaleFactor))
        guard factors.contains(name) else { throw pointValue.expected("a scale-factor point of \(spec.profile.name) (\(factors.sorted().joined(separator: ", ")))") }
        return .scaleFactor(point: name, exponent: try amount.int(in: -10...10))
    }

    /// `functions: [3, 16]`: the function codes a fault answers; all of them when none are given.
    private static func functionCodes(_ value: YAMLValue?) throws(FileError) -> Set<UInt8> {
        var functions: Set<UInt8> = []
        for item in try value?.list() ?? [] {
            let code = try item.int(in: 0...255)
            guard [1, 2, 3, 4, 5, 6, 15, 16].contains(code) else { throw item.expected("a function code (1-6, 15 or 16)") }
            functions.insert(UInt8(code))
        }
        return functions
    }

    /// `unit: N`: one of the unit ids the device answers on.
    private static func unitID(_ value: YAMLValue?, of spec: DeviceSpec) throws(FileError) -> UInt8? {
        guard let value else { return nil }
        let unit = UInt8(try value.int(in: 0...255))
        let units = spec.unit.map { [$0] } ?? spec.profile.units
        guard units.contains(unit) else { throw value.expected("a unit id \(spec.name) answers on (\(units.map(String.init).joined(separator: ", ")))") }
        return unit
    }

    /// `addresses: [first, last]`.
    private static func registers(_ value: YAMLValue?) throws(FileError) -> ClosedRange<UInt16>? {
        guard let value else { return nil }
        let bounds = try value.list()
        guard bounds.count == 2 else { throw value.expected("[first, last] register addresses") }
        let first = try bounds[0].int(in: 0...65535), last = try bounds[1].int(in: 0...65535)
        guard first <= last else { throw value.expected("[first, last] with first ≤ last") }
        return UInt16(first)...UInt16(last)
    }
}

extension DeviceFault.Kind {
    /// The keys a fault of this kind takes beyond those every device fault takes.
    fileprivate var keys: Set<String> {
        switch self {
        case .exception: ["code"]
        case .minimumGap: ["ms", "code"]
        case .delay: ["ms", "jitter"]
        case .slowFrame: ["ms"]
        case .distortion: ["value", "quantity"]
        case .shade, .arrivalSoC: ["value"]
        case .scaleFactor: ["point", "value"]
        default: []
        }
    }
}

extension DeviceFault {
    /// Two certain, unlimited faults that answer the same requests of one device differently at the same time
    /// contradict (frozen registers, distortions and a minimum gap answer only some requests, or none, so they
    /// combine with anything).
    func contradicts(_ other: DeviceFault) -> Bool {
        func answersAll(_ kind: Kind) -> Bool {
            switch kind {
            case .frozen, .minimumGap, .distortion, .outOfService, .shade, .departure, .arrivalSoC, .singleClient, .wordSwap, .scaleFactor: false
            default: true
            }
        }
        return other.device == device && other.kind != kind && answersAll(other.kind) && answersAll(kind)
            && other.probability == 1 && probability == 1 && other.count == nil && count == nil && other.start < end && start < other.end
            && (other.functions.isEmpty || functions.isEmpty || !other.functions.isDisjoint(with: functions))
            && (other.unit == nil || unit == nil || other.unit == unit)
            && (other.addresses == nil || addresses == nil || other.addresses!.overlaps(addresses!))
    }
}
