// swift-tools-version:6.0
// Benchmarks live in their own package so `make test` never builds them.
import PackageDescription

let package = Package(
    name: "GridRigBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [.package(name: "GridRig", path: ".."), .package(url: "https://github.com/apple/swift-log", from: "1.16.2")],
    targets: [
        .executableTarget(name: "ModbusBench", dependencies: [.product(name: "Modbus", package: "GridRig")]),
        .executableTarget(name: "MarketBench", dependencies: [.product(name: "Market", package: "GridRig"), "ClearFloor"]),
        .target(name: "ClearFloor"),
        .executableTarget(name: "CosimBench", dependencies: [.product(name: "Helics", package: "GridRig")]),
        .executableTarget(name: "BusBench", dependencies: [
            .product(name: "Agents", package: "GridRig"), .product(name: "Bus", package: "GridRig"),
            .product(name: "Emulators", package: "GridRig"), .product(name: "RigFiles", package: "GridRig"), .product(name: "Rigs", package: "GridRig"),
            .product(name: "Run", package: "GridRig"),
            .product(name: "Messages", package: "GridRig"), .product(name: "Modbus", package: "GridRig"), .product(name: "Physics", package: "GridRig"),
            .product(name: "Logging", package: "swift-log"),
        ]),
    ]
)
