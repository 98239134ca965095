import Emulators
public import Files
public import Run

extension DevicePlace {
    /// One row per device and unit id.
    public static func table(_ places: [DevicePlace]) -> TextTable {
        var table = TextTable(header: ["device", "kind", "profile", "address", "unit"])
        for place in places {
            for unit in place.units { table.append([place.device, place.kind.rawValue, place.profile, "\(place.host):\(place.port)", "\(unit)"]) }
        }
        return table
    }
}
