import Rigs
import Testing
@testable import Verdict

@Suite("The assertions' list")
struct AssertionKindTests {
    @Test("Each assertion has a name of its own, found again by that name, and thresholds with keys of their own")
    func namesAndThresholds() {
        let kinds = AssertionSpec.Kind.allCases
        #expect(Set(kinds.map(\.name)).count == kinds.count)
        for kind in kinds {
            #expect(AssertionSpec.Kind(name: kind.name) == kind)
            #expect(Set(kind.thresholds.map(\.key)).count == kind.thresholds.count, "\(kind)")
            #expect(kind.thresholds.allSatisfy { $0.defaultValue >= 0 }, "\(kind)")
            #expect(AssertionSpec(kind).assertion != nil, "\(kind) is listed but the verdict cannot make it")
        }
        #expect(AssertionSpec.Kind(name: "speed-of-light") == nil)
    }

    @Test("A spec holds the rig's thresholds and the defaults of the others")
    func thresholds() throws {
        let balance = AssertionSpec(.balance, thresholds: ["max-deviation": 5])
        #expect(balance.thresholds == ["max-deviation": 5, "tolerance": 1])
        let voltage = AssertionSpec(.voltageRange)
        #expect(voltage.thresholds == ["low": 95, "high": 105])
        #expect(AssertionSpec(.devicesFollowAwards).thresholds == ["ev": 10, "battery": 10, "thermostat": 35, "solar": 40])
        #expect(AssertionSpec(.supplyEqualsDemand).thresholds.isEmpty)
    }

    @Test("A rig's defaults are every assertion but self-consumption and the feeder's two, in the list's order")
    func defaults() {
        let excluded: [AssertionSpec.Kind] = [.selfConsumption, .voltageRange, .inverterTrips]
        #expect(AssertionSpec.defaults.map(\.kind) == AssertionSpec.Kind.allCases.filter { !excluded.contains($0) })
        #expect(AssertionSpec.defaults.count == 19)
    }
}
