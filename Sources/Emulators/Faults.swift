public import Modbus
public import Physics
import Synchronization

/// One scheduled fault of one emulated device (docs/FAULTS.md): what the device does wrong (on the wire or in
/// its hardware), to which requests, when, how often.
public struct DeviceFault: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        /// Answer with this exception code.
        case exception(ModbusException)
        /// Answer nothing: the client times out.
        case noResponse
        /// Answer late, by `milliseconds` plus up to `jitter` more (seeded).
        case delay(milliseconds: Double, jitter: Double)
        /// Drop the TCP connection.
        case drop
        /// Registers stop following the physics, which moves on (stale values).
        case frozen
        /// Measurements read wrong: `offset` added, growing by `drift` per hour since the fault began, with seeded
        /// gaussian `noise` (a standard deviation), in the quantity's engineering units; only `quantity`'s points,
        /// or every measurement when nil.
        case distortion(offset: Double, drift: Double, noise: Double, quantity: Quantity?)
        /// The hardware is out of service while its Modbus face still answers: an inverter tripped, a battery's
        /// contactor open, a heat pump failed, a charger faulted. Writes are accepted and read back; nothing happens.
        case outOfService
        /// Passing cloud over one array: it gets this share of the sun, 0...1.
        case shade(Double)
        /// A request arriving less than `milliseconds` after the previous one to the device is refused with
        /// `code` (devices that mark back-to-back requests as failures, OpenEMS/openems#3099).
        case minimumGap(milliseconds: Double, code: ModbusException)
        /// Answer with the MBAP header and half the PDU, never the rest.
        case partialFrame
        /// Answer with the MBAP header at once and the rest `milliseconds` later.
        case slowFrame(milliseconds: Double)
        /// Connections are reset on connect and open ones dropped: the device's server is down.
        case refused
        /// Only one client at a time: a second connection is reset on connect (some inverters allow only one).
        case singleClient
        /// The device restarts at the fault's start: setpoints and written registers back to their defaults, and
        /// unreachable (connections refused, the hardware idle) until the fault ends (its boot time).
        case reboot
        /// 32-bit values are read with their two words in the other order (a firmware update changed it).
        case wordSwap
        /// The scale-factor point `point` reads `exponent`, and the points scaled by it follow, for reads and
        /// writes alike (a firmware update changed the resolution).
        case scaleFactor(point: String, exponent: Int)
        /// The vehicle leaves at the fault's start, before its planned departure (an EV charger).
        case departure
        /// The vehicle arrives at this state of charge, %, not the planned one (an EV charger).
        case arrivalSoC(Double)
    }

    public var device: String
    public var kind: Kind
    /// Function codes the fault applies to; empty: every request.
    public var functions: Set<UInt8>
    /// The unit id it applies to, for a device answering on several (Alfen's 200 and 1); nil: every unit.
    public var unit: UInt8?
    /// The registers (or coils) it applies to: a request touching any of them; nil: every address.
    public var addresses: ClosedRange<UInt16>?
    /// Simulated seconds: from `start`, until `end`.
    public var start: Double
    public var end: Double
    /// At most this many requests are affected; nil: no limit.
    public var count: Int?
    /// Share of the matching requests affected, 0...1, drawn from the rig's seed.
    public var probability: Double

    public init(device: String, kind: Kind, functions: Set<UInt8> = [], unit: UInt8? = nil, addresses: ClosedRange<UInt16>? = nil,
                start: Double, end: Double = .infinity, count: Int? = nil, probability: Double = 1) {
        self.device = device
        self.kind = kind
        self.functions = functions
        self.unit = unit
        self.addresses = addresses
        self.start = start
        self.end = end
        self.count = count
        self.probability = probability
    }
}

extension DeviceFault {
    /// Whether the fault decides how requests are answered (the others change what the registers hold).
    public var answersRequests: Bool {
        switch kind {
        case .frozen, .distortion, .outOfService, .shade, .departure, .arrivalSoC, .singleClient, .wordSwap, .scaleFactor: false
        default: true
        }
    }

    func isInForce(at time: Double) -> Bool { time >= start && time < end }

    /// Whether the fault applies to `request` to `unit`, by function code, unit id and addresses.
    func matches(_ request: ModbusRequest, unit: UInt8) -> Bool {
        guard functions.isEmpty || functions.contains(request.functionCode), self.unit.map({ $0 == unit }) ?? true else { return false }
        guard let addresses else { return true }
        let count: Int
        switch request {
        case .read(_, _, let quantity): count = Int(quantity)
        case .write(_, _, let values, _): count = values.count
        }
        return Int(request.address) <= Int(addresses.upperBound) && Int(request.address) + count - 1 >= Int(addresses.lowerBound)
    }
}

/// A measurement distortion in force on one device at one time.
struct Distortion: Sendable, Equatable {
    /// States and counters, which a distortion of "every measurement" leaves alone.
    static let states: Set<Quantity> = [.inverterStatus, .chargeStatus, .pilotState, .hvacAction, .fanRunning, .heartbeat, .uptime,
                                         .activePhases, .setpointAccounted, .watchdogRemaining]

    var offset: Double
    var noise: Double
    var quantity: Quantity?
    var seed: UInt64

    /// The distorted value of point `point` at simulated `time`: the noise is a pure function of the seed, the
    /// point and the time, so a run replays it.
    func apply(_ value: Double, quantity reading: Quantity, point: Int, time: Double) -> Double {
        guard quantity.map({ $0 == reading }) ?? !Self.states.contains(reading) else { return value }
        var generator = SplitMix64(seed: seed ^ UInt64(point) &* 0xD6E8_FEB8_6659_FD93 ^ time.bitPattern)
        return value + offset + noise * generator.normal()
    }
}

