public import Emulators
import Foundation
import Modbus
import Physics

extension FileKey {
    /// A Modbus exception code a product answers with.
    static func exception(_ name: String, _ field: any WritableKeyPath<Target, ModbusException> & Sendable, _ doc: String) -> Self {
        Self(name, doc) { value, target throws(FileError) in
            guard let code = ModbusException(rawValue: UInt8(clamping: try value.int(in: 1...11))) else {
                throw value.expected("a Modbus exception code (1-8, 10, 11)")
            }
            target[keyPath: field] = code
        }
    }
}

/// Reads `Profiles/*.yaml` into validated `DeviceProfile`s (format: docs/PROFILES.md).
public enum ProfileLoader {
    /// Loads and checks one profile file; every problem names file, line, key and expectation.
    public static func load(file: String) throws(FileError) -> DeviceProfile {
        let root = try YAMLValue.load(file: file)
        let name = URL(fileURLWithPath: file).deletingPathExtension().lastPathComponent
        let profile = try root.read(keys, from: DeviceProfile(name: name, kind: .meter, product: "", blocks: []))
        let fields = try root.mapping(allowed: keys.map(\.name))
        if let blocks = fields["blocks"] { try checkBindings(of: profile, blocks: blocks, gridSupport: fields["grid-support"]) }
        return profile
    }

    /// A profile's keys, in the order they are read: its kind first, which the ratings, controls and timers are of,
    /// and its blocks last, which its unit, kind and timers shape (docs/PROFILES.md).
    static let keys: [FileKey<DeviceProfile>] = [
        FileKey("kind", "inverter, battery, thermostat, ev-charger or meter") { value, profile throws(FileError) in
            profile.kind = try value.choice(DeviceKind.self)
        }.required,
        FileKey.text("product", \.product, "the product's maker and model").required,
        FileKey("port", "the TCP port it serves by default") { value, profile throws(FileError) in profile.defaultPort = UInt16(try value.int(in: 1...65535)) },
        FileKey("unit", "the Modbus unit id it answers by default") { value, profile throws(FileError) in profile.defaultUnit = UInt8(try value.int(in: 0...255)) },
        FileKey("word-order", "high-first or low-first, for points of two registers or more") { value, profile throws(FileError) in
            guard let order = WordOrder(rawValue: try value.string()) else { throw value.expected("high-first or low-first") }
            profile.wordOrder = order
        },
        FileKey("latency", "seconds a written control takes to reach the physics") { value, profile throws(FileError) in profile.latency = try seconds(value) },
        FileKey("transport", "how its server treats connections") { value, profile throws(FileError) in try value.read(transportKeys, into: &profile.transport) },
        FileKey("ratings", "its nameplate, by rating") { value, profile throws(FileError) in
            for (rating, number) in try value.mapping(allowed: profile.kind.ratingDefaults.keys.sorted()) { profile.ratings[rating] = try number.double() }
        },
        FileKey("exceptions", "what it answers a refused write") { value, profile throws(FileError) in try value.read(exceptionKeys, into: &profile.exceptions) },
        FileKey("watchdog", "its communication-loss timer") { value, profile throws(FileError) in profile.watchdog = try timer(value, of: profile.kind) },
        FileKey("reversions", "SunSpec reversion timers, one a control") { value, profile throws(FileError) in
            for entry in try value.list() {
                let reversion = try timer(entry, of: profile.kind, reverts: true)
                guard reversion.timeoutControl != nil else { throw entry.error("a reversion's timeout is a control's ('timeout-control')") }
                profile.reversions.append(reversion)
            }
        },
        FileKey("grid-support", "an inverter's IEEE 1547 functions") { value, profile throws(FileError) in
            guard profile.kind == .inverter else { throw value.error("only an inverter has grid-support functions") }
            for function in try value.list() { profile.gridSupport.insert(try function.choice(GridSupportFunction.self)) }
        },
        FileKey("blocks", "its register blocks and their points") { value, profile throws(FileError) in profile.blocks = try blocks(value, of: profile) }.required,
    ]

    /// How the product's Modbus TCP server treats its connections (docs/PROFILES.md).
    static let transportKeys: [FileKey<ListenerOptions>] = [
        FileKey("idle-timeout", "seconds after which it closes a silent connection") { value, transport throws(FileError) in
            transport.idleTimeout = .milliseconds(Int64(try seconds(value) * 1000))
        },
        FileKey("max-connections", "how many clients it serves at once") { value, transport throws(FileError) in
            transport.maxConnections = try value.int(in: 1...10_000)
        },
    ]

