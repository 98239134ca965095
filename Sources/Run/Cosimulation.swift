import Emulators
import Foundation
import Physics
import Helics
import Rigs

/// GridRig's clock as a HELICS federate (docs/COSIM.md).
///
/// Every `period` it publishes each house's and the PCC's active and reactive power as the physics stands, asks
/// HELICS for the next exchange, and once granted hands the voltages (and frequencies) the federation published
/// to the emulators for the steps up to then. In a split run it also publishes the end of every control step,
/// which the shards step their houses' physics to, and asks for that time; once granted it has their devices'
/// power (for the PCC meter) and series. Simulated time never passes a time HELICS has not granted. HELICS time is
/// simulated seconds since the run began.
final class Cosimulation {
    private let federate: Federate
    private let broker: HelicsBroker?
    private let fleet: Fleet
    private let period: Double
    private let origin: Double
    private let isSplit: Bool
    private var powers: [(place: HouseID, active: Federate.Publication, reactive: Federate.Publication)] = []
    private var grid: [(place: HouseID, voltage: Federate.Input, frequency: Federate.Input?)] = []
    private var step: Federate.Publication?
    private var shardLoads: [(house: HouseID, active: Federate.Input, reactive: Federate.Input)] = []
    private var shardSeries: [(key: SeriesKey, input: Federate.Input)] = []
    /// The rig's other federates, which this run started.
    private var processes: [ControllerProcess] = []
    private var started = false
    /// The next time at which the power is published and the voltages read.
    private var nextExchange: Double
    /// What the shards last reported of their devices, as the physics series holds it.
    private(set) var remoteSeries: [SeriesKey: Double] = [:]
    /// Wall-clock seconds each time request waited for its grant: the federation's cost per step.
    private(set) var grantWaits: [Double] = []

    /// - Parameter devices: the rig's devices, so that a split run knows what each shard reports.
    /// - Parameter assembleTimeout: seconds every other federate has to join.
    init(_ settings: CosimSettings, fleet: Fleet, houses: [HouseID], devices: [DeviceSpec], controlPeriod: Double, assembleTimeout: Double) throws(RunError) {
        self.fleet = fleet
        period = settings.period ?? controlPeriod
        origin = fleet.time
        nextExchange = fleet.time
        isSplit = settings.shards > 1
        do {
            if let count = settings.startBroker, let address = CosimSettings.endpoint(settings.broker) {
                broker = try HelicsBroker(federates: count, host: address.host, port: address.port)
            } else {
                broker = nil
            }
            let environment = ["GRIDRIG_HELICS_BROKER": settings.broker, "GRIDRIG_HOUSES": houses.map(\.name).joined(separator: ","),
                               "GRIDRIG_FEDERATE": settings.name]
            for command in settings.federates {
                processes.append(try ControllerProcess(role: "federate \(command[0])", command: command, environment: environment))
            }
            var federateSettings = FederateSettings(name: settings.name, broker: settings.broker)
            federateSettings.isUninterruptible = true  // the conductor sets the pace: granted exactly what it asks
            federate = try Federate(federateSettings)
            for place in houses + [HouseID.pcc] {
                powers.append((place, try federate.publish("\(settings.name)/\(place)/p", unit: "W"),
                               try federate.publish("\(settings.name)/\(place)/q", unit: "var")))
                guard let voltage = settings.voltage else { continue }
                grid.append((place, try federate.subscribe(CosimSettings.key(voltage, house: place), unit: "V"),
                             try settings.frequency.map { template throws(HelicsError) in
                                 try federate.subscribe(CosimSettings.key(template, house: place), unit: "Hz")
                             }))
                fleet.setGrid(GridPoint(voltage: settings.nominalVoltage), at: place)  // until the federation says otherwise
            }
            if isSplit {
                step = try federate.publish(settings.stepKey, unit: "s")
                let byHouse = Dictionary(grouping: devices) { $0.house ?? .pcc }
                for shard in 1...settings.shards {
                    let name = settings.shardName(shard)
                    for house in settings.houses(ofShard: shard, among: houses) {
                        shardLoads.append((house, try federate.subscribe("\(name)/\(house)/device-p", unit: "W"),
                                           try federate.subscribe("\(name)/\(house)/device-q", unit: "var")))
                        for spec in byHouse[house] ?? [] {
                            for reading in PhysicsSeries.readings(of: spec.profile) {
                                shardSeries.append((SeriesKey(spec.name, reading), try federate.subscribe("\(name)/\(spec.name)/\(reading.rawValue)", unit: "")))
                            }
                        }
                    }
                }
            }
            // Every federate has joined once this returns: a shard serves its devices before it joins.
            try federate.enterInitialization(timeout: assembleTimeout)
        } catch let error as RunError {
            for process in processes { process.stop(grace: .zero) }
            throw error
        } catch {
            for process in processes { process.stop(grace: .zero) }
            throw RunError(message: "co-simulation: \(error)" + (processes.lazy.compactMap(\.failure).first.map { "; \($0)" } ?? ""))
        }
    }

