import Foundation  // pow
public import Modbus
public import Physics
import Synchronization

/// One emulated product: its physics behind its profile's register map, served as a `ModbusUnit`.
///
/// Control writes are checked against the map (read-only, partial, out of range: the profile's exceptions),
/// land in the registers at once, reach the physics after the profile's latency (simulated time), and re-arm
/// the watchdog. Registers are refreshed from the physics after every step.
public final class DeviceEmulator: ModbusUnit {
    public let name: String
    public let profile: DeviceProfile
    private let layout: Layout
    private let core: Mutex<Core>

    /// - Parameters:
    ///   - time: simulated seconds at the start (seconds since midnight of day 0).
    ///   - replay: what the device replays from the field instead of its physics or its own answers.
    public init(name: String, profile: DeviceProfile, parameters: DeviceParameters = .init(), time: Double = 0,
                replay: Replay? = nil) throws(RegisterBankError) {
        self.name = name
        self.profile = profile
        layout = Layout(profile)
        var requested = profile.kind.physicsType.defaultSettings
        for block in profile.blocks {
            for point in block.points { if case .control(let control, let initial?) = point.binding { requested[control] = initial } }
        }
        requested.merge(parameters.settings) { $1 }
        var banks: [UInt8: RegisterBank] = [:]
        for unit in profile.units {
            banks[unit] = try RegisterBank(blocks: profile.blocks.filter { $0.unit == unit }.map { Self.initialBlock($0, requested: requested) })
        }
        // A fixed-timeout watchdog (a vendor's) holds its fallback until the first re-arming write.
        let expired = profile.timers.map { $0.timeoutControl == nil }
        var core = Core(physics: profile.kind.physicsType.init(profile: profile, parameters: parameters), banks: banks,
                        requested: requested, applied: requested, startTime: time, time: time, timers: profile.timers,
                        deadlines: expired.map { _ in nil }, expired: expired)
        core.replay = replay
        core.initial = (requested, banks, expired)
        core.encoded = Array(repeating: -1, count: layout.live.count)
        core.refresh(layout, profile)
        self.core = Mutex(core)
    }

    /// A block's registers at the start: constants and stores as the profile has them, the stored curves as the
    /// curve in force (`requested`), the rest zero until the first refresh.
    private static func initialBlock(_ block: PointBlock, requested: Settings) -> RegisterBlock {
        var values = [UInt16](repeating: block.fill, count: block.end - Int(block.start))
        for point in block.points {
            let offset = Int(point.address) - Int(block.start)
            let words: [UInt16]
            switch point.binding {
            case .constant(let registers), .stored(let registers): words = registers
            case .curve(let control?, _, _, _): words = point.type.encode((requested[control] ?? 0) / point.scale)
            case .curve(nil, _, _, let registers): words = registers
            default: words = [UInt16](repeating: 0, count: point.type.registerCount)
            }
            values.replaceSubrange(offset..<offset + words.count, with: words)
        }
        return RegisterBlock(table: block.table, start: block.start, values: values)
    }

    public func respond(to request: ModbusRequest, unit: UInt8) -> ModbusResponse {
        core.withLock { $0.respond(to: request, unit: unit, layout: layout, profile: profile) }
    }

    /// Advances the physics `seconds` (simulated) and refreshes the registers.
    public func step(for seconds: Double, site: SiteConditions) {
        core.withLock { $0.step(for: seconds, site: site, layout: layout, profile: profile) }
    }

    /// Brings the physics to where a device already running before the emulation would be (`DevicePhysics.settle`),
    /// and the registers with it.
    public func settle(site: SiteConditions) {
        core.withLock { core in
            core.physics.settle(site: site)
            core.refresh(layout, profile)
        }
    }

