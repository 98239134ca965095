import Foundation
public import Modbus
public import Physics

/// Where one reading or setting lives in a device's registers, resolved once from its profile.
public struct RegisterPoint: Sendable, Hashable {
    public var unit: UInt8
    public var table: RegisterTable
    public var address: UInt16
    public var type: RegisterType
    /// Engineering value = raw × scale.
    public var scale: Double
    /// The SunSpec scale-factor register whose exponent gives `scale`, read with the value: a device may change its
    /// resolution (a firmware update), and SunSpec has clients read the factor, not remember it.
    public var scaleFactor: UInt16?
    /// For a string point: the texts of state 0, 1, 2, ...
    public var labels: [String]?

    public init(unit: UInt8, table: RegisterTable, address: UInt16, type: RegisterType, scale: Double = 1, scaleFactor: UInt16? = nil,
                labels: [String]? = nil) {
        self.unit = unit
        self.table = table
        self.address = address
        self.type = type
        self.scale = scale
        self.scaleFactor = scaleFactor
        self.labels = labels
    }

    /// The point's scale-factor register, as a point of its own.
    var factor: RegisterPoint? { scaleFactor.map { RegisterPoint(unit: unit, table: table, address: $0, type: .int16) } }
}

/// One device as its agent reaches it over Modbus TCP: the address, and where its profile puts each reading and
/// setting (named as the emulators name them: `Quantity`, `Control`).
public struct DeviceMap: Sendable {
    public var host: String
    public var port: UInt16
    public var wordOrder: WordOrder
    public var readings: [Quantity: RegisterPoint]
    public var settings: [Control: RegisterPoint]
    /// The runs of registers the device serves whole (its profile's blocks, gaps included): one read may cover any
    /// part of one run, as SunSpec clients read a model at once, but not parts of two.
    public var blocks: [ReadableBlock]

    public init(host: String, port: UInt16, wordOrder: WordOrder = .highFirst, readings: [Quantity: RegisterPoint] = [:],
                settings: [Control: RegisterPoint] = [:], blocks: [ReadableBlock] = []) {
        self.host = host
        self.port = port
        self.wordOrder = wordOrder
        self.readings = readings
        self.settings = settings
        self.blocks = blocks
    }
}

/// Registers `start ..< end` of one table behind one unit id, every one of them readable.
public struct ReadableBlock: Sendable, Hashable {
    public var unit: UInt8
    public var table: RegisterTable
    public var start: Int
    public var end: Int

    public init(unit: UInt8, table: RegisterTable, start: Int, end: Int) {
        (self.unit, self.table, self.start, self.end) = (unit, table, start, end)
    }

    func contains(_ point: RegisterPoint) -> Bool {
        point.unit == unit && point.table == table && Int(point.address) >= start && Int(point.address) + point.type.registerCount <= end
    }
}

extension DeviceMap {
    /// What the reference agents read, and what they write (and check that a device has): a map from a profile
    /// holds these points only.
    public static let agentReadings = Set(DeviceSetup.Kind.allCases.flatMap(\.readings))
    public static let agentSettings = Set(DeviceSetup.Kind.allCases.flatMap(\.controls))
}

/// Why a device could not be read or written.
public struct DeviceLinkError: Error, Sendable, CustomStringConvertible {
    public let device: String
    public let message: String
    public var description: String { "\(device): \(message)" }
}

