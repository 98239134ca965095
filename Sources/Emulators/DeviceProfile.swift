public import Modbus
public import Physics

/// The kinds of device GridRig emulates; a profile names one in its `kind:` key.
public enum DeviceKind: String, Sendable, CaseIterable, Codable {
    case inverter, battery, meter, thermostat, evCharger = "ev-charger"
}

/// One product's Modbus face and behaviour, loaded from `Profiles/*.yaml` (validated data; no Swift per product).
public struct DeviceProfile: Sendable {
    /// The file's stem, e.g. "alfen-ng9xx".
    public var name: String
    public var kind: DeviceKind
    /// The real product this map copies, e.g. "Alfen Eve (NG9xx platform)".
    public var product: String
    public var defaultPort: UInt16
    public var defaultUnit: UInt8
    public var wordOrder: WordOrder
    public var transport: ListenerOptions
    /// Nameplate figures, by the kind's rating names (see `DeviceKind.ratingDefaults`).
    public var ratings: [Rating: Double]
    /// Dead time between a control write and the physics seeing it, simulated seconds.
    public var latency: Double
    public var watchdog: Watchdog?
    /// Further SunSpec reversion timers, one per control that has its own (704's fixed W, fixed var, power factors).
    public var reversions: [Watchdog] = []
    public var exceptions: ExceptionPolicy
    public var blocks: [PointBlock]
    /// The IEEE 1547 voltage responses the product has (an inverter's; none by default).
    public var gridSupport: Set<GridSupportFunction> = []

    public init(name: String, kind: DeviceKind, product: String, defaultPort: UInt16 = 502, defaultUnit: UInt8 = 1,
                wordOrder: WordOrder = .highFirst, transport: ListenerOptions = .init(), ratings: [Rating: Double] = [:],
                latency: Double = 0, watchdog: Watchdog? = nil, exceptions: ExceptionPolicy = .init(), blocks: [PointBlock]) {
        self.name = name
        self.kind = kind
        self.product = product
        self.defaultPort = defaultPort
        self.defaultUnit = defaultUnit
        self.wordOrder = wordOrder
        self.transport = transport
        self.ratings = ratings
        self.latency = latency
        self.watchdog = watchdog
        self.exceptions = exceptions
        self.blocks = blocks
    }

    /// Every unit id the profile answers on.
    public var units: [UInt8] { Array(Set(blocks.map(\.unit))).sorted() }

    /// The watchdog first, then the reversion timers: the order `Core` keeps their state in.
    public var timers: [Watchdog] { (watchdog.map { [$0] } ?? []) + reversions }

    /// Whether the product trips on voltage or frequency (IEEE 1547 must-trip).
    public var hasTrips: Bool { !gridSupport.isDisjoint(with: [.voltageTrip, .frequencyTrip]) }

    /// A rating from the profile, else the kind's default.
    public func rating(_ name: Rating) -> Double { ratings[name] ?? kind.ratingDefaults[name] ?? 0 }
}

/// An IEEE 1547-2018 behaviour a product may have (a profile's `grid-support:` list).
public enum GridSupportFunction: String, Sendable, CaseIterable {
    case voltVar = "volt-var", voltWatt = "volt-watt", wattVar = "watt-var", voltageTrip = "voltage-trip", frequencyTrip = "frequency-trip",
         frequencyDroop = "frequency-droop", enterService = "enter-service"