    /// What a product answers when a write is refused, by why (`exceptions: {read-only: 2, ...}`).
    static let exceptionKeys: [FileKey<ExceptionPolicy>] = [
        .exception("read-only", \.readOnly, "a write to a register it only reads"),
        .exception("out-of-range", \.outOfRange, "a value outside the point's range"),
        .exception("partial-write", \.partialWrite, "a write to part of a multi-register point"),
    ]

    /// The profile's `blocks`, none of them overlapping another.
    private static func blocks(_ value: YAMLValue, of profile: DeviceProfile) throws(FileError) -> [PointBlock] {
        var blocks: [PointBlock] = []
        for entry in try value.list() { blocks.append(try block(entry, kind: profile.kind, defaultUnit: profile.defaultUnit)) }
        guard !blocks.isEmpty else { throw value.expected("at least one block") }
        try checkBlocksApart(blocks, values: try value.list())
        return blocks
    }

    /// Refuses a point bound to a grid-support function the profile does not list, or counting down a control no
    /// timer has as its timeout.
    private static func checkBindings(of profile: DeviceProfile, blocks blocksValue: YAMLValue, gridSupport: YAMLValue?) throws(FileError) {
        let blocks = profile.blocks
        for function in GridSupportFunction.allCases where !profile.gridSupport.contains(function) {
            let bound = blocks.flatMap(\.points).compactMap { point -> Control? in
                switch point.binding {
                case .control(let control, _), .curve(let control?, _, _, _): function.controls.contains(control) ? control : nil
                default: nil
                }
            }
            if let control = bound.first {
                throw (gridSupport ?? blocksValue).error("a point binds \(control.rawValue), but grid-support does not list \(function.rawValue)")
            }
        }
        let timed = Set(profile.timers.compactMap(\.timeoutControl))
        for point in blocks.flatMap(\.points) {
            if case .remaining(let control) = point.binding, !timed.contains(control) {
                throw blocksValue.error("point '\(point.name)' counts down \(control.rawValue), which is no watchdog's or reversion's 'timeout-control'")
            }
        }
    }

    /// A watchdog, or (`reverts`) a SunSpec reversion timer, which has no 'reverts' key of its own.
    private static func timer(_ value: YAMLValue, of kind: DeviceKind, reverts: Bool = false) throws(FileError) -> Watchdog {
        var timer = Watchdog(rearmedBy: [], fallback: [:])
        timer.reverts = reverts
        try value.read(timerKeys(of: kind, reversion: reverts), into: &timer)
        guard (timer.timeout == nil) != (timer.timeoutControl == nil) else {
            throw value.error("expected exactly one of 'timeout' and 'timeout-control'")
        }
        return timer
    }

    /// A watchdog's or a reversion's keys, its controls those of `kind` (docs/PROFILES.md, "Watchdogs").
    static func timerKeys(of kind: DeviceKind, reversion: Bool) -> [FileKey<Watchdog>] {
        [
            FileKey("timeout", "seconds without a rearming write before it runs out") { value, timer throws(FileError) in timer.timeout = try seconds(value) },
            FileKey("timeout-control", "the control a client sets its timeout with, s") { value, timer throws(FileError) in
                timer.timeoutControl = try control(value, of: kind)
            },
            FileKey("rearmed-by", "the controls whose writes rearm it") { value, timer throws(FileError) in
                for control in try value.list() { timer.rearmedBy.append(try Self.control(control, of: kind)) }
            }.required,
            FileKey("fallback", "what it sets when it runs out, by control: a number, or the control whose value it takes") {
                value, timer throws(FileError) in
                for (key, target) in try value.mapping(allowed: kind.controls.sorted { $0.rawValue < $1.rawValue }) {
                    timer.fallback[key] = if let number = try? target.double() { .value(number) } else { .control(try control(target, of: kind)) }
                }
            }.required,
        ] + (reversion ? [] : [FileKey("reverts", "whether its controls return to what was written once writes resume") {
            value, timer throws(FileError) in timer.reverts = try value.bool()
        }])
    }