    /// Restarts the device: written settings and registers back to what it started with, pending changes and
    /// the watchdog cleared. The physics (a battery's charge, a room's warmth) carries on.
    public func reboot() {
        core.withLock { core in
            guard let initial = core.initial else { return }
            core.requested = initial.requested
            core.applied = initial.requested
            core.banks = initial.banks
            core.pending = []
            core.deadlines = initial.expired.map { _ in nil }
            core.expired = initial.expired
            core.shownScaleFactors = [:]
            core.adoptions = [:]
            core.reversions = [:]
            core.refresh(layout, profile)
        }
    }

    /// A battery forming the grid of an island (or of the site during an outage): it balances the site on its own
    /// settings (full power both ways), whatever setpoints a controller wrote; they still read back.
    public var isGridForming: Bool {
        get { core.withLock { $0.isGridForming } }
        set { core.withLock { $0.isGridForming = newValue } }
    }

    /// What the device's faults in force do to it (the fleet sets it before each step).
    var faultEffects: FaultEffects {
        get { core.withLock { $0.effects } }
        set { core.withLock { $0.effects = newValue } }
    }

    /// A live reading (nil if the kind has no such quantity).
    public func reading(_ quantity: Quantity) -> Double? { core.withLock { $0.reading(quantity, profile: profile) } }

    /// What each of `quantities` reads now (nil where the device has none), handed to `body` in order from one look
    /// at the device: a run samples every device at every physics step.
    public func read(_ quantities: [Quantity], _ body: (Double?) -> Void) {
        core.withLock { core in
            let applied = core.effective(profile)
            for quantity in quantities { body(core.reading(quantity, applied: applied)) }
        }
    }

    /// Whether the device runs on its comms-loss fallback now: its watchdog expired without a re-arming write.
    public var isOnFallback: Bool { core.withLock { profile.watchdog != nil && $0.expired[0] } }

    /// The controls the last accepted write set, in the physics' units after the profile's scaling.
    public var lastWritten: Settings { core.withLock { $0.lastWritten } }

    /// The value last written to a control, and the value the physics obeys now.
    public func requested(_ control: Control) -> Double? { core.withLock { $0.requested[control] } }
    public func applied(_ control: Control) -> Double? { core.withLock { $0.effective(profile)[control] } }

    /// Power drawn from the house wiring, W (production negative).
    public var netLoad: Double { core.withLock { $0.physics.netLoad } }
    /// Reactive power drawn from the house wiring, var (injected negative).
    public var netReactive: Double { core.withLock { $0.physics.netReactive } }
    /// Simulated seconds now.
    public var time: Double { core.withLock { $0.time } }
    /// The phase-to-neutral voltage the device is rated for, V.
    public var nominalVoltage: Double { core.withLock { $0.physics.nominalVoltage } }
}

/// Which point owns each register: computed once per emulator.
struct Layout: Sendable {
    struct Ref: Sendable { let block: Int; let point: Int }
    /// Per block, the point index owning each register (-1: a gap).
    let owners: [[Int32]]
    /// Points whose registers change with the physics or with writes.
    let live: [Ref]
    /// Per unit and table, the live points in address order with their registers, so that a read finds the few it
    /// touches by bisection.
    private let liveByTable: [UnitTable: [(index: Int, registers: Range<Int>)]]
    private struct UnitTable: Hashable { let unit: UInt8, table: RegisterTable }
    /// The curves' points in order, by curve model and curve index.
    let curves: [UInt16: [Int: [Ref]]]
    /// Each curve model's adoption and reversion points, and the unit id its curves answer on.
    let adoption: [UInt16: [CurveAdoption: Ref]]
    let curveUnits: [UInt16: UInt8]

