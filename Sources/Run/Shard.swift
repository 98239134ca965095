public import Emulators
import Foundation
import Physics
import Helics
public import Logging
public import Rigs

/// One shard of a split run (`gridrig emulate RIG --shard K/N`, docs/COSIM.md): it serves its houses' devices at
/// the rig's ports and steps their physics as a HELICS federate. Each time the conductor publishes the end of a
/// control step, the shard steps to it, exactly as the run's own process would, and publishes its houses'
/// devices' power and its devices' series for the conductor to read once it is granted that time.
public final class Shard {
    public let number: Int
    public let fleet: Fleet
    private let federate: Federate
    private let origin: Double, physicsStep: Double
    private let step: Federate.Input
    private var loads: [(house: HouseID, active: Federate.Publication, reactive: Federate.Publication)] = []
    private var series: [(device: DeviceEmulator, publications: [Federate.Publication])] = []

    /// Serves shard `number` of the rig's `cosim.shards` and joins the federation; throws naming what is wrong.
    public init(rig: Rig, number: Int, count: Int, host: String, logger: Logger) throws(RunError) {
        guard let settings = rig.run.cosim else {
            throw RunError(message: "\(rig.name) has no cosim key: a shard is a HELICS federate of a split run (docs/COSIM.md)", isBadInput: true)
        }
        guard settings.shards == count, (1...count).contains(number) else {
            throw RunError(message: "--shard \(number)/\(count) does not fit the rig, which is split in \(settings.shards) (cosim: {helics: {shards: N}})",
                           isBadInput: true)
        }
        self.number = number
        let houses = settings.houses(ofShard: number, among: rig.houses)
        let specs = rig.devices.filter { $0.house.map(houses.contains) ?? false }
        origin = rig.start ?? 0
        physicsStep = min(10, rig.run.interval, rig.run.controlPeriod)
        try RunSession.reserveDescriptors(devices: specs.count, each: 2, for: "each of the shard's \(specs.count) devices (its listening socket and one client's connection)")
        do {
            fleet = try Fleet(specs, weather: rig.weather, baseLoads: rig.baseLoads.filter { houses.contains($0.key) }, startTime: origin, host: host,
                              faults: rig.faults.isEmpty ? nil : FaultPlan(rig.faults, seed: rig.seed),
                              gridEvents: rig.run.faults.gridEvents.filter { $0.house.map(houses.contains) ?? true }, logger: logger)
        } catch {
            throw RunError(message: "the emulators could not start: \(error)")
        }
        do {
            var federateSettings = FederateSettings(name: settings.shardName(number), broker: settings.broker)
            federateSettings.connectTimeout = 30  // a shard may start before the run that starts the broker
            // The broker may be on another host and must reach the shard back: at the address it serves on, or, serving on
            // every address, at the one the rig gives the shard.
            federateSettings.localInterface = ["0.0.0.0", "*", "::"].contains(host) ? settings.host(ofShard: number) : host
            federate = try Federate(federateSettings)
            step = try federate.subscribe(settings.stepKey, unit: "s")
            let name = settings.shardName(number)
            for house in houses {
                loads.append((house, try federate.publish("\(name)/\(house)/device-p", unit: "W"), try federate.publish("\(name)/\(house)/device-q", unit: "var")))
            }
            for device in fleet.devices {
                var publications: [Federate.Publication] = []
                for reading in PhysicsSeries.readings(of: device.emulator.profile) {
                    publications.append(try federate.publish("\(name)/\(device.emulator.name)/\(reading.rawValue)", unit: ""))
                }
                series.append((device.emulator, publications))
            }
            try federate.enterInitialization(timeout: 120)
            try publish()  // as the devices start: the conductor's first sample
            try federate.enterExecution()
        } catch {
            fleet.stop()
            throw RunError(message: "shard \(number): \(error)")
        }
    }

    private func publish() throws(HelicsError) {
        let devices = fleet.deviceLoads()
        for load in loads {
            try federate.set(load.active, devices[load.house]?.active ?? 0)
            try federate.set(load.reactive, devices[load.house]?.reactive ?? 0)
        }
        for (device, publications) in series {
            var index = 0, failure: HelicsError?
            PhysicsSeries.read(device) { _, value in
                do throws(HelicsError) { try federate.set(publications[index], value) } catch { failure = error }
                index += 1
            }
            if let failure { throw failure }
        }
    }

    /// Steps the physics as the conductor publishes steps, until the federation ends (or `shouldStop` holds
    /// between steps); `onStep` sees each simulated time reached.
    public func run(shouldStop: () -> Bool = { false }, onStep: (Double) -> Void = { _ in }) throws(RunError) {
        defer {
            federate.finish()
            fleet.stop()
        }
        do {
            while !shouldStop() {
                let granted = try federate.request(1e9)
                if granted >= 1e8 { return }  // the conductor left: the run is over
                guard let end = federate.value(step).map({ origin + $0 }), end > fleet.time + 1e-9 else { continue }
                while fleet.time < end - 1e-9 { fleet.step(for: min(physicsStep, end - fleet.time)) }
                try publish()
                onStep(fleet.time)
            }
        } catch {
            throw RunError(message: "shard \(number) at \(fleet.time - origin) s: \(error)")
        }
    }
}