    /// A control of `kind`, named by the value.
    private static func control(_ value: YAMLValue, of kind: DeviceKind) throws(FileError) -> Control {
        let controls = kind.controls
        guard let control = Control(rawValue: try value.string()), controls.contains(control) else {
            throw value.expected("a control of a \(kind.rawValue): \(controls.map(\.rawValue).sorted().joined(separator: ", "))")
        }
        return control
    }

    private static func seconds(_ value: YAMLValue) throws(FileError) -> Double {
        let number = try value.double()
        guard number >= 0 else { throw value.expected("a duration in seconds, 0 or more") }
        return number
    }

    private static func checkBlocksApart(_ blocks: [PointBlock], values: [YAMLValue]) throws(FileError) {
        for (index, block) in blocks.enumerated() {
            for other in blocks[..<index] where other.unit == block.unit && other.table == block.table
                && Int(block.start) < other.end && Int(other.start) < block.end {
                throw values[index].error("block at \(block.start) overlaps the \(other.table.rawValue) block \(other.start)..<\(other.end) of unit \(other.unit)")
            }
        }
    }

    /// The SunSpec and plain type names a point may use.
    private static let types: [String: (RegisterType, unimplemented: UInt64)] = [
        "uint16": (.uint16, 0xFFFF), "enum16": (.uint16, 0xFFFF), "bitfield16": (.uint16, 0xFFFF), "acc16": (.uint16, 0),
        "int16": (.int16, 0x8000), "sunssf": (.int16, 0x8000), "pad": (.uint16, 0x8000),
        "uint32": (.uint32, 0xFFFF_FFFF), "enum32": (.uint32, 0xFFFF_FFFF), "bitfield32": (.uint32, 0xFFFF_FFFF), "acc32": (.uint32, 0),
        "int32": (.int32, 0x8000_0000), "uint64": (.uint64, .max), "acc64": (.uint64, 0), "int64": (.int64, 0x8000_0000_0000_0000),
        "float32": (.float32, 0x7FC0_0000), "float64": (.float64, 0x7FF8_0000_0000_0000),
    ]


    /// A block's keys, in the order the docs give them; its points are read after, whole (`block`).
    static let blockKeys: [FileKey<(block: PointBlock, points: YAMLValue?)>] = [
        FileKey("table", "coils, discrete-inputs, input-registers or holding-registers") { value, entry throws(FileError) in
            entry.block.table = try value.choice(RegisterTable.self)
        }.required,
        FileKey("unit", "the unit id the block answers on (default: the profile's)") { value, entry throws(FileError) in
            entry.block.unit = UInt8(try value.int(in: 0...255))
        },
        FileKey("start", "the block's first address") { value, entry throws(FileError) in entry.block.start = UInt16(try value.int(in: 0...65535)) }.required,
        FileKey("fill", "what reserved gaps between points read (default 0xFFFF)") { value, entry throws(FileError) in
            entry.block.fill = UInt16(try value.int(in: 0...65535))
        },
        .section("points", \.points, "the block's points and SunSpec model headers, in address order").required,
    ]

    private static func block(_ value: YAMLValue, kind: DeviceKind, defaultUnit: UInt8) throws(FileError) -> PointBlock {
        let read = try value.read(blockKeys, from: (PointBlock(unit: defaultUnit, table: .holdingRegisters, start: 0, fill: 0xFFFF, points: []), nil))
        guard let pointsValue = read.points else { throw value.error("missing key 'points'") }  // required: read refuses its absence first
        var block = read.block
        var entries: [(value: YAMLValue, fields: PointEntry)] = []
        for entry in try pointsValue.list() { entries.append((entry, try entry.read(PointEntry.keys, from: PointEntry()))) }
        let scaleFactors = try self.scaleFactors(entries.map(\.fields))
        var cursor = Int(block.start)
        var scope = 0
        var names: Set<String> = []
        var openModel: (id: UInt16, declared: Int, bodyStart: Int, value: YAMLValue)?
        func closeModel() throws(FileError) {
            guard let model = openModel else { return }
            let actual = cursor - model.bodyStart
            guard actual == model.declared else {
                throw model.value.error("model \(model.id) declares length \(model.declared) but its points take \(actual) registers")
            }
            openModel = nil
        }
        for (entry, fields) in entries {
            if let model = fields.model {
                try closeModel()
                scope += 1
                names = []
                let address = UInt16(truncatingIfNeeded: cursor)
                if (try? model.string()) == "end" {
                    block.points.append(Point(name: "end", address: address, type: .uint32, binding: .constant([0xFFFF, 0])))
                    cursor += 2
                    continue
                }
                let id = try model.int(in: 1...65534)
                guard let lengthValue = fields.length else { throw entry.error("missing key 'length' (the model's L)") }
                let length = try lengthValue.int(in: 0...65535)
                block.points.append(Point(name: "model \(id)", address: address, type: .uint32,
                                          binding: .constant([UInt16(id), UInt16(length)])))
                cursor += 2
                openModel = (UInt16(id), length, cursor, entry)
                continue
            }
            let point = try point(entry, fields: fields, kind: kind, cursor: &cursor, scaleFactors: scaleFactors[scope], block: block,
                                  model: openModel?.id)
            guard names.insert(point.name).inserted else {
                throw (fields.name ?? entry).error("duplicate point name '\(point.name)' in this \(scope == 0 ? "block" : "model")")
            }
            block.points.append(point)
        }
        try closeModel()
        try checkCurves(block.points, value: pointsValue)
        guard cursor <= 65536 else { throw pointsValue.error("points run past address 65535") }
        guard !block.points.isEmpty else { throw pointsValue.expected("at least one point") }
        return block
    }

