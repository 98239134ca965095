// swift-tools-version:6.2
import Foundation
import PackageDescription

/// HELICS is optional (docs/COSIM.md): the Helics target links libhelics only where its pkg-config file is, as
/// `make deps` writes it. Elsewhere everything else builds, and co-simulation says it is not built in.
/// GRIDRIG_HELICS=0 builds without it all the same.
let pkgConfigFolders = (ProcessInfo.processInfo.environment["PKG_CONFIG_PATH"]?.split(separator: ":").map(String.init) ?? [])
    + ["/usr/local/lib/pkgconfig", "/usr/local/lib/x86_64-linux-gnu/pkgconfig", "/usr/lib/pkgconfig", "/usr/lib/x86_64-linux-gnu/pkgconfig"]
let hasHelics = ProcessInfo.processInfo.environment["GRIDRIG_HELICS"] != "0"
    && pkgConfigFolders.contains { FileManager.default.fileExists(atPath: $0 + "/helics.pc") }

/// Every target: Swift 6 mode, and every `public import` is a decision (STYLE.md). In CI (CI=true) a warning is an
/// error, so that none lands.
let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
] + (ProcessInfo.processInfo.environment["CI"] == "true" ? [.treatAllWarnings(as: .error)] : [])

let package = Package(
    name: "GridRig",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "gridrig", targets: ["gridrig"]),
        .library(name: "Modbus", targets: ["Modbus"]),
        .library(name: "Physics", targets: ["Physics"]),
        .library(name: "Market", targets: ["Market"]),
        .library(name: "Bus", targets: ["Bus"]),
        .library(name: "Helics", targets: ["Helics"]),
        .library(name: "Messages", targets: ["Messages"]),
        .library(name: "Agents", targets: ["Agents"]),
        .library(name: "Emulators", targets: ["Emulators"]),
        .library(name: "Files", targets: ["Files"]),
        .library(name: "Rigs", targets: ["Rigs"]),
        .library(name: "Run", targets: ["Run"]),
        .library(name: "Verdict", targets: ["Verdict"]),
        .library(name: "RigFiles", targets: ["RigFiles"]),
        .library(name: "Reports", targets: ["Reports"]),
        .library(name: "Stress", targets: ["Stress"]),
        .library(name: "Conformance", targets: ["Conformance"]),
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
        // HELICS's C library, from the helics wheel through the pkg-config file `make deps` writes.
        .systemLibrary(name: "CHelics", pkgConfig: "helics"),
        // floor 1: pure logic
        .target(name: "Physics", swiftSettings: strict),
        .target(name: "Market", dependencies: ["Physics"], swiftSettings: strict),
        .target(name: "Messages", dependencies: ["Physics"], swiftSettings: strict),
        // floor 2: I/O over the C libraries
        .target(name: "Modbus", dependencies: ["CModbus", "CEpoll", .product(name: "Logging", package: "swift-log")],
                swiftSettings: strict),
        .target(name: "Bus", dependencies: ["CZMQ"], swiftSettings: strict),
        .target(name: "Helics", dependencies: hasHelics ? ["CHelics"] : [], swiftSettings: strict),
        // floor 3
        .target(name: "Emulators", dependencies: ["Physics", "Modbus", .product(name: "Logging", package: "swift-log")],
                swiftSettings: strict),
        .target(name: "Agents", dependencies: ["Physics", "Market", "Messages", "Modbus", "Bus", .product(name: "Logging", package: "swift-log")],
                swiftSettings: strict),
        // floor 4: the harness, one job a target, each above the ones it names.
        // Files: the formats a rig refers to (profiles, weather, replays, bid files, bus keys), read into types.
        .target(name: "Files", dependencies: ["Emulators", "Agents", "Physics", "Market", "Messages", "Modbus", "Bus", "Yams"],
                swiftSettings: strict),
        // Rigs: what a rig is (devices, run settings, faults), as the run, the verdict and the reports read it.
        .target(name: "Rigs", dependencies: ["Files", "Emulators", "Agents", "Physics", "Market", "Messages", "Bus"], swiftSettings: strict),
        // Run: a rig run (session, conductor, controllers, shards, co-simulation), left behind as a run record.
        .target(name: "Run", dependencies: ["Rigs", "Files", "Emulators", "Agents", "Physics", "Market", "Messages", "Modbus", "Bus", "Helics",
                                            .product(name: "Logging", package: "swift-log")],
                swiftSettings: strict),
        // Verdict: the run view and the assertions, with their one registry.
        .target(name: "Verdict", dependencies: ["Run", "Rigs", "Files", "Emulators", "Agents", "Physics", "Market", "Messages", "Modbus", "Bus"],
                swiftSettings: strict),
        // RigFiles: rig, fault and claims files read into a rig; above Verdict, whose assertions a rig names.
        .target(name: "RigFiles", dependencies: ["Verdict", "Rigs", "Files", "Emulators", "Agents", "Physics", "Market", "Messages", "Modbus"],
                swiftSettings: strict),
        // Reports: a run's tables, JSON, JUnit XML and HTML.
        .target(name: "Reports", dependencies: ["Verdict", "Run", "Rigs", "Files", "Emulators", "Physics", "Market", "Messages", "Modbus", "Bus"],
                swiftSettings: strict),
        // floor 5: built on runs, verdicts and reports
        .target(name: "Stress", dependencies: ["Reports", "Verdict", "Run", "Rigs", "Agents", "Market", "Messages", "Physics", "Bus",
                                               .product(name: "Logging", package: "swift-log")],
                swiftSettings: strict),
        .target(name: "Conformance", dependencies: ["Reports", "Verdict", "RigFiles", "Run", "Rigs", "Files", "Emulators", "Messages", "Physics", "Modbus",
                                                    .product(name: "Logging", package: "swift-log")],
                swiftSettings: strict),
        // floor 6
        .executableTarget(name: "gridrig", dependencies: ["Conformance", "Stress", "Reports", "RigFiles", "Verdict", "Run", "Rigs", "Files",
                                                          "Emulators", "Market", "Messages", "Agents", "Bus", "Modbus", "Helics",
                                                          .product(name: "ArgumentParser", package: "swift-argument-parser"),
                                                          .product(name: "Logging", package: "swift-log")],
                          swiftSettings: strict),
        // What several test targets share: threads for tests that block, free ports, the repository and its profiles.
        .target(name: "TestSupport", dependencies: ["Files", "Emulators"], path: "Tests/TestSupport", swiftSettings: strict),
        .testTarget(name: "ModbusTests", dependencies: ["Modbus"], swiftSettings: strict),
        .testTarget(name: "BusTests", dependencies: ["Bus"], swiftSettings: strict),
        .testTarget(name: "MessagesTests", dependencies: ["Messages", "Physics"], swiftSettings: strict),
        .testTarget(name: "PhysicsTests", dependencies: ["Physics"], swiftSettings: strict),
        .testTarget(name: "MarketTests", dependencies: ["Market", "Physics"], swiftSettings: strict),
        // Profiles load through Files, which the emulators' tests use without any other harness target.
        .testTarget(name: "EmulatorsTests", dependencies: ["Emulators", "Files", "Physics", "Modbus", "TestSupport",
                                                          .product(name: "Logging", package: "swift-log")],
                    swiftSettings: strict),
        .testTarget(name: "AgentsTests", dependencies: ["Agents", "Market", "Messages", "Modbus", "Physics", .product(name: "Logging", package: "swift-log")],
                    swiftSettings: strict),
        .testTarget(name: "HelicsTests", dependencies: ["Helics", "TestSupport"], swiftSettings: strict),
        .testTarget(name: "FilesTests", dependencies: ["Files", "Emulators", "Market", "Modbus", "TestSupport"], swiftSettings: strict),
        .testTarget(name: "RigFilesTests", dependencies: ["RigFiles", "Rigs", "Files", "Verdict", "Conformance", "Emulators", "Market", "Messages",
                                                         "Physics", "TestSupport"],
                    swiftSettings: strict),
        .testTarget(name: "VerdictTests", dependencies: ["Verdict", "Run", "Rigs", "RigFiles", "Reports", "Emulators", "Market", "Modbus", "Messages",
                                                        "Bus", "Physics", "TestSupport"],
                    swiftSettings: strict),
        .testTarget(name: "ControllerTests", dependencies: ["Files", "Rigs", "Run", "Verdict", "RigFiles", "Reports", "Stress", "Conformance",
                                                           "Agents", "Bus", "Helics", "Messages", "Emulators", "Market", "Modbus",
                                                           "Physics", "TestSupport", .product(name: "Logging", package: "swift-log")],
                    swiftSettings: strict),
        .testTarget(name: "PeerTests", dependencies: ["Files", "Rigs", "RigFiles", "Emulators", "Physics", "Modbus", "TestSupport"],
                    exclude: ["peers"], swiftSettings: strict),
    ]
)
