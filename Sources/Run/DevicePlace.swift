public import Emulators

/// Where a device is served: what `gridrig emulate` and `gridrig run` print, and a run writes as devices.txt, so
/// that a bench engineer knows where to point a Modbus client.
public struct DevicePlace: Sendable, Equatable {
    public let device: String
    public let kind: DeviceKind
    public let profile: String
    public let host: String
    public let port: UInt16
    public let units: [UInt8]

    public init(_ spec: DeviceSpec, host: String, port: UInt16) {
        (device, kind, profile, units) = (spec.name, spec.profile.kind, spec.profile.name, spec.units)
        (self.host, self.port) = (host, port)
    }

    public init(_ served: ServedDevice) {
        (device, kind, profile, units) = (served.emulator.name, served.emulator.profile.kind, served.emulator.profile.name, served.units)
        (host, port) = (served.host, served.port)
    }
}