    /// The sunssf points of a block's entries and their exponents, by name, in scope 0 (before any model) and then
    /// one scope per model: names are scoped to a SunSpec model (W_SF is in model 103 and in 802), and a scale factor
    /// may come before or after the points that use it.
    private static func scaleFactors(_ entries: [PointEntry]) throws(FileError) -> [[String: Int]] {
        var scaleFactors: [[String: Int]] = [[:]]
        for fields in entries {
            if fields.model != nil { scaleFactors.append([:]) }
            if let type = fields.type, (try? type.string()) == "sunssf", let name = fields.name, let sf = fields.value {
                scaleFactors[scaleFactors.count - 1][try name.string()] = try sf.int(in: -10...10)
            }
        }
        return scaleFactors
    }

    /// One point; `model` is the SunSpec model it lies in, for curve points and adoption.
    /// Every curve of a curve model has curve 1's shape (adoption copies point by point), and a model with curves
    /// has its adopt request and result.
    private static func checkCurves(_ points: [Point], value: YAMLValue) throws(FileError) {
        var curves: [UInt16: [Int: [Point]]] = [:]
        var adoption: [UInt16: Set<CurveAdoption>] = [:]
        for point in points {
            switch point.binding {
            case .curve(_, let model, let index, _): curves[model, default: [:]][index, default: []].append(point)
            case .adoption(let role, let model): adoption[model, default: []].insert(role)
            default: continue
            }
        }
        for (model, indexed) in curves.sorted(by: { $0.key < $1.key }) {
            guard let active = indexed[1] else { throw value.error("model \(model) has curves but no curve 1, the one in force") }
            for (index, curve) in indexed.sorted(by: { $0.key < $1.key }) where index != 1 {
                guard curve.count == active.count, zip(curve, active).allSatisfy({ $0.type == $1.type }) else {
                    throw value.error("model \(model): curve \(index) does not have curve 1's points (\(curve.count) against \(active.count), of the same types)")
                }
            }
            guard let roles = adoption[model], roles.isSuperset(of: [.request, .result]) else {
                throw value.error("model \(model) has curves but not both 'adopt: request' (AdptCrvReq) and 'adopt: result' (AdptCrvRslt)")
            }
            let reversion: Set<CurveAdoption> = [.revertSeconds, .revertRemaining, .revertCurve]
            guard roles.isDisjoint(with: reversion) || roles.isSuperset(of: reversion) else {
                throw value.error("model \(model): reversion needs all of 'adopt: revert-seconds', 'revert-remaining' and 'revert-curve'")
            }
        }
    }

