// Every call into libhelics lives in this file; no HELICS handle leaves it. A build without libhelics (no
// pkg-config file: docs/COSIM.md) keeps the same API, and every entry point says how to get HELICS.
#if canImport(CHelics)
private import CHelics
import Glibc
#endif

/// A HELICS failure: the operation and HELICS's own words.
public struct HelicsError: Error, CustomStringConvertible, Equatable, Sendable {
    public let operation: String
    public let message: String
    public var description: String { "\(operation): \(message)" }

    static let notBuiltIn = HelicsError(operation: "HELICS",
                                        message: "this gridrig was built without HELICS: run `make deps` (it installs the helics wheel and its pkg-config file), then rebuild")
}

public enum Helics {
    /// Whether this build links libhelics.
    public static var isAvailable: Bool {
        #if canImport(CHelics)
        true
        #else
        false
        #endif
    }

    /// libhelics's version, e.g. "3.6.1 (2025-02-24)"; nil without HELICS.
    public static var version: String? {
        #if canImport(CHelics)
        String(cString: helicsGetVersion())
        #else
        nil
        #endif
    }
}

/// How federates reach their broker: over TCP (HELICS's zmq core), or within this process (its inproc core: no
/// sockets, for a federation that lives in one process, such as a test's).
public enum HelicsTransport: Sendable, Equatable {
    case tcp, inProcess

    var coreType: String { self == .tcp ? "zmq" : "inproc" }
}

/// Where a federate finds its broker, and how it steps.
public struct FederateSettings: Sendable, Equatable {
    public var name: String
    /// The broker's address, `host:port` over TCP, or its name within the process.
    public var broker: String
    public var transport = HelicsTransport.tcp
    /// Seconds to wait for the broker at the start. (HELICS's grant timeout is left unset: in libhelics 3.6.1 it
    /// crashes a federate whose first wait outlasts it.)
    public var connectTimeout: Double = 30
    /// Granted exactly the times it asks for, never earlier on another federate's update: a federate that sets
    /// the pace (GridRig's conductor) rather than one woken by what it subscribes to (a feeder model).
    public var isUninterruptible = false
    /// The address the federate's core receives on and tells the broker (TCP only): nil keeps HELICS's loopback,
    /// which a broker on another host cannot reach back.
    public var localInterface: String?

    public init(name: String, broker: String) {
        self.name = name
        self.broker = broker
    }
}

#if canImport(CHelics)
/// Runs a HELICS call with an error slot and throws what it reports.
private func checked<T>(_ operation: String, _ call: (UnsafeMutablePointer<HelicsError_>) -> T) throws(HelicsError) -> T {
    var error = helicsErrorInitialize()
    let result = call(&error)
    guard error.error_code == 0 else {
        throw HelicsError(operation: operation, message: error.message.map { String(cString: $0) } ?? "error \(error.error_code)")
    }
    return result
}

private typealias HelicsError_ = CHelics.HelicsError

/// A HELICS call that returns a handle, which must not be null.
private func handle<T>(_ operation: String, _ call: (UnsafeMutablePointer<HelicsError_>) -> T?) throws(HelicsError) -> T {
    guard let result = try checked(operation, call) else { throw HelicsError(operation: operation, message: "HELICS returned no handle") }
    return result
}
#endif

/// A HELICS broker in this process, for a federation of `federates` on `host:port` (or, in process, under a name
/// made from `port`).
public final class HelicsBroker: @unchecked Sendable {
    // @unchecked: HELICS documents its broker object as thread-safe; only stop() touches it after init.
    public let address: String
    #if canImport(CHelics)
    private let raw: CHelics.HelicsBroker
    #endif

    public init(federates: Int, host: String = "127.0.0.1", port: UInt16, transport: HelicsTransport = .tcp) throws(HelicsError) {
        address = transport == .tcp ? "\(host):\(port)" : "gridrig-broker-\(port)"
        #if canImport(CHelics)
        let options = "-f \(federates) --loglevel=warning" + (transport == .tcp ? " --local_interface=tcp://\(host) --port=\(port)" : "")
        raw = try handle("starting a broker at \(address)") { helicsCreateBroker(transport.coreType, "gridrig-broker-\(port)", options, $0) }
        #else
        throw .notBuiltIn
        #endif
    }

    /// Waits up to `timeout` s for every federate to leave, then closes the broker.
    public func stop(timeout: Double = 5) {
        #if canImport(CHelics)
        var error = helicsErrorInitialize()
        _ = helicsBrokerWaitForDisconnect(raw, Int32(timeout * 1000), &error)
        helicsBrokerDisconnect(raw, &error)
        helicsBrokerFree(raw)
        #endif
    }
}

/// One value federate: double-valued publications and subscriptions, and time requests. Used from one thread.
public final class Federate {
    public struct Publication: Hashable, Sendable { let index: Int }
    public struct Input: Hashable, Sendable { let index: Int }

    public let name: String
    /// The last value each input received; nil until its first.
    private var values: [Double?] = []
    #if canImport(CHelics)
    private let raw: CHelics.HelicsFederate
    private var publications: [CHelics.HelicsPublication] = []
    private var inputs: [CHelics.HelicsInput] = []
    #endif
    private var finished = false