/// A Modbus TCP connection to one device, opened on first use and again after a failure. It reads at once; its
/// writes go out with the rest of its loop's (`ModbusBatch`).
final class DeviceConnection {
    let name: String
    let map: DeviceMap
    private let batch: ModbusBatch
    private var client: ModbusClient?
    /// The registers each point was last written with on this connection, and the scale they were written at: a
    /// new connection may meet a device that restarted and forgot what it was written, so it starts without them.
    private var lastWrites: [Control: (registers: [UInt16], scale: Double)] = [:]
    /// Registers read together for the reading in progress (`fetching`), by where they are.
    private var fetched: [Place: [UInt16]] = [:]
    /// Registers read ahead (`readAhead`), by where they are, good while the batch's epoch is theirs; and the
    /// failure to read them, when the device did not answer.
    private var ahead: (epoch: Int, registers: [Place: [UInt16]], failure: DeviceLinkError?) = (-1, [:], nil)
    /// The spans of each list of points asked for: the map never changes, and an agent asks for the same few lists at
    /// every step.
    private var spansAsked: [SpansKey: [Span]] = [:]
    private struct SpansKey: Hashable { let names: [Quantity], settings: [Control] }

    private struct Place: Hashable {
        let unit: UInt8, table: RegisterTable, address: UInt16
        init(_ point: RegisterPoint) { (unit, table, address) = (point.unit, point.table, point.address) }
    }

    init(name: String, map: DeviceMap, batch: ModbusBatch) {
        self.name = name
        self.map = map
        self.batch = batch
    }

    func has(_ name: Quantity) -> Bool { map.readings[name] != nil }
    func has(_ name: Control) -> Bool { map.settings[name] != nil }

    private func connected(unit: UInt8) throws(DeviceLinkError) -> ModbusClient {
        if let client {
            if client.unit != unit { client.unit = unit }
            return client
        }
        do {
            let client = try ModbusClient(host: map.host, port: map.port, unit: unit, timeout: .seconds(1))
            self.client = client
            lastWrites = [:]
            return client
        } catch {
            throw DeviceLinkError(device: name, message: "\(error)")
        }
    }

    private func point(_ point: RegisterPoint?, _ name: String) throws(DeviceLinkError) -> RegisterPoint {
        guard let point else { throw DeviceLinkError(device: self.name, message: "its profile maps no \(name) point") }
        return point
    }

    /// Points read in one request: of one unit and register table, in one block of the map (or, in a map that names
    /// no blocks, within 16 registers of each other), up to 125 registers (what every Modbus server must serve in
    /// one read). A device refuses a read that leaves its block, however near the next point lies.
    private struct Span {
        var entries: [(name: String, point: RegisterPoint)]
        var unit: UInt8 { entries[0].point.unit }
        var table: RegisterTable { entries[0].point.table }
        var start: UInt16 { entries[0].point.address }
        var count: Int { (entries.map { Int($0.point.address) + $0.point.type.registerCount }.max() ?? Int(start)) - Int(start) }
        var names: String { entries.map(\.name).joined(separator: ", ") }

        /// Each point's registers, out of the span's (as many as an answer short of the span holds).
        func places(_ registers: [UInt16]) -> [(Place, [UInt16])] {
            entries.map { entry in
                let end = min(registers.count, Int(entry.point.address - start) + entry.point.type.registerCount)
                return (Place(entry.point), Array(registers[min(Int(entry.point.address - start), end)..<end]))
            }
        }
    }

    /// The spans that read `names` (register tables only) and their scale factors.
    private func spans(_ names: [Quantity], settings: [Control] = []) -> [Span] {
        let key = SpansKey(names: names, settings: settings)
        if let known = spansAsked[key] { return known }
        let spans = Self.spans(names, settings: settings, of: map)
        spansAsked[key] = spans
        return spans
    }

