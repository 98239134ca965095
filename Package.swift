// swift-tools-version:6.0
import PackageDescription

/// Every target: Swift 6 mode, and every `public import` is a decision (STYLE.md).
let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "GridRig",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "gridrig", targets: ["gridrig"]),
        .library(name: "Modbus", targets: ["Modbus"]),
        .library(name: "Physics", targets: ["Physics"]),
        .library(name: "Market", targets: ["Market"]),
        .library(name: "Bus", targets: ["Bus"]),
        .library(name: "Messages", targets: ["Messages"]),
        .library(name: "Agents", targets: ["Agents"]),
        .library(name: "Emulators", targets: ["Emulators"]),
        .library(name: "Harness", targets: ["Harness"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    ],
    targets: [
        // floor 0: the C libraries, found through pkg-config
        .systemLibrary(name: "CModbus", pkgConfig: "libmodbus", providers: [.apt(["libmodbus-dev"])]),
        // libzmq's pkg-config flags name krb5 include paths SwiftPM refuses; the header and library are in the default paths.
        .systemLibrary(name: "CZMQ", providers: [.apt(["libzmq3-dev"])]),
        .systemLibrary(name: "CEpoll"),
        // floor 1: pure logic
        .target(name: "Physics", swiftSettings: strict),
        .target(name: "Market", swiftSettings: strict),
        .target(name: "Messages", swiftSettings: strict),
        // floor 2: I/O over the C libraries
        .target(name: "Modbus", dependencies: ["CModbus", "CEpoll", .product(name: "Logging", package: "swift-log")],
                swiftSettings: strict),
        .target(name: "Bus", dependencies: ["CZMQ"], swiftSettings: strict),
        // floor 3
        .target(name: "Emulators", dependencies: ["Physics", "Modbus", .product(name: "Logging", package: "swift-log")],
                swiftSettings: strict),
        .target(name: "Agents", dependencies: ["Market", "Messages", "Modbus", "Bus", .product(name: "Logging", package: "swift-log")],
                swiftSettings: strict),
        // floor 4
        .target(name: "Harness", dependencies: ["Emulators", "Agents", "Physics", "Market", "Messages", "Modbus", "Bus", "Yams",
                                                .product(name: "Logging", package: "swift-log")],
                swiftSettings: strict),
        // floor 5
        .executableTarget(name: "gridrig", dependencies: ["Harness", "Emulators", "Market", "Agents", "Bus", "Modbus",
                                                          .product(name: "ArgumentParser", package: "swift-argument-parser"),
                                                          .product(name: "Logging", package: "swift-log")],
                          swiftSettings: strict),
        .testTarget(name: "ModbusTests", dependencies: ["Modbus"], swiftSettings: strict),
        .testTarget(name: "BusTests", dependencies: ["Bus"], swiftSettings: strict),
        .testTarget(name: "MessagesTests", dependencies: ["Messages"], swiftSettings: strict),
        .testTarget(name: "PhysicsTests", dependencies: ["Physics"], swiftSettings: strict),
        .testTarget(name: "MarketTests", dependencies: ["Market", "Physics"], swiftSettings: strict),
        .testTarget(name: "EmulatorsTests", dependencies: ["Emulators", "Physics", "Modbus"], swiftSettings: strict),
        .testTarget(name: "HarnessTests", dependencies: ["Harness", "Emulators", "Market", "Modbus", "Messages", "Bus", "Physics"],
                    swiftSettings: strict),
        .testTarget(name: "ControllerTests", dependencies: ["Harness", "Agents", "Bus", "Messages", "Emulators", "Market", "Modbus",
                                                           "Physics", .product(name: "Logging", package: "swift-log")],
                    swiftSettings: strict),
        .testTarget(name: "PeerTests", dependencies: ["Harness", "Emulators", "Physics", "Modbus"],
                    exclude: ["peers"], swiftSettings: strict),
    ]
)