    /// The controls that set the function; a function without any runs on the standard's defaults.
    public var controls: Set<Control> {
        switch self {
        case .voltVar: [.voltVarEnabled, .voltVarV1, .voltVarV2, .voltVarV3, .voltVarV4, .voltVarQ1, .voltVarQ2, .voltVarQ3, .voltVarQ4,
                        .voltVarReference, .voltVarResponseSeconds]
        case .voltWatt: [.voltWattEnabled, .voltWattV1, .voltWattV2, .voltWattP1, .voltWattP2, .voltWattReference, .voltWattResponseSeconds]
        case .voltageTrip: [.tripHighEnabled, .tripHighV1, .tripHighT1, .tripHighV2, .tripHighT2,
                            .tripLowEnabled, .tripLowV1, .tripLowT1, .tripLowV2, .tripLowT2]
        case .wattVar: [.wattVarEnabled, .wattVarP1, .wattVarP2, .wattVarP3, .wattVarQ1, .wattVarQ2, .wattVarQ3, .wattVarReference]
        case .frequencyDroop: [.frequencyDroopEnabled, .frequencyDroopDeadband, .frequencyDroopK, .frequencyDroopResponseSeconds,
                               .frequencyDroopMinimumPercent]
        case .frequencyTrip: [.tripHighFrequencyEnabled, .tripHighF1, .tripHighFrequencyT1, .tripHighF2, .tripHighFrequencyT2,
                              .tripLowFrequencyEnabled, .tripLowF1, .tripLowFrequencyT1, .tripLowF2, .tripLowFrequencyT2]
        case .enterService: [.enterServicePermitted, .enterServiceVoltageHigh, .enterServiceVoltageLow, .enterServiceFrequencyHigh,
                             .enterServiceFrequencyLow, .enterServiceDelaySeconds, .enterServiceRampSeconds]
        }
    }
}

/// What a product answers to a write it refuses (documented per profile).
public struct ExceptionPolicy: Sendable, Equatable {
    /// A write to a read-only register, or to a reserved gap inside the map.
    public var readOnly: ModbusException = .illegalDataAddress
    /// A value outside the point's range or allowed values.
    public var outOfRange: ModbusException = .illegalDataValue
    /// A write that covers only part of a multi-register value.
    public var partialWrite: ModbusException = .illegalDataValue

    public init(readOnly: ModbusException = .illegalDataAddress, outOfRange: ModbusException = .illegalDataValue,
                partialWrite: ModbusException = .illegalDataValue) {
        self.readOnly = readOnly
        self.outOfRange = outOfRange
        self.partialWrite = partialWrite
    }
}

/// A communication watchdog: without a re-arming write within the timeout, fallback settings apply
/// until the next re-arming write.
public struct Watchdog: Sendable, Equatable {
    /// Fixed timeout in seconds, used when `timeoutControl` is nil.
    public var timeout: Double?
    /// A control holding the timeout in seconds (0 disables the watchdog), e.g. SunSpec WMaxLimPct_RvrtTms.
    public var timeoutControl: Control?
    /// Writes to these controls restart the countdown.
    public var rearmedBy: [Control]
    /// Control values in force while the watchdog has expired.
    public var fallback: [Control: Fallback]
    /// A SunSpec reversion: on expiry the fallback values replace what was written, so the registers read the
    /// reverted state (`WMaxLim_Ena` 0). Otherwise (a vendor's comms watchdog, Alfen's safe current) the registers
    /// keep showing what was written while the fallback is in force.
    public var reverts: Bool

    /// A value a control falls back to: fixed, or whatever another control holds (SunSpec 704's `WMaxLimPctRvrt`,
    /// `WSetEnaRvrt`: the client writes what the control reverts to).
    public enum Fallback: Sendable, Equatable, ExpressibleByFloatLiteral, ExpressibleByIntegerLiteral {
        case value(Double)
        case control(Control)

        public init(floatLiteral value: Double) { self = .value(value) }
        public init(integerLiteral value: Int) { self = .value(Double(value)) }

        func value(in settings: Settings) -> Double {
            switch self {
            case .value(let value): value
            case .control(let control): settings[control] ?? .nan
            }
        }
    }

    /// The fallback values, reading the controls they name from `settings`.
    func fallbackValues(in settings: Settings) -> Settings { fallback.mapValues { $0.value(in: settings) } }

    public init(timeout: Double? = nil, timeoutControl: Control? = nil, rearmedBy: [Control], fallback: [Control: Fallback], reverts: Bool = false) {
        self.timeout = timeout
        self.timeoutControl = timeoutControl
        self.rearmedBy = rearmedBy
        self.fallback = fallback
        self.reverts = reverts
    }
}

/// A contiguous run of points in one table behind one unit id; gaps between points read `fill`.
public struct PointBlock: Sendable {
    public var unit: UInt8
    public var table: RegisterTable
    public var start: UInt16
    public var fill: UInt16
    public var points: [Point]

