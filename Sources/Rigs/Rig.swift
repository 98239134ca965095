public import Emulators
public import Physics

/// The devices of a rig: what `gridrig emulate Rigs/<rig>.yaml` serves (format: docs/RIGS.md).
public struct Rig: Sendable {
    public var name: String
    public var seed: UInt64
    /// Simulated seconds since midnight of day 0 at which the rig starts; nil leaves it to the caller.
    public var start: Double?
    public var weather: DayCurve
    public var baseLoads: [HouseID: BaseLoad]
    public var devices: [DeviceSpec]
    /// How `gridrig run` runs it.
    public var run = RunSettings()
    /// Scheduled faults of its devices (docs/FAULTS.md), drawn from `seed`.
    public var faults: [DeviceFault] = []

    package init(name: String, seed: UInt64, start: Double?, weather: DayCurve, baseLoads: [HouseID: BaseLoad], devices: [DeviceSpec]) {
        (self.name, self.seed, self.start, self.weather, self.baseLoads, self.devices) = (name, seed, start, weather, baseLoads, devices)
    }

    /// The houses that have devices, in the order the rig lists them.
    public var houses: [HouseID] {
        var seen: Set<HouseID> = []
        return devices.compactMap(\.house).filter { seen.insert($0).inserted }
    }
}
