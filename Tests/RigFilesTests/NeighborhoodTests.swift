import Emulators
@testable import Files
import Foundation
import Market
import Physics
@testable import RigFiles
@testable import Rigs
import TestSupport
import Testing

/// The default rig (4 houses) with `extra` YAML appended, loaded.
private func neighborhood(_ extra: String, seed: UInt64? = nil) throws -> Rig {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("rig-\(UUID().uuidString).yaml").path
    let text = try String(contentsOfFile: "\(repository)/Rigs/neighborhood.yaml", encoding: .utf8) + extra
    _ = FileManager.default.createFile(atPath: path, contents: Data(text.utf8))
    defer { try? FileManager.default.removeItem(atPath: path) }
    return try RigLoader.load(file: path, profiles: "\(repository)/Profiles", seed: seed)
}

@Suite("Generated neighborhoods: a rig's houses repeated with seeded variation")
struct NeighborhoodTests {
    @Test("1,000 houses from the default rig's four: named after their template, every device on a port of its own, the listed houses unchanged")
    func thousand() throws {
        let plain = try neighborhood(""), grown = try neighborhood("neighborhood: {houses: 1000}\n")
        let houses = Set(grown.devices.compactMap(\.house))
        #expect(houses.count == 1000)
        #expect(grown.baseLoads.count == 1000)
        #expect(houses.contains("h2-250") && houses.contains("h4-2") && !houses.contains("h1-251"))
        #expect(grown.devices.count == 1 + (plain.devices.count - 1) * 250, "every copy has its template's devices, and one PCC meter")
        #expect(Set(grown.devices.map(\.port)).count == grown.devices.count)
        #expect(Set(grown.devices.map(\.parameters.seed)).count == grown.devices.count, "each device its own noise")
        for device in plain.devices {
            let same = try #require(grown.devices.first { $0.name == device.name })
            #expect(same.parameters == device.parameters)
            #expect(same.profile.ratings == device.profile.ratings)
        }
        #expect(grown.run.comfort.count == 250 * plain.run.comfort.count)
        #expect(grown.run.grid?.importLimit == 250 * plain.run.grid!.importLimit, "the grid connection grows with the houses")
        #expect(grown.run.grid?.exportLimit == 250 * plain.run.grid!.exportLimit)
    }

    @Test("Copies vary within the stated spread, the same seed gives the same neighborhood, another seed another")
    func variation() throws {
        let plain = try neighborhood("")
        let one = try neighborhood("neighborhood: {houses: 400, variation: 0.2}\n"), again = try neighborhood("neighborhood: {houses: 400, variation: 0.2}\n")
        let other = try neighborhood("neighborhood: {houses: 400, variation: 0.2}\n", seed: 99)
        #expect(one.devices.map(\.parameters) == again.devices.map(\.parameters))
        #expect(one.baseLoads == again.baseLoads)
        #expect(one.devices.map(\.parameters.vehicle) != other.devices.map(\.parameters.vehicle))
        for device in one.devices {
            guard let house = device.house, let prefix = house.name.split(separator: "-").first, case let template = try HouseID(parsing: prefix),
                  house != template else { continue }
            let original = try #require(plain.devices.first { $0.id == DeviceID(house: template, name: device.id.name) })
            let load = one.baseLoads[house]!.mean, templateLoad = plain.baseLoads[template]!.mean
            #expect(abs(load / templateLoad - 1) <= 0.2 + 1e-9)
            if let peak = device.profile.ratings[.arrayPeakPower], let base = original.profile.ratings[.arrayPeakPower] {
                #expect(abs(peak / base - 1) <= 0.2 + 1e-9)
            }
            if let soc = device.parameters.initialSoC, let base = original.parameters.initialSoC { #expect(abs(soc - base) <= 20 + 1e-9) }
            if let room = device.parameters.roomTemperature, let base = original.parameters.roomTemperature { #expect(abs(room - base) <= 1 + 1e-9) }
            if let vehicle = device.parameters.vehicle, let base = original.parameters.vehicle {
                #expect(abs(vehicle.arrival - base.arrival) <= 0.2 * 6 * 3600 + 1e-6)
                #expect(vehicle.departure >= vehicle.arrival + 3600)
                #expect(vehicle.initialSoC <= vehicle.targetSoC)
            }
        }
        let loads = one.baseLoads.filter { $0.key.name.contains("-") }.map(\.value.mean)
        #expect(Set(loads).count > loads.count / 2, "copies differ from one another")
    }

    @Test("Fewer houses than the rig lists keep the first ones; bad values are refused with their line")
    func trimmingAndErrors() throws {
        let two = try neighborhood("neighborhood: {houses: 2}\n")
        #expect(Set(two.devices.compactMap(\.house)) == ["h1", "h2"])
        #expect(two.baseLoads.keys.sorted() == ["h1", "h2"])
        for (extra, message) in [("neighborhood: {houses: 0}\n", "neighborhood.houses"), ("neighborhood: {variation: 0.1}\n", "missing key 'houses'"),
                                 ("neighborhood: {houses: 10, variation: 0.9}\n", "0...0.5"), ("neighborhood: {houses: 10, spread: 1}\n", "spread")] {
            do {
                _ = try neighborhood(extra)
                Issue.record("loaded \(extra)")
            } catch let error as FileError {
                #expect(error.description.contains(message), "\(error)")
                #expect(error.line > 0)
            } catch {
                Issue.record("\(error)")
            }
        }
    }
}