    /// Joins the federation at `settings.broker`; throws when no broker answers within the connect timeout.
    public init(_ settings: FederateSettings) throws(HelicsError) {
        name = settings.name
        #if canImport(CHelics)
        let info = helicsCreateFederateInfo()
        defer { helicsFederateInfoFree(info) }
        try checked("core type") { helicsFederateInfoSetCoreTypeFromString(info, settings.transport.coreType, $0) }
        try checked("core options") {
            // The zmq core tries the broker 5 times, each for the network timeout.
            helicsFederateInfoSetCoreInitString(info, "--federates=1 --timeout=\(Int(settings.connectTimeout * 1000))ms"
                                                + (settings.transport == .tcp ? " --networktimeout=\(Int(settings.connectTimeout * 200))ms" : "")
                                                + (settings.transport == .tcp ? settings.localInterface.map { " --local_interface=tcp://\($0)" } ?? "" : ""), $0)
        }
        try checked("broker \(settings.broker)") {
            helicsFederateInfoSetBroker(info, settings.transport == .tcp ? "tcp://\(settings.broker)" : settings.broker, $0)
        }
        try checked("log level") { helicsFederateInfoSetIntegerProperty(info, Int32(HELICS_PROPERTY_INT_LOG_LEVEL.rawValue), Int32(HELICS_LOG_LEVEL_WARNING.rawValue), $0) }
        try checked("uninterruptible") {
            helicsFederateInfoSetFlagOption(info, Int32(HELICS_FLAG_UNINTERRUPTIBLE.rawValue), settings.isUninterruptible ? HELICS_TRUE : HELICS_FALSE, $0)
        }
        raw = try handle("joining the federation at \(settings.broker) as \(settings.name)") { helicsCreateValueFederate(settings.name, info, $0) }
        #else
        throw .notBuiltIn
        #endif
    }

    deinit { finish() }

    /// A global publication of doubles under `key`, in `unit`.
    public func publish(_ key: String, unit: String) throws(HelicsError) -> Publication {
        #if canImport(CHelics)
        let publication = try handle("publication \(key)") {
            helicsFederateRegisterGlobalPublication(raw, key, HELICS_DATA_TYPE_DOUBLE, unit, $0)
        }
        publications.append(publication)
        return Publication(index: publications.count - 1)
        #else
        throw .notBuiltIn
        #endif
    }

    /// A subscription to another federate's publication `key`, converted to `unit`.
    public func subscribe(_ key: String, unit: String) throws(HelicsError) -> Input {
        #if canImport(CHelics)
        let input = try handle("subscription \(key)") { helicsFederateRegisterSubscription(raw, key, unit, $0) }
        inputs.append(input)
        values.append(nil)
        return Input(index: inputs.count - 1)
        #else
        throw .notBuiltIn
        #endif
    }

    /// Enters initialization, where values published are what the others see as the federation starts; returns
    /// once every federate the broker expects has joined, or throws after `timeout` seconds.
    public func enterInitialization(timeout: Double) throws(HelicsError) {
        #if canImport(CHelics)
        try checked("entering initialization") { helicsFederateEnterInitializingModeAsync(raw, $0) }
        let deadline = ContinuousClock.now + .seconds(timeout)
        while try checked("entering initialization", { helicsFederateIsAsyncOperationCompleted(raw, $0) }) != HELICS_TRUE {
            guard ContinuousClock.now < deadline else {
                // Halt the federation through the core: every call on the federate, leaving it included, would
                // wait for this entry, which never completes.
                var error = helicsErrorInitialize()
                let core = helicsFederateGetCore(raw, &error)
                helicsCoreGlobalError(core, 1, "the federation did not assemble within \(Int(timeout)) s", &error)
                helicsCoreFree(core)
                throw HelicsError(operation: "entering initialization", message: "the federation did not assemble within \(Int(timeout)) s (is every federate started?)")
            }
            usleep(5_000)
        }
        try checked("entering initialization") { helicsFederateEnterInitializingModeComplete(raw, $0) }
        #endif
    }

    /// Leaves initialization: every federate must have registered what it publishes and subscribes.
    public func enterExecution() throws(HelicsError) {
        #if canImport(CHelics)
        try checked("entering execution") { helicsFederateEnterExecutingMode(raw, $0) }
        try readInputs()
        #endif
    }

    /// Asks for `time` (s) and returns the time granted: `time`, or earlier when an input changes first.
    public func request(_ time: Double) throws(HelicsError) -> Double {
        #if canImport(CHelics)
        let granted = try checked("requesting time \(time)") { helicsFederateRequestTime(raw, time, $0) }
        try readInputs()
        return granted
        #else
        throw .notBuiltIn
        #endif
    }

    #if canImport(CHelics)
    private func readInputs() throws(HelicsError) {
        for (index, input) in inputs.enumerated() where helicsInputIsUpdated(input) == HELICS_TRUE {
            values[index] = try checked("reading an input") { helicsInputGetDouble(input, $0) }
        }
    }
    #endif

    public func set(_ publication: Publication, _ value: Double) throws(HelicsError) {
        #if canImport(CHelics)
        try checked("publishing") { helicsPublicationPublishDouble(publications[publication.index], value, $0) }
        #endif
    }

    /// The last value `input` received by the latest grant; nil before its first.
    public func value(_ input: Input) -> Double? { values[input.index] }

    /// Leaves the federation (once).
    public func finish() {
        guard !finished else { return }
        finished = true
        #if canImport(CHelics)
        var error = helicsErrorInitialize()
        helicsFederateDisconnect(raw, &error)
        helicsFederateFree(raw)
        #endif
    }
}