    /// Enters the federation's execution, once every federate has joined, and takes what the shards reported of
    /// their devices as they start.
    func start() throws(RunError) {
        guard !started else { return }
        do { try federate.enterExecution() } catch { throw failure(error) }
        started = true
        receive()
    }

    /// The latest end of the next step: the next exchange, which must be a step boundary. A split run exchanges at
    /// every step, wherever it ends, so that its steps are the one-process run's.
    func boundary(after time: Double) -> Double {
        guard !isSplit else { return .infinity }
        return time >= nextExchange - 1e-6 ? time + period : nextExchange
    }

    /// Before the physics steps from `now` to `next`: exchanges with the federation when the time has come (at
    /// every step in a split run), and returns once HELICS has granted `next`.
    func prepareStep(from now: Double, to next: Double) throws(RunError) {
        let exchanging = now >= nextExchange - 1e-6
        guard exchanging || isSplit else { return }
        do {
            try start()
            if exchanging {
                let loads = fleet.loads(at: now)
                for power in powers {
                    let isSite = power.place == .pcc
                    try federate.set(power.active, isSite ? loads.site : loads.house(power.place))
                    try federate.set(power.reactive, isSite ? loads.siteReactive : loads.houseReactive(power.place))
                }
                nextExchange = now + period
            }
            if let step { try federate.set(step, next - origin) }
            let asked = (isSplit ? next : nextExchange) - origin, began = ContinuousClock.now
            let answer = try federate.request(asked)
            grantWaits.append((ContinuousClock.now - began) / .seconds(1))
            guard abs(answer - asked) < 1e-6 else {
                throw RunError(message: "co-simulation: asked HELICS for \(asked) s and was granted \(answer) s"
                               + (answer >= 1e8 ? " (the federation has ended)" : ""))
            }
        } catch let error as RunError {
            throw error
        } catch {
            throw failure(error, at: now)
        }
        receive()
    }

    /// Hands what the federation published to the emulators and the series.
    private func receive() {
        for point in grid {
            guard let voltage = federate.value(point.voltage), voltage.isFinite, voltage > 0 else { continue }
            fleet.setGrid(GridPoint(voltage: voltage, frequency: point.frequency.flatMap(federate.value)), at: point.place)
        }
        for load in shardLoads {
            fleet.setRemote(Fleet.DeviceLoads(active: federate.value(load.active) ?? 0, reactive: federate.value(load.reactive) ?? 0), of: load.house)
        }
        for series in shardSeries { remoteSeries[series.key] = federate.value(series.input) ?? .nan }
    }

    private func failure(_ error: any Error, at time: Double? = nil) -> RunError {
        RunError(message: "co-simulation\(time.map { " at \($0 - origin) s" } ?? ""): \(error)"
                 + (processes.lazy.compactMap(\.failure).first.map { "; \($0)" } ?? ""))
    }

    /// Leaves the federation, and stops the broker when this process started it.
    func finish() {
        federate.finish()
        for process in processes { process.stop() }
        broker?.stop()
    }
}