    public init(unit: UInt8, table: RegisterTable, start: UInt16, fill: UInt16 = 0xFFFF, points: [Point]) {
        self.unit = unit
        self.table = table
        self.start = start
        self.fill = fill
        self.points = points
    }

    /// One past the last register.
    public var end: Int { points.map { Int($0.address) + $0.type.registerCount }.max() ?? Int(start) }
}

/// The points by which a client adopts a curve of a SunSpec curve model (705-712; 711 adopts controls the same way) and has it revert.
public enum CurveAdoption: String, Sendable, CaseIterable {
    /// `AdptCrvReq`: writing a curve's index adopts it (0: no request); it reads back as written.
    case request
    /// `AdptCrvRslt`: 0 IN_PROGRESS until the adopted curve is in force, 1 COMPLETED, 2 FAILED.
    case result
    /// `RvrtTms`: seconds after an adoption (from when it is in force) at which the model adopts `RvrtCrv` again;
    /// 0 never. A rewrite while the timer runs restarts it, 0 cancels it.
    case revertSeconds = "revert-seconds"
    /// `RvrtRem`: seconds left on that timer (0 when none runs).
    case revertRemaining = "revert-remaining"
    /// `RvrtCrv`: the curve the model reverts to.
    case revertCurve = "revert-curve"

    var isWritable: Bool { self == .request || self == .revertSeconds || self == .revertCurve }
}

/// One named value of the map: where it is, how it is encoded, and what it shows or controls.
public struct Point: Sendable {
    public var name: String
    public var address: UInt16
    public var type: RegisterType
    /// Engineering value = raw × scale (SunSpec: 10^SF).
    public var scale: Double
    /// The sunssf point `scale` comes from, when it is named.
    public var scaleFactor: String?
    public var binding: Binding
    /// Allowed engineering values for a write (inclusive range), if limited.
    public var range: ClosedRange<Double>?
    /// Allowed engineering values for a write, if only some are valid (e.g. phases 1 or 3).
    public var allowed: [Double]?
    /// For a string point bound to a quantity: the text shown for quantity value 0, 1, 2, ...
    public var labels: [String]?

    public enum Binding: Sendable, Equatable {
        /// Fixed registers: model ids and lengths, scale factors, nameplate text, unimplemented values.
        case constant([UInt16])
        /// A live physics reading.
        case quantity(Quantity)
        /// A setting the client writes and reads back, driving the physics; nil starts at the kind's default.
        case control(Control, initial: Double?)
        /// A setting stored and read back with no effect on the physics (e.g. a vane position).
        case stored(initial: [UInt16])
        /// A point of curve `index` of the SunSpec curve model `model` (705-712). Curve 1 is the one in force and
        /// refuses writes; the others are stored. Adopting curve n copies its points onto curve 1's, point by point,
        /// and a point bound to a control sets it. A point with a control starts as the control's value; one without
        /// holds `initial`.
        case curve(Control?, model: UInt16, index: Int, initial: [UInt16])
        /// One of a curve model's adoption and reversion points.
        case adoption(CurveAdoption, model: UInt16)
        /// Seconds left on the watchdog or reversion timer whose timeout the control holds (SunSpec 704 `*RvrtRem`;
        /// 0 when it does not run).
        case remaining(Control)
    }

    public init(name: String, address: UInt16, type: RegisterType, scale: Double = 1, binding: Binding,
                range: ClosedRange<Double>? = nil, allowed: [Double]? = nil, labels: [String]? = nil) {
        self.name = name
        self.address = address
        self.type = type
        self.scale = scale
        self.binding = binding
        self.range = range
        self.allowed = allowed
        self.labels = labels
    }

    /// Whether a write may set `value` (engineering units): within the point's range and among its allowed values,
    /// whether the point drives the physics or is only stored.
    func admits(_ value: Double) -> Bool {
        guard range != nil || allowed != nil else { return true }
        return value.isFinite && range.map { $0.contains(value) } ?? true && allowed.map { $0.contains(value) } ?? true
    }

    public var isWritable: Bool {
        switch binding {
        case .control, .stored: true
        case .adoption(let role, _): role.isWritable
        case .curve(_, _, let index, _): index != 1
        case .constant, .quantity, .remaining: false
        }
    }
}
