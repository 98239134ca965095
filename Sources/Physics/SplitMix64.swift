import Foundation  // log, cos

/// A seeded generator (SplitMix64): the same seed gives the same noise on every machine.
public struct SplitMix64: RandomNumberGenerator, Sendable, Equatable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    /// A generator for one named thing under a run's seed: seeded from the seed and the FNV-1a hash of the name,
    /// which, unlike Swift's hashing, is the same in every process.
    public init(seed: UInt64, name: String) {
        self.init(seed: seed ^ name.utf8.reduce(UInt64(0xCBF2_9CE4_8422_2325)) { ($0 ^ UInt64($1)) &* 0x100_0000_01B3 })
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A uniform number in -1...1.
    public mutating func symmetric() -> Double { Double.random(in: -1...1, using: &self) }

    /// A standard normal number (Box–Muller).
    public mutating func normal() -> Double {
        let u = max(Double.random(in: 0..<1, using: &self), .leastNormalMagnitude), v = Double.random(in: 0..<1, using: &self)
        return (-2 * log(u)).squareRoot() * cos(2 * .pi * v)
    }
}
