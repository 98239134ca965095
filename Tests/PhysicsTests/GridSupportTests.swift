import Physics
import Testing

@Suite("IEEE 1547 grid support: volt-var, volt-watt, must-trip and reconnection")
struct GridSupportTests {
    let standard = GridSupportSettings.standard

    /// Steady state after `seconds` at one voltage.
    func settle(_ settings: GridSupportSettings, at voltage: Double, for seconds: Double = 600, from state: GridSupportState = .init()) -> GridSupportState {
        var state = state
        for _ in 0..<Int(seconds) { state = GridSupport.step(state, settings: settings, voltage: voltage, for: 1) }
        return state
    }

    @Test("A curve passes through its points, interpolates between them, holds flat beyond its ends, and must rise in x")
    func curve() throws {
        let curve = try #require(standard.voltVar)
        for point in curve.points { #expect(curve.value(at: point.x) == point.y) }
        #expect(abs(curve.value(at: 1.05) - -0.22) < 1e-12)  // halfway from (1.02, 0) to (1.08, -0.44)
        #expect(curve.value(at: 0.5) == 0.44 && curve.value(at: 1.5) == -0.44)
        #expect(curve.isValid)
        #expect(!Curve([(1.0, 0), (1.0, 1)]).isValid && !Curve([(1.1, 0), (1.0, 1)]).isValid && !Curve([]).isValid)
    }

    @Test("Volt-var injects reactive power below the dead band and absorbs above it, in proportion, and nothing within it",
          arguments: [(0.90, 0.44), (0.95, 0.22), (1.00, 0.0), (1.05, -0.22), (1.10, -0.44)])
    func voltVar(voltage: Double, expected: Double) {
        #expect(abs(settle(standard, at: voltage).reactive - expected) < 1e-9)
    }

    @Test("Volt-watt caps active power from 106 % down to nothing at 110 %, and not at all below",
          arguments: [(1.00, 1.0), (1.06, 1.0), (1.08, 0.5), (1.10, 0.0), (1.15, 0.0)])
    func voltWatt(voltage: Double, expected: Double) {
        var settings = standard
        settings.trips = []  // at 110 % and above the inverter would trip first
        #expect(abs(settle(settings, at: voltage).powerCeiling - expected) < 1e-9)
    }

    @Test("Each function reaches 90 % of a step change in its open-loop response time, not before")
    func responseTime() {
        var settings = standard
        settings.trips = []
        settings.voltWattResponse = 20
        var state = GridSupportState()
        for _ in 0..<19 { state = GridSupport.step(state, settings: settings, voltage: 1.08, for: 1) }
        #expect(state.powerCeiling > 1 - 0.9 * 0.5)  // not yet 90 % of the way from 1 to 0.5
        state = GridSupport.step(state, settings: settings, voltage: 1.08, for: 1)
        #expect(abs(state.powerCeiling - (1 - 0.9 * 0.5)) < 1e-9)
    }

    @Test("Over-voltage trips once it has lasted the clearing time, not before; a dip that ends first does not trip")
    func tripTiming() {
        var state = GridSupportState()
        state = GridSupport.step(state, settings: standard, voltage: 1.12, for: 1.9)
        #expect(!state.isTripped)
        state = GridSupport.step(state, settings: standard, voltage: 1.05, for: 1)  // the violation ends: the timer restarts
        state = GridSupport.step(state, settings: standard, voltage: 1.12, for: 1.9)
        #expect(!state.isTripped)
        state = GridSupport.step(state, settings: standard, voltage: 1.12, for: 0.1)
        #expect(state.isTripped && state.trips == 1)
        #expect(GridSupport.step(.init(), settings: standard, voltage: 1.25, for: 0.16).isTripped)  // the fast setting
        #expect(GridSupport.step(.init(), settings: standard, voltage: 0.40, for: 0.16).isTripped)  // under-voltage
        #expect(!GridSupport.step(.init(), settings: standard, voltage: 0.80, for: 9).isTripped)
    }

    @Test("A tripped inverter returns only after the voltage has been in band for the whole reconnection delay, and counts each trip")
    func reconnection() {
        var state = GridSupport.step(.init(), settings: standard, voltage: 1.15, for: 2)
        #expect(state.isTripped && state.reactive == 0)
        state = settle(standard, at: 1.04, for: 299, from: state)
        #expect(state.isTripped)
        state = GridSupport.step(state, settings: standard, voltage: 1.07, for: 1)  // out of band: the delay starts again
        state = settle(standard, at: 1.04, for: 299, from: state)
        #expect(state.isTripped)
        state = settle(standard, at: 1.04, for: 1, from: state)
        #expect(!state.isTripped)
        state = GridSupport.step(state, settings: standard, voltage: 1.15, for: 2)
        #expect(state.isTripped && state.trips == 2)
    }

    @Test("With every function off, nothing happens at any voltage")
    func off() {
        let none = GridSupportSettings()
        for voltage in stride(from: 0.3, through: 1.3, by: 0.05) {
            let state = settle(none, at: voltage, for: 30)
            #expect(state.reactive == 0 && state.powerCeiling == 1 && !state.isTripped)
        }
    }
}
