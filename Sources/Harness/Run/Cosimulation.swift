import Emulators
import Foundation
import Helics

/// GridRig's clock as a HELICS federate (docs/COSIM.md). At every exchange time it publishes each house's and the
/// PCC's active and reactive power as the physics stands, asks HELICS for the next exchange time, and once granted
/// hands the voltages (and frequencies) the federation published to the emulators, for the steps up to that time.
/// Simulated time never passes a time HELICS has not granted. HELICS time is simulated seconds since the run began.
final class Cosimulation {
    private let federate: Federate
    private let broker: HelicsBroker?
    /// The rig's other federates, which this run started.
    private var processes: [ControllerProcess] = []
    private let fleet: Fleet
    private let period: Double
    private let origin: Double
    private var powers: [(place: String, active: Federate.Publication, reactive: Federate.Publication)] = []
    private var grid: [(place: String, voltage: Federate.Input, frequency: Federate.Input?)] = []
    private var started = false
    /// Simulated time (seconds since midnight of day 0) up to which HELICS has granted the physics.
    private(set) var grantedUntil: Double
    /// Wall-clock seconds each time request waited for its grant: the federation's cost per exchange.
    private(set) var grantWaits: [Double] = []

    init(_ settings: CosimSettings, fleet: Fleet, houses: [String], controlPeriod: Double) throws(RunError) {
        self.fleet = fleet
        period = settings.period ?? controlPeriod
        origin = fleet.time
        grantedUntil = fleet.time
        do {
            if let count = settings.startBroker {
                let parts = settings.broker.split(separator: ":")
                broker = try HelicsBroker(federates: count, host: String(parts[0]), port: UInt16(parts[1]) ?? 0)
            } else {
                broker = nil
            }
            let environment = ["GRIDRIG_HELICS_BROKER": settings.broker, "GRIDRIG_HOUSES": houses.joined(separator: ","),
                               "GRIDRIG_FEDERATE": settings.name]
            for command in settings.federates {
                processes.append(try ControllerProcess(role: "federate \(command[0])", command: command, environment: environment))
            }
            var federateSettings = FederateSettings(name: settings.name, broker: settings.broker)
            federateSettings.isUninterruptible = true  // the conductor sets the pace: granted exactly what it asks
            federate = try Federate(federateSettings)
            for place in houses + [Fleet.pcc] {
                powers.append((place, try federate.publish("\(settings.name)/\(place)/p", unit: "W"),
                               try federate.publish("\(settings.name)/\(place)/q", unit: "var")))
                grid.append((place, try federate.subscribe(CosimSettings.key(settings.voltage, house: place), unit: "V"),
                             try settings.frequency.map { template throws(HelicsError) in
                                 try federate.subscribe(CosimSettings.key(template, house: place), unit: "Hz")
                             }))
                fleet.setGrid(GridPoint(voltage: settings.nominalVoltage), at: place)  // until the federation says otherwise
            }
        } catch let error as RunError {
            for process in processes { process.stop(grace: .zero) }
            throw error
        } catch {
            for process in processes { process.stop(grace: .zero) }
            throw RunError(message: "co-simulation: \(error)" + (processes.lazy.compactMap(\.failure).first.map { "; \($0)" } ?? ""))
        }
    }

    /// The simulated time the conductor may step to before it must exchange again.
    func nextExchange(after time: Double) -> Double { started ? grantedUntil : time }

    /// Exchanges with the federation when one is due at `time` (the physics stands at `time`); else nothing.
    func exchange(at time: Double) throws(RunError) {
        guard time >= grantedUntil - 1e-6 else { return }
        do {
            if !started {
                try federate.enterExecution()
                started = true
            }
            let loads = fleet.loads(at: time)
            for power in powers {
                let isSite = power.place == Fleet.pcc
                try federate.set(power.active, isSite ? loads.site : loads.house[power.place] ?? 0)
                try federate.set(power.reactive, isSite ? loads.siteReactive : loads.houseReactive[power.place] ?? 0)
            }
            let asked = time + period - origin, began = ContinuousClock.now
            let granted = try federate.request(asked)
            grantWaits.append((ContinuousClock.now - began) / .seconds(1))
            guard abs(granted - asked) < 1e-6 else {
                throw RunError(message: "co-simulation: asked HELICS for \(asked) s and was granted \(granted) s"
                               + (granted >= 1e8 ? " (the federation has ended)" : ""))
            }
            grantedUntil = origin + granted
            for point in grid {
                guard let voltage = federate.value(point.voltage), voltage.isFinite, voltage > 0 else { continue }
                fleet.setGrid(GridPoint(voltage: voltage, frequency: point.frequency.flatMap(federate.value)), at: point.place)
            }
        } catch let error as RunError {
            throw error
        } catch {
            throw RunError(message: "co-simulation at \(time - origin) s: \(error)" + (processes.lazy.compactMap(\.failure).first.map { "; \($0)" } ?? ""))
        }
    }

    /// Leaves the federation, and stops the broker when this process started it.
    func finish() {
        federate.finish()
        for process in processes { process.stop() }
        broker?.stop()
    }
}