    private static func point(_ entry: YAMLValue, fields: PointEntry, kind: DeviceKind, cursor: inout Int,
                              scaleFactors: [String: Int], block: PointBlock, model: UInt16?) throws(FileError) -> Point {
        guard let nameValue = fields.name else { throw entry.error("missing key 'name'") }
        let name = try nameValue.string()
        guard let typeValue = fields.type else { throw entry.error("missing key 'type'") }
        let (registerType, unimplemented) = try self.registerType(typeValue, fields: fields, entry: entry)
        var address = cursor
        if let explicit = fields.address {
            address = try explicit.int(in: 0...65535)
            if address < cursor {
                let owner = block.points.last { Int($0.address) <= address && address < Int($0.address) + $0.type.registerCount }
                let inside = owner.map { " (inside '\($0.name)' at \($0.address))" } ?? ""
                throw explicit.expected("a free address at or after \(cursor)").withSuffix(inside)
            }
        }
        cursor = address + registerType.registerCount
        let (scale, scaleFactor) = try fields.sf.map { sf throws(FileError) in try self.scale(sf, scaleFactors: scaleFactors) } ?? (1, nil)
        let given = fields.sources
        let sources = given.map(\.key)
        guard sources.count <= 1 else {
            throw entry.error("expected one of \(PointEntry.sources.map(\.name).joined(separator: ", ")); found \(sources.joined(separator: " and "))")
        }
        if let misplaced = fields.curve ?? fields.adopt, model == nil {
            throw misplaced.error("curves and their adoption belong inside a SunSpec model ({model: N, length: L})")
        }
        let unbound = registerType.encode(bitPattern: try typeValue.string() == "pad" ? 0 : unimplemented)
        let binding = try given.first.map { source throws(FileError) in
            try self.binding(source, fields: fields, kind: kind, type: registerType, scale: scale, unimplemented: unimplemented, model: model)
        } ?? .constant(unbound)
        var point = Point(name: name, address: UInt16(address), type: registerType, scale: scale, binding: binding)
        point.scaleFactor = scaleFactor
        try limits(of: &point, fields: fields, entry: entry, sources: sources)
        return point
    }

    /// A point's register type, and the value SunSpec reads as "not implemented" in it.
    private static func registerType(_ value: YAMLValue, fields: PointEntry, entry: YAMLValue) throws(FileError) -> (RegisterType, UInt64) {
        let typeName = try value.string()
        if typeName == "string" {
            guard let size = fields.size else { throw entry.error("missing key 'size' (registers) for a string") }
            return (.string(registers: try size.int(in: 1...125)), 0)
        }
        guard let known = types[typeName] else { throw value.expected("a type: string, \(types.keys.sorted().joined(separator: ", "))") }
        return known
    }

    /// `sf`: a literal exponent, or the name of a sunssf point of the model (the scale it has in the profile, and the name).
    private static func scale(_ sf: YAMLValue, scaleFactors: [String: Int]) throws(FileError) -> (Double, String?) {
        if let literal = YAMLValue.integer((try? sf.string()) ?? "") {
            guard (-10...10).contains(literal) else { throw sf.expected("a scale factor exponent in -10...10") }
            return (pow(10, Double(literal)), nil)
        }
        guard let named = scaleFactors[try sf.string()] else {
            throw sf.expected("an exponent or the name of a sunssf point in this model (\(scaleFactors.keys.sorted().joined(separator: ", ")))")
        }
        return (pow(10, Double(named)), try sf.string())
    }

