import Emulators
@testable import Files
import Logging
import Physics
import TestSupport
import Testing

@Suite("The fleet on an island")
struct FleetTests {
    @Test("On an island the PV backs off to what a full grid-forming battery and the loads can take (frequency-watt)")
    func frequencyWatt() throws {
        let inverter = try ProfileLoader.load(file: "\(repository)/Profiles/sunspec-inverter.yaml")
        let storage = try ProfileLoader.load(file: "\(repository)/Profiles/sunspec-battery.yaml")
        var battery = DeviceSpec(id: DeviceID(house: "h1", name: "battery"), house: "h1", profile: storage, parameters: DeviceParameters(initialSoC: 100), port: 0)
        battery.isGridForming = true
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let fleet = try Fleet([DeviceSpec(id: DeviceID(house: "h1", name: "pv"), house: "h1", profile: inverter, port: 0), battery], weather: .clear(),
                              baseLoads: ["h1": BaseLoad(mean: 400)], startTime: 12 * 3600, logger: logger)
        defer { fleet.stop() }
        for _ in 0..<60 { fleet.step(for: 10) }
        let pv = fleet.devices[0].emulator, former = fleet.devices[1].emulator
        let sun = try #require(pv.reading(.availablePower)), produced = -pv.netLoad
        #expect(sun > 3000, "the midday sun offers \(sun) W")
        #expect(produced < sun / 2, "the PV produced \(produced) W of \(sun) W with nowhere for it to go")
        #expect((former.reading(.batteryPower) ?? -1) > -50, "the full battery took no charge")
    }
}