    init(_ profile: DeviceProfile) {
        var owners: [[Int32]] = []
        var live: [Ref] = []
        var curves: [UInt16: [Int: [Ref]]] = [:]
        var adoption: [UInt16: [CurveAdoption: Ref]] = [:], curveUnits: [UInt16: UInt8] = [:]
        for (blockIndex, block) in profile.blocks.enumerated() {
            var owner = [Int32](repeating: -1, count: block.end - Int(block.start))
            for (pointIndex, point) in block.points.enumerated() {
                let offset = Int(point.address) - Int(block.start)
                for register in offset..<offset + point.type.registerCount { owner[register] = Int32(pointIndex) }
                let ref = Ref(block: blockIndex, point: pointIndex)
                switch point.binding {
                case .quantity, .control, .remaining: live.append(ref)
                case .adoption(let role, let model):
                    adoption[model, default: [:]][role] = ref
                    if !role.isWritable { live.append(ref) }
                case .curve(let control, let model, let index, _):
                    curves[model, default: [:]][index, default: []].append(ref)
                    curveUnits[model] = block.unit
                    if control != nil, index == 1 { live.append(ref) }
                case .constant, .stored: break
                }
            }
            owners.append(owner)
        }
        self.owners = owners
        self.live = live
        var liveByTable: [UnitTable: [(index: Int, registers: Range<Int>)]] = [:]
        for (index, ref) in live.enumerated() {
            let block = profile.blocks[ref.block], point = block.points[ref.point]
            liveByTable[UnitTable(unit: block.unit, table: block.table), default: []]
                .append((index, Int(point.address)..<Int(point.address) + point.type.registerCount))
        }
        self.liveByTable = liveByTable.mapValues { $0.sorted { $0.registers.lowerBound < $1.registers.lowerBound } }
        self.curves = curves
        self.adoption = adoption
        self.curveUnits = curveUnits
    }

    /// The live points whose registers a read of `registers` in `table` of `unit` touches.
    func live(touching registers: Range<Int>, in table: RegisterTable, of unit: UInt8) -> [Int] {
        guard let points = liveByTable[UnitTable(unit: unit, table: table)] else { return [] }
        var index = points.partitionPoint { $0.registers.upperBound > registers.lowerBound }
        var touched: [Int] = []
        while index < points.count, points[index].registers.lowerBound < registers.upperBound {
            touched.append(points[index].index)
            index += 1
        }
        return touched
    }
}

/// The mutable state of one emulator, guarded by its mutex.
struct Core: Sendable {
    var physics: any DevicePhysics
    var banks: [UInt8: RegisterBank]
    var requested: Settings
    var applied: Settings
    var pending: [(due: Double, settings: Settings)] = []
    let startTime: Double
    var time: Double
    /// The profile's timers (`DeviceProfile.timers`, the watchdog first), and per timer when it runs out and whether
    /// it has.
    let timers: [Watchdog]
    var deadlines: [Double?]
    var expired: [Bool]
    var effects = FaultEffects()
    var isGridForming = false
    /// The device's changes (a step, a write) counted, and per live point of the layout the count when it was last
    /// encoded: a read encodes only the points it touches (encoding every point at every request cost a tenth of a
    /// lockstep run's CPU). Whether some point may lag, and whether the registers were frozen at the last step.
    var generation = 0
    var encoded: [Int] = []
    var isStale = false
    var shownFrozen = false
    /// Scale-factor exponents as the registers last showed them.
    var shownScaleFactors: [String: Int] = [:]
    /// The settings and registers the device starts with, which a reboot restores.
    var initial: (requested: Settings, banks: [UInt8: RegisterBank], expired: [Bool])?
    var replay: Replay?
    /// The controls the last accepted write set.
    var lastWritten: Settings = [:]
    /// Each curve model's last adoption: completed (the curve in force from `due`) or failed.
    var adoptions: [UInt16: Adoption] = [:]
    /// When each curve model with a running reversion timer reverts to its `RvrtCrv`.
    var reversions: [UInt16: Double] = [:]

    enum Adoption: Sendable {
        case completed(due: Double)
        case failed

        /// SunSpec `AdptCrvRslt` at `time`: 0 IN_PROGRESS, 1 COMPLETED, 2 FAILED.
        func result(at time: Double) -> Double {
            switch self {
            case .completed(let due): due > time + 1e-9 ? 0 : 1
            case .failed: 2
            }
        }
    }