    /// What a point's registers hold, from the one source key it gives.
    private static func binding(_ source: (key: String, value: YAMLValue), fields: PointEntry, kind: DeviceKind, type registerType: RegisterType,
                                scale: Double, unimplemented: UInt64, model: UInt16?) throws(FileError) -> Point.Binding {
        let value = source.value
        switch source.key {
        case "value":
            if case .string = registerType { return .constant(registerType.encode(try value.string())) }
            return .constant(registerType.encode(try value.double() / scale))
        case "quantity":
            guard let quantity = Quantity(rawValue: try value.string()) else {
                throw value.expected("a quantity: \(Quantity.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            return .quantity(quantity)
        case "control":
            let control = try control(value, of: kind)
            guard let curve = fields.curve, let model else { return .control(control, initial: try fields.initial.map { v throws(FileError) in try v.double() }) }
            if let given = fields.initial { throw given.error("a curve starts as the control's value; 'initial' does not apply") }
            return .curve(control, model: model, index: try curve.int(in: 1...32), initial: [])
        case "adopt":
            guard let adoption = CurveAdoption(rawValue: try value.string()), let model else {
                throw value.expected("request (AdptCrvReq), result (AdptCrvRslt), revert-seconds (RvrtTms), revert-remaining (RvrtRem) or revert-curve (RvrtCrv)")
            }
            return .adoption(adoption, model: model)
        case "remaining":
            return .remaining(try control(value, of: kind))
        case "store":
            let initial = registerType.encode(try value.double() / scale)
            guard let curve = fields.curve, let model else { return .stored(initial: initial) }
            return .curve(nil, model: model, index: try curve.int(in: 1...32), initial: initial)
        default:  // unimplemented
            guard try value.bool() else { throw value.expected("true") }
            return .constant(registerType.encode(bitPattern: unimplemented))
        }
    }

    /// A point's `range`, `allowed` values and `labels`, and the keys that need a source they lack.
    private static func limits(of point: inout Point, fields: PointEntry, entry: YAMLValue, sources: [String]) throws(FileError) {
        if let range = fields.range {
            let bounds = try range.list()
            guard bounds.count == 2 else { throw range.expected("[lowest, highest]") }
            let low = try bounds[0].double(), high = try bounds[1].double()
            guard low <= high else { throw range.expected("[lowest, highest] with lowest ≤ highest") }
            point.range = low...high
        }
        if let allowed = fields.allowed {
            var values: [Double] = []
            for value in try allowed.list() { values.append(try value.double()) }
            point.allowed = values
        }
        if let labels = fields.labels {
            guard case .string = point.type else { throw labels.error("labels need a string point") }
            var texts: [String] = []
            for label in try labels.list() { texts.append(try label.string()) }
            point.labels = texts
        }
        if let initial = fields.initial, !sources.contains("control") { throw initial.error("'initial' needs a 'control' point") }
        if let curve = fields.curve, !sources.contains("control"), !sources.contains("store") {
            throw curve.error("a curve's point is a 'control' (the setting it becomes) or a 'store'")
        }
        if (fields.range != nil || fields.allowed != nil), !point.isWritable {
            throw entry.error("'range' and 'allowed' limit writes: they need a 'control', 'store', stored curve or adopt-request point")
        }
    }
}

/// A point of a profile's block as written (docs/PROFILES.md, "Points"): every key a point may hold, each kept where
/// it is written, since what a key means depends on the point's type, its source and the model it lies in. A model
/// header (`{model: N, length: L}`) is an entry too.
struct PointEntry {
    var name, address, type, size, sf, value, quantity, control, store, unimplemented, adopt, remaining: YAMLValue?
    var range, allowed, labels, initial, model, length, curve: YAMLValue?

    /// The keys that say what a point's registers hold; a point gives at most one (none: it reads as not implemented).
    static let sources: [(name: String, field: any WritableKeyPath<PointEntry, YAMLValue?> & Sendable, doc: String)] = [
        ("value", \.value, "a constant, in engineering units (text for a string)"),
        ("quantity", \.quantity, "what the device measures, served as it changes"),
        ("control", \.control, "a setting a client writes, which the device acts on"),
        ("store", \.store, "a setting kept and read back, which the device does not act on"),
        ("unimplemented", \.unimplemented, "true: reads as SunSpec's not-implemented value"),
        ("adopt", \.adopt, "a curve model's adoption register (request, result or a reversion's)"),
        ("remaining", \.remaining, "the seconds left before a control reverts"),
    ]

    static let keys: [FileKey<PointEntry>] = [
        .section("name", \.name, "the point's name, unique in its model"),
        .section("address", \.address, "its address (default: right after the previous point)"),
        .section("type", \.type, "its register type: uint16, int32, float32, sunssf, string, ..."),
        .section("size", \.size, "a string's registers"),
        .section("sf", \.sf, "its scale factor: an exponent, or a sunssf point's name"),
    ] + sources.map { FileKey.section($0.name, $0.field, $0.doc) } + [
        .section("range", \.range, "[lowest, highest] a write may set"),
        .section("allowed", \.allowed, "the only values a write may set"),
        .section("labels", \.labels, "the texts a string point may hold"),
        .section("initial", \.initial, "a control's value at start"),
        .section("model", \.model, "a SunSpec model header: the model's ID, or end"),
        .section("length", \.length, "the model's length L, in registers"),
        .section("curve", \.curve, "the curve (1, 2, ...) of a curve model a point belongs to"),
    ]

    /// The source keys given, in the order of `sources`.
    var sources: [(key: String, value: YAMLValue)] { Self.sources.compactMap { source in self[keyPath: source.field].map { (source.name, $0) } } }
}

extension FileError {
    func withSuffix(_ suffix: String) -> FileError {
        FileError(file: file, line: line, column: column, path: path, message: message + suffix)
    }
}