    private static func spans(_ names: [Quantity], settings: [Control], of map: DeviceMap) -> [Span] {
        typealias Entry = (name: String, point: RegisterPoint)
        let named: [Entry] = names.compactMap { name in map.readings[name].map { (name.rawValue, $0) } }
        let factors: [Entry] = (named + settings.compactMap { name in map.settings[name].map { (name.rawValue, $0) } })
            .compactMap { entry in entry.point.factor.map { ("\(entry.name) scale factor", $0) } }
        let entries = (named + factors).filter { !$0.point.table.isBits }
            .sorted { ($0.point.unit, $0.point.table.rawValue, $0.point.address) < ($1.point.unit, $1.point.table.rawValue, $1.point.address) }
        var spans: [Span] = []
        for entry in entries {
            if let first = spans.last?.entries.first, let last = spans.last?.entries.last, first.point.unit == entry.point.unit,
               first.point.table == entry.point.table,
               map.blocks.isEmpty ? Int(entry.point.address) <= Int(last.point.address) + last.point.type.registerCount + 16
                   : map.blocks.contains(where: { $0.contains(first.point) && $0.contains(entry.point) }),
               Int(entry.point.address) + entry.point.type.registerCount - Int(first.point.address) <= 125 {
                spans[spans.count - 1].entries.append(entry)
            } else {
                spans.append(Span(entries: [entry]))
            }
        }
        return spans
    }

    /// Reads `names` in as few requests as the map allows, for `body` to read from. A request the device refuses
    /// with an exception leaves its points to their own reads; a timeout or a lost connection fails the reading at
    /// once, as its first read would have.
    func fetching<Reading>(_ names: [Quantity], _ body: () throws(DeviceLinkError) -> Reading) throws(DeviceLinkError) -> Reading {
        defer { fetched = [:] }
        let current = ahead.epoch == batch.epoch
        if current, let failure = ahead.failure { throw failure }
        for span in spans(names) where span.entries.count > 1 && !(current && span.entries.allSatisfy { ahead.registers[Place($0.point)] != nil }) {
            let client = try connected(unit: span.unit)
            do {
                for (place, registers) in span.places(try client.read(span.table, at: span.start, count: span.count)) { fetched[place] = registers }
            } catch {
                if case .exception = error.kind { continue }
                self.client = nil
                throw DeviceLinkError(device: self.name, message: "read \(span.names): \(error)")
            }
        }
        return try body()
    }

    /// Plans reading `names` (and the scale factors of `settings`) in the loop's next batch, ahead of the messages
    /// that need them: this wake-up's reads find them there, until the batch's writes go out, and so does a later
    /// read ahead, which asks only for what is not there yet. A device that does not answer fails this wake-up's
    /// reads with that error, at once (one timeout, not one per read); a read it refuses is left to be read again.
    func readAhead(_ names: [Quantity], settings: [Control]) {
        let current = ahead.epoch == batch.epoch
        for span in spans(names, settings: settings) where !(current && span.entries.allSatisfy { ahead.registers[Place($0.point)] != nil }) {
            guard let client = try? connected(unit: span.unit) else { return }
            batch.add(.read(span.table, address: span.start, count: UInt16(span.count)), on: client, unit: span.unit) { [self] result in
                if ahead.epoch != batch.epoch { ahead = (batch.epoch, [:], nil) }
                switch result {
                case .success(let registers):
                    for (place, registers) in span.places(registers) { ahead.registers[place] = registers }
                case .failure(let error):
                    if case .exception = error.kind { return }
                    if self.client === client { self.client = nil }
                    // The first failure is the device's; the reads after it fail with its error, unsent.
                    if ahead.failure == nil { ahead.failure = DeviceLinkError(device: self.name, message: "read \(span.names): \(error)") }
                }
            }
        }
    }

    /// The registers at `point`: from the reading in progress or the reads ahead, else nil (to be read now). Throws
    /// when this wake-up's read ahead found the device silent.
    private func known(_ point: RegisterPoint) throws(DeviceLinkError) -> [UInt16]? {
        guard ahead.epoch == batch.epoch else { return fetched[Place(point)] }
        if let failure = ahead.failure { throw failure }
        return fetched[Place(point)] ?? ahead.registers[Place(point)]
    }

    /// A number in engineering units.
    func read(_ name: Quantity) throws(DeviceLinkError) -> Double {
        let point = try point(map.readings[name], name.rawValue)
        return try raw(point, name.rawValue) * scale(of: point, name.rawValue)
    }