    /// Applied settings with the fallback of every expired timer in force (a reverting one put its fallback into the
    /// settings themselves when it ran out).
    func effective(_ profile: DeviceProfile) -> Settings {
        var settings = applied
        for (timer, expired) in zip(timers, expired) where expired && !timer.reverts {
            settings.merge(timer.fallbackValues(in: applied)) { _, fallback in fallback }
        }
        if effects.isOutOfService { settings.merge(profile.kind.outOfServiceSettings) { _, off in off } }
        if isGridForming { settings.merge(BatteryPhysics.defaultSettings) { _, own in own } }
        return settings
    }

    func reading(_ quantity: Quantity, profile: DeviceProfile) -> Double? {
        reading(quantity, applied: effective(profile))
    }

    fileprivate func reading(_ quantity: Quantity, applied: Settings) -> Double? {
        switch quantity {
        case .uptime: return time - startTime
        case .heartbeat: return (time - startTime).rounded(.down).truncatingRemainder(dividingBy: 65536)
        case .watchdogRemaining: return deadlines.first.flatMap { $0 }.map { max(0, $0 - time) } ?? 0
        default: return physics.reading(quantity, requested: requested, applied: applied)
        }
    }

    /// Advances `seconds`, splitting the step where a written setting falls due, the watchdog or a curve's reversion
    /// timer expires or the physics has an event (a trip), so that every timer runs out at its exact time, not at the
    /// end of the step holding it.
    mutating func step(for seconds: Double, site: SiteConditions, layout: Layout, profile: DeviceProfile) {
        // The registers are encoded when a client next asks (most steps see no request); a freeze that begins now
        // holds what they showed before it, so they are encoded first.
        if isStale, effects.isFrozen, !shownFrozen { refresh(layout, profile, holding: false) }
        var site = site
        site.solarShare = min(site.solarShare, effects.sunShare)
        let end = time + seconds
        while true {
            let due = pending.filter { $0.due <= time + 1e-9 }
            pending.removeAll { $0.due <= time + 1e-9 }
            for change in due { apply(change.settings, profile: profile) }
            for (model, deadline) in reversions where deadline <= time + 1e-9 { revert(model, layout: layout, profile: profile) }
            for (index, timer) in timers.enumerated() {
                guard let deadline = deadlines[index], deadline <= time + 1e-9 else { continue }
                expired[index] = true
                deadlines[index] = nil
                if timer.reverts {
                    let reverted = timer.fallbackValues(in: applied)
                    requested.merge(reverted) { _, value in value }
                    applied.merge(reverted) { _, value in value }
                }
            }
            // An event of the physics closer than a nanosecond has happened already (it is judged at a step's end).
            let applied = effective(profile)
            let inPhysics = physics.nextEvent(applied: applied, site: site).flatMap { $0 > 1e-9 ? time + $0 : nil }
            let event = min(pending.map(\.due).min() ?? .infinity, deadlines.compactMap { $0 }.min() ?? .infinity, inPhysics ?? .infinity,
                            reversions.values.min() ?? .infinity)
            let until = event < end - 1e-9 ? event : end
            guard until > time else { break }
            physics.step(applied: applied, at: time, for: until - time, site: site)
            time = until
            if until >= end { break }
        }
        time = end
        invalidateRegisters()
        shownFrozen = effects.isFrozen
    }

    /// The registers lag the device from now on, until a read encodes what it touches.
    mutating func invalidateRegisters() {
        generation += 1
        isStale = true
    }

    /// A point's scale, as a scale-factor fault may have changed it.
    func scale(of point: Point) -> Double {
        point.scaleFactor.flatMap { effects.scaleFactors[$0] }.map { pow(10, Double($0)) } ?? point.scale
    }