/// What a device's faults in force do to it at one time; the fleet sets it on the emulator before each step.
struct FaultEffects: Sendable, Equatable {
    /// Measurements stale: the registers keep what they last showed.
    var isFrozen = false
    /// The hardware idle (out of service, or booting), its Modbus face still there.
    var isOutOfService = false
    var isWordSwapped = false
    /// Scale-factor points reading another exponent, by name; the points they scale follow.
    var scaleFactors: [String: Int] = [:]
    var distortions: [Distortion] = []
    /// The share of the sun an inverter gets (1 without shade).
    var sunShare = 1.0
}

/// A rig's faults in force: the verdict on each request a device receives, and what they do to each device.
/// Draws come from one seeded generator per device, so a device meets the same faults for the same requests in
/// every run with the same seed.
public final class FaultPlan: Sendable {
    public let faults: [DeviceFault]
    private let seed: UInt64
    private struct State {
        var generators: [String: SplitMix64]
        /// When each device last received a request, wall-clock.
        var lastRequest: [String: ContinuousClock.Instant] = [:]
        /// Requests each fault has affected so far, by its position in `faults`.
        var applied: [Int]
    }
    private let state: Mutex<State>

    public init(_ faults: [DeviceFault], seed: UInt64) {
        self.faults = faults
        self.seed = seed
        var generators: [String: SplitMix64] = [:]
        for name in Set(faults.map(\.device)) { generators[name] = SplitMix64(seed: seed, name: name) }
        state = Mutex(State(generators: generators, applied: Array(repeating: 0, count: faults.count)))
    }

    /// Requests each fault has affected so far, in the order of `faults`.
    public var applied: [Int] { state.withLock { $0.applied } }

    /// What `device` does with `request` to `unit` at simulated `time`: the first fault in force that draws it,
    /// or a reply.
    func verdict(device: String, unit: UInt8, request: ModbusRequest, at time: Double) -> ReplyVerdict {
        state.withLock { state in
            let arrived = ContinuousClock.now
            let previous = state.lastRequest.updateValue(arrived, forKey: device)
            for (index, fault) in faults.enumerated() where fault.device == device && fault.answersRequests && fault.isInForce(at: time)
                && fault.matches(request, unit: unit) && state.applied[index] < (fault.count ?? .max) {
                if case .minimumGap(let milliseconds, _) = fault.kind {
                    guard let previous, previous.duration(to: arrived) < .milliseconds(milliseconds) else { continue }
                }
                if fault.probability < 1 {
                    let draw = Double.random(in: 0..<1, using: &state.generators[device, default: SplitMix64(seed: 0)])
                    guard draw < fault.probability else { continue }
                }
                state.applied[index] += 1
                switch fault.kind {
                case .exception(let code): return .exception(code)
                case .noResponse: return .noResponse
                case .drop: return .close
                case .delay(let milliseconds, let jitter):
                    let extra = jitter > 0 ? Double.random(in: 0...jitter, using: &state.generators[device, default: SplitMix64(seed: 0)]) : 0
                    return .delay(.milliseconds(milliseconds + extra))
                case .minimumGap(_, let code): return .exception(code)
                case .refused, .reboot: return .close
                case .partialFrame: return .partial
                case .slowFrame(let milliseconds): return .slow(.milliseconds(milliseconds))
                case .frozen, .distortion, .outOfService, .shade, .departure, .arrivalSoC, .singleClient, .wordSwap, .scaleFactor: continue
                }
            }
            return .reply
        }
    }

    /// The vehicle that really comes to `device`'s charger: the plan, changed by the device's faults.
    func vehicle(of device: String, planned: VehicleSession?) -> VehicleSession? {
        faults.reduce(planned) { session, fault in
            guard fault.device == device, var session else { return session }
            switch fault.kind {
            case .departure where fault.start > session.arrival: session.departure = min(session.departure, fault.start)
            case .arrivalSoC(let percent): session.initialSoC = percent.fromPercent
            default: break
            }
            return session
        }
    }

    /// Whether `device` takes a new connection while `open` are open.
    func admits(device: String, open: Int, at time: Double) -> Bool {
        !faults.contains { fault in
            fault.device == device && fault.isInForce(at: time)
                && (fault.kind == .refused || fault.kind == .reboot || (fault.kind == .singleClient && open >= 1))
        }
    }

    /// What `device`'s faults in force at `time` do to its registers and hardware, in one pass.
    func effects(device: String, at time: Double) -> FaultEffects {
        var effects = FaultEffects()
        for (index, fault) in faults.enumerated() where fault.device == device && fault.isInForce(at: time) {
            switch fault.kind {
            case .frozen: effects.isFrozen = true
            case .outOfService, .reboot: effects.isOutOfService = true
            case .wordSwap: effects.isWordSwapped = true
            case .scaleFactor(let point, let exponent): effects.scaleFactors[point] = exponent
            case .shade(let remaining): effects.sunShare = min(effects.sunShare, remaining)
            case .distortion(let offset, let drift, let noise, let quantity):
                effects.distortions.append(Distortion(offset: offset + drift * (time - fault.start) / 3600, noise: noise, quantity: quantity,
                                                      seed: seed &+ UInt64(index) &* 0x9E37_79B9_7F4A_7C15))
            default: continue
            }
        }
        return effects
    }

    /// Whether one of `device`'s reboots begins in [from, to).
    func rebootBegins(device: String, from: Double, to: Double) -> Bool {
        faults.contains { $0.device == device && $0.kind == .reboot && $0.start >= from && $0.start < to }
    }
}