    /// The point's raw number: from the reading in progress, else read now.
    private func raw(_ point: RegisterPoint, _ what: String) throws(DeviceLinkError) -> Double {
        if let registers = try known(point) { return point.type.decode(registers, order: map.wordOrder) ?? .nan }
        let client = try connected(unit: point.unit)
        do {
            return try client.read(point.type, at: point.address, from: point.table, order: map.wordOrder)
        } catch {
            self.client = nil
            throw DeviceLinkError(device: self.name, message: "read \(what): \(error)")
        }
    }

    /// Engineering value per raw unit: 10 to the scale factor as the device reads it now, or the profile's scale.
    private func scale(of point: RegisterPoint, _ name: String) throws(DeviceLinkError) -> Double {
        guard let factor = point.factor else { return point.scale }
        let exponent = try raw(factor, "\(name)'s scale factor")
        guard (-10...10).contains(exponent) else { throw DeviceLinkError(device: self.name, message: "\(name)'s scale factor reads \(exponent)") }
        return pow(10, exponent)
    }

    /// A state: its position among the point's labels for a text point (e.g. Alfen's Mode3State "C2", Phoenix's
    /// "\0C"), matched register for register as the product encodes them, else the number itself.
    func readState(_ name: Quantity) throws(DeviceLinkError) -> Int? {
        let point = try point(map.readings[name], name.rawValue)
        guard case .string(let count) = point.type else { return Int(try read(name)) }
        if let registers = try known(point) { return point.labels?.firstIndex { point.type.encode($0) == registers } }
        let client = try connected(unit: point.unit)
        do {
            let registers = try client.read(point.table, at: point.address, count: count)
            return point.labels?.firstIndex { point.type.encode($0) == registers }
        } catch {
            self.client = nil
            throw DeviceLinkError(device: self.name, message: "read \(name.rawValue): \(error)")
        }
    }

    /// The engineering value the device takes when `value` is written: rounded to the register's resolution (a
    /// point without a scale-factor register; one with it is rounded as it is written).
    func taken(_ name: Control, _ value: Double) -> Double {
        guard let point = map.settings[name], point.scaleFactor == nil, ![.float32, .float64].contains(point.type) else { return value }
        return (value / point.scale).rounded() * point.scale
    }

    /// Whether writing `value` to `name` would put in its registers what the last write on this connection put there
    /// (at the scale that write used).
    func holds(_ name: Control, _ value: Double) -> Bool {
        guard let last = lastWrites[name], let point = map.settings[name] else { return false }
        return encode(value / last.scale, point) == last.registers
    }

    private func encode(_ raw: Double, _ point: RegisterPoint) -> [UInt16] {
        point.type.encode([.float32, .float64].contains(point.type) ? raw : raw.rounded(), order: map.wordOrder)
    }

    /// Plans an engineering value's write in one request: FC 6 (FC 5 for a coil), or FC 16 for a multi-register
    /// value, at the resolution the device's scale factor gives now. It goes out when the batch is sent; `done`
    /// then learns whether it landed.
    func write(_ name: Control, _ value: Double, done: @escaping (DeviceLinkError?) -> Void) throws(DeviceLinkError) {
        let point = try point(map.settings[name], name.rawValue)
        lastWrites[name] = nil
        let scale = try scale(of: point, name.rawValue)
        let client = try connected(unit: point.unit)
        let registers = encode(value / scale, point)
        batch.add(.write(point.table, address: point.address, values: registers, isSingle: registers.count == 1), on: client, unit: point.unit) {
            [self] result in
            switch result {
            case .success:
                if self.client === client { lastWrites[name] = (registers, scale) }
                done(nil)
            case .failure(let error):
                if case .exception = error.kind {} else if self.client === client { self.client = nil }
                done(DeviceLinkError(device: self.name, message: "write \(name.rawValue) = \(value): \(error)"))
            }
        }
    }
}