    /// Re-encodes every live point into the banks (only those a read touches that lag, given `read`), and any
    /// scale-factor point a fault changed or gave back; measurements stay as they are while `holding` (a freeze).
    mutating func refresh(_ layout: Layout, _ profile: DeviceProfile, holding: Bool? = nil,
                          read: (unit: UInt8, table: RegisterTable, registers: Range<Int>)? = nil) {
        let applied = effective(profile)
        let order: WordOrder = effects.isWordSwapped ? (profile.wordOrder == .highFirst ? .lowFirst : .highFirst) : profile.wordOrder
        let scaleFactors = effects.scaleFactors
        if scaleFactors != shownScaleFactors {
            for block in profile.blocks {
                for point in block.points where scaleFactors[point.name] != nil || shownScaleFactors[point.name] != nil {
                    guard case .constant(let words) = point.binding else { continue }
                    let shown = scaleFactors[point.name].map { [UInt16(bitPattern: Int16($0))] } ?? words
                    _ = banks[block.unit]?.store(shown, in: block.table, at: point.address)
                }
            }
            shownScaleFactors = scaleFactors
        }
        // Every value is read from one snapshot first and stored after: reading the core while its banks were
        // being mutated made Swift copy the whole core once per point.
        let now = time, frozen = holding ?? effects.isFrozen, distortions = effects.distortions
        let snapshot = self
        var trace: MeasurementTrace?
        if case .measurements(let recorded) = replay { trace = recorded }
        var updates: [(unit: UInt8, table: RegisterTable, address: UInt16, words: [UInt16])] = []
        var fresh: [Int] = []
        let points = read.map { layout.live(touching: $0.registers, in: $0.table, of: $0.unit).filter { encoded[$0] != generation } }
            ?? Array(layout.live.indices)
        for index in points {
            let ref = layout.live[index]
            let block = profile.blocks[ref.block]
            let point = block.points[ref.point]
            let value: Double?
            switch point.binding {
            case .quantity(let quantity):
                if frozen { continue }
                var measured = snapshot.reading(quantity, applied: applied)
                if let trace, let recorded = trace.value(point.name, at: now) ?? trace.value(quantity.rawValue, at: now) { measured = recorded }
                value = distortions.isEmpty || point.labels != nil ? measured : distortions.reduce(measured) { value, distortion in
                    value.map { distortion.apply($0, quantity: quantity, point: ref.point, time: now) }
                }
            case .control(let control, _), .curve(let control?, _, _, _):
                value = snapshot.physics.controlValue(control, requested: snapshot.requested) ?? snapshot.requested[control]
            case .adoption(.result, let model): value = snapshot.adoptions[model]?.result(at: now) ?? 1
            case .adoption(.revertRemaining, let model): value = snapshot.reversions[model].map { max(0, $0 - now) } ?? 0
            case .remaining(let control):
                let index = timers.firstIndex { $0.timeoutControl == control }
                value = index.flatMap { snapshot.deadlines[$0] }.map { max(0, $0 - now) } ?? 0
            case .constant, .stored, .adoption, .curve(nil, _, _, _): continue
            }
            updates.append((block.unit, block.table, point.address, Self.encode(value, point, scale: snapshot.scale(of: point), order)))
            fresh.append(index)
        }
        for update in updates { _ = banks[update.unit]?.store(update.words, in: update.table, at: update.address) }
        for index in fresh { encoded[index] = generation }
        if read == nil { isStale = false }
    }

    private static func encode(_ value: Double?, _ point: Point, scale: Double, _ order: WordOrder) -> [UInt16] {
        guard let value else { return point.type.encode(.nan, order: order) }
        if case .string = point.type {
            let labels = point.labels ?? []
            let index = Int(value.rounded())
            return point.type.encode(labels.indices.contains(index) ? labels[index] : "")
        }
        return point.type.encode(value / scale, order: order)
    }

