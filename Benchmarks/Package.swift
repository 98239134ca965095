// swift-tools-version:6.0
// Benchmarks live in their own package so `make test` never builds them.
import PackageDescription

let package = Package(
    name: "GridRigBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [.package(name: "GridRig", path: "..")],
    targets: [
        .executableTarget(name: "ModbusBench", dependencies: [.product(name: "Modbus", package: "GridRig")]),
        .executableTarget(name: "MarketBench", dependencies: [.product(name: "Market", package: "GridRig")]),
    ]
)
