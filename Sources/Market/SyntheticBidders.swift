import Foundation
public import Physics

/// Seeded bids of synthetic households, for stress-testing a market without Modbus or physics (docs/STRESS.md).
/// Each household draws its devices once from the seed; each interval its bids are drawn by device kind and time
/// of day: base load bought at the cap, solar sold near zero by day, a battery buying cheap and selling dear, a
/// vehicle bought around the price mean while plugged in, a heat pump bought higher in the afternoon heat.
/// The same seed, household and interval always give the same bids. Prices and quantities are whole 1/10,000s, so
/// that their JSON text reads back as the very same numbers.
public struct SyntheticBidders: Sendable {
    public let seed: UInt64

    public init(seed: UInt64) { self.seed = seed }

    /// The name of household `index` (from 0) on the bus.
    public static func name(_ index: Int) -> HouseID { HouseID(checked: "s\(index + 1)") }

    /// The household `name` names (from 0); nil for a name that is not one of theirs.
    public static func index(of name: some StringProtocol) -> Int? {
        guard name.first == "s", let number = Int(name.dropFirst()), number >= 1, name == Self.name(number - 1).name else { return nil }
        return number - 1
    }

    /// The devices a household has, drawn once from the seed.
    public struct Devices: Sendable, Equatable {
        public var solar: Double?
        public var battery: Double?
        public var vehicle: (arrival: Double, departure: Double, power: Double)?
        public var heatPump: Double?
        public var baseLoad: Double

        public static func == (a: Devices, b: Devices) -> Bool {
            a.solar == b.solar && a.battery == b.battery && a.heatPump == b.heatPump && a.baseLoad == b.baseLoad
                && a.vehicle?.arrival == b.vehicle?.arrival && a.vehicle?.departure == b.vehicle?.departure && a.vehicle?.power == b.vehicle?.power
        }
    }

    public func devices(of index: Int) -> Devices {
        var random = SplitMix64(seed: seed ^ (UInt64(index) &* 0x9E37_79B9_7F4A_7C15))
        func uniform(_ range: ClosedRange<Double>) -> Double { Double.random(in: range, using: &random) }
        func has(_ share: Double) -> Bool { uniform(0...1) < share }
        return Devices(solar: has(0.35) ? uniform(3...10) : nil,
                       battery: has(0.2) ? uniform(2...5) : nil,
                       vehicle: has(0.45) ? (uniform(16...20) * 3600, uniform(30...33) * 3600, uniform(3.7...11)) : nil,
                       heatPump: has(0.6) ? uniform(1...3) : nil,
                       baseLoad: uniform(0.2...0.8))
    }

    /// Household `index`'s bids for the interval that opens `time` seconds after midnight and lasts `length` s;
    /// quantities in kWh, prices in $/kWh below `priceCap` (base load at the cap).
    public func bids(household index: Int, devices: Devices, interval: Int, time: Double, length: Double, priceCap: Double) -> [Bid] {
        var random = SplitMix64(seed: seed ^ (UInt64(index) &* 0x9E37_79B9_7F4A_7C15) ^ (UInt64(bitPattern: Int64(interval)) &* 0xC2B2_AE3D_27D4_EB4F))
        func uniform(_ range: ClosedRange<Double>) -> Double { Double.random(in: range, using: &random) }
        func ten000ths(_ value: Double) -> Double { (value * 10_000).rounded() / 10_000 }
        let hours = length / 3600, hour = (time.truncatingRemainder(dividingBy: 86_400) + 86_400).truncatingRemainder(dividingBy: 86_400) / 3600
        let name = Self.name(index).name
        let cap = ten000ths(priceCap)
        func price(_ value: Double) -> Double { min(max(ten000ths(value), 0.0001), cap - 0.0001) }
        var bids: [Bid] = []
        func add(_ device: String, _ side: Side, _ price: Double, _ power: Double) {
            let quantity = ten000ths(power * hours)
            if quantity > 0 { bids.append(Bid(id: name + device, side: side, price: price, quantity: quantity)) }
        }
        let evening = exp(-pow((hour - 19) / 2.5, 2)), sun = max(0, sin(Double.pi * (hour - 6) / 12))
        add("/load", .buy, cap, devices.baseLoad * (0.6 + 0.8 * evening) * uniform(0.9...1.1))
        if let peak = devices.solar, sun > 0 { add("/pv", .sell, price(uniform(0...0.02)), peak * sun * uniform(0.7...1)) }
        if let power = devices.battery {
            add("/battery", .buy, price(uniform(0.05...0.15)), power)
            add("/battery", .sell, price(uniform(0.25...0.4)), power)
        }
        if let vehicle = devices.vehicle {
            let seconds = hour * 3600, plugged = seconds >= vehicle.arrival || seconds + 86_400 < vehicle.departure
            if plugged { add("/ev", .buy, price(0.2 + 0.05 * random.normal()), vehicle.power) }
        }
        if let power = devices.heatPump {
            let afternoon = exp(-pow((hour - 15) / 3, 2))
            add("/hvac", .buy, price(0.2 + 0.1 * afternoon + 0.05 * random.normal()), power * uniform(0.5...1))
        }
        return bids
    }
}