    mutating func respond(to request: ModbusRequest, unit: UInt8, layout: Layout, profile: DeviceProfile) -> ModbusResponse {
        guard banks[unit] != nil else { return .exception(function: request.functionCode, .gatewayTargetFailedToRespond) }
        if case .traffic(let trace) = replay, let recorded = trace.response(to: request, at: time) { return recorded }
        switch request {
        case .read(let table, let address, let count):
            if isStale { refresh(layout, profile, read: (unit, table, Int(address)..<Int(address) + Int(count))) }
            return banks[unit]!.respond(to: request)
        case .write(let table, let address, let values, _):
            switch write(values, table: table, at: address, unit: unit, layout: layout, profile: profile) {
            case .success: return .success(to: request)
            case .failure(let code): return .exception(function: request.functionCode, code)
            }
        }
    }

    /// Checks a whole write, then applies it all or nothing.
    private mutating func write(_ values: [UInt16], table: RegisterTable, at address: UInt16, unit: UInt8, layout: Layout,
                                profile: DeviceProfile) -> Result<Void, ModbusException> {
        guard let blockIndex = profile.blocks.indices.first(where: {
            let block = profile.blocks[$0]
            // The layout's owners span the block: `block.end` walks every point, which made each write cost as
            // much as a read of the whole profile.
            return block.unit == unit && block.table == table && Int(address) >= Int(block.start)
                && Int(address) + values.count <= Int(block.start) + layout.owners[$0].count
        }) else { return .failure(.illegalDataAddress) }
        let block = profile.blocks[blockIndex]
        var tentative = requested
        var changed: Settings = [:]
        var stores: [(address: UInt16, words: ArraySlice<UInt16>)] = []
        var adoptionRequests: [(model: UInt16, index: Int)] = [], newReversionTimes: [UInt16] = []
        var index = 0
        while index < values.count {
            let register = Int(address) + index
            let owner = layout.owners[blockIndex][register - Int(block.start)]
            guard owner >= 0, block.points[Int(owner)].isWritable else { return .failure(profile.exceptions.readOnly) }
            let point = block.points[Int(owner)]
            let count = point.type.registerCount
            guard Int(point.address) == register, index + count <= values.count else { return .failure(profile.exceptions.partialWrite) }
            let words = values[index..<index + count]
            index += count
            let value = (point.type.decode(words, order: profile.wordOrder) ?? .nan) * scale(of: point)
            guard point.admits(value) else { return .failure(profile.exceptions.outOfRange) }
            switch point.binding {
            case .adoption(.request, let model): adoptionRequests.append((model, Int(value)))
            case .adoption(.revertSeconds, let model): newReversionTimes.append(model)
            default: break
            }
            guard case .control(let control, _) = point.binding else {
                stores.append((point.address, words))
                continue
            }
            guard value.isFinite, let accepted = physics.accept(control, value, requested: tentative) else { return .failure(profile.exceptions.outOfRange) }
            tentative.merge(accepted) { _, new in new }
            changed.merge(accepted) { _, new in new }
        }
        for store in stores { _ = banks[unit]?.store(Array(store.words), in: table, at: store.address) }
        for request in adoptionRequests where request.index > 0 {
            guard let adopted = adopt(curve: request.index, of: request.model, over: tentative, unit: unit, layout: layout, profile: profile) else {
                adoptions[request.model] = .failed
                continue
            }
            tentative.merge(adopted) { _, new in new }
            changed.merge(adopted) { _, new in new }
            adoptions[request.model] = .completed(due: time + profile.latency)
            let timer = reversion(of: request.model, layout: layout, profile: profile)
            reversions[request.model] = timer.seconds > 0 && request.index != timer.curve ? time + profile.latency + timer.seconds : nil
        }
        for model in newReversionTimes where reversions[model] != nil {
            let seconds = reversion(of: model, layout: layout, profile: profile).seconds
            reversions[model] = seconds > 0 ? time + profile.latency + seconds : nil
        }
        requested = tentative
        lastWritten = changed
        if !changed.isEmpty {
            if profile.latency > 0 { pending.append((time + profile.latency, changed)) } else { apply(changed, profile: profile) }
        }
        invalidateRegisters()
        return .success(())
    }

    /// Adopts curve `index` of curve model `model` if it passes the model's rules (each point within its range, the
    /// physics' order of points): copies its points onto curve 1's and returns the controls that sets; nil fails the
    /// adoption and changes nothing. Curve 1 is the one in force: adopting it changes nothing.
    private mutating func adopt(curve index: Int, of model: UInt16, over settings: Settings, unit: UInt8, layout: Layout,
                                profile: DeviceProfile) -> Settings? {
        if index == 1 { return [:] }
        guard let target = layout.curves[model]?[1], let source = layout.curves[model]?[index], source.count == target.count else { return nil }
        var adopted: Settings = [:]
        var copies: [(block: PointBlock, point: Point, words: [UInt16])] = []
        for (from, to) in zip(source, target) {
            let block = profile.blocks[from.block], point = block.points[from.point], active = profile.blocks[to.block].points[to.point]
            guard case .success(let words) = banks[unit]?.read(block.table, at: point.address, count: point.type.registerCount) else { return nil }
            let value = (point.type.decode(words, order: profile.wordOrder) ?? .nan) * scale(of: point)
            guard point.admits(value) else { return nil }
            copies.append((profile.blocks[to.block], active, words))
            guard case .curve(let control?, _, _, _) = active.binding else { continue }
            guard value.isFinite, let accepted = physics.accept(control, value, requested: settings) else { return nil }
            adopted.merge(accepted) { _, new in new }
        }
        guard physics.acceptsCurves(settings.merging(adopted) { _, new in new }, changing: Set(adopted.keys)) else { return nil }
        for copy in copies { _ = banks[unit]?.store(copy.words, in: copy.block.table, at: copy.point.address) }
        return adopted
    }

    /// A curve model's `RvrtTms` and `RvrtCrv` as written (0 and 0 for a model without reversion).
    private func reversion(of model: UInt16, layout: Layout, profile: DeviceProfile) -> (seconds: Double, curve: Int) {
        func value(_ role: CurveAdoption) -> Double {
            guard let ref = layout.adoption[model]?[role] else { return 0 }
            let block = profile.blocks[ref.block], point = block.points[ref.point]
            guard case .success(let words) = banks[block.unit]?.read(block.table, at: point.address, count: point.type.registerCount) else { return 0 }
            return (point.type.decode(words, order: profile.wordOrder) ?? 0) * scale(of: point)
        }
        return (value(.revertSeconds), Int(value(.revertCurve)))
    }

    /// A curve model's reversion timer has run out: it adopts its `RvrtCrv` at once (a curve that fails the rules
    /// leaves the one in force, and the result reads FAILED).
    private mutating func revert(_ model: UInt16, layout: Layout, profile: DeviceProfile) {
        reversions[model] = nil
        let curve = reversion(of: model, layout: layout, profile: profile).curve
        guard curve > 0, let unit = layout.curveUnits[model] else { return }
        guard let adopted = adopt(curve: curve, of: model, over: requested, unit: unit, layout: layout, profile: profile) else {
            adoptions[model] = .failed
            return
        }
        requested.merge(adopted) { _, new in new }
        applied.merge(adopted) { _, new in new }
        adoptions[model] = .completed(due: time)
    }

    /// Puts written settings in force; a re-arming one restarts its timer then, not on arrival. A new timeout for
    /// a running timer counts from when it is in force (0 cancels the timer); it re-arms nothing that has expired.
    private mutating func apply(_ changed: Settings, profile: DeviceProfile) {
        applied.merge(changed) { _, new in new }
        for (index, timer) in timers.enumerated() {
            let timeout = timer.timeoutControl.map { requested[$0] ?? 0 } ?? timer.timeout ?? 0
            if timer.rearmedBy.contains(where: { changed[$0] != nil }) {
                expired[index] = false
            } else if !(timer.timeoutControl.map { changed[$0] != nil && deadlines[index] != nil } ?? false) {
                continue
            }
            deadlines[index] = timeout > 0 ? time + timeout : nil
        }
    }
}
