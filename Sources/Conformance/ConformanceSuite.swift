import Emulators
public import Files
import Foundation
public import RigFiles
public import Rigs
import Verdict

/// One requirement of the kit (docs/CONFORMANCE.md): judged by its assertions, for one role.
public struct Requirement: Sendable, Equatable {
    public var id: String
    public var role: ConformanceRole
    public var mandatory: Bool
    public var statement: String
    public var assertions: [AssertionSpec.Kind]

    /// An entry of a suite's `requirements:`, every key required.
    static let keys: [FileKey<Requirement>] = [
        FileKey.text("id", \.id, "the requirement's id, as certificates name it").required,
        FileKey("role", "household or market") { value, requirement throws(FileError) in requirement.role = try value.choice(ConformanceRole.self) }.required,
        FileKey("mandatory", "whether failing it fails the certificate") { value, requirement throws(FileError) in
            requirement.mandatory = try value.bool()
        }.required,
        FileKey.text("statement", \.statement, "what it requires, in a sentence").required,
        FileKey("assertions", "the assertions that judge it") { value, requirement throws(FileError) in
            for kind in try value.list() { requirement.assertions.append(try kind.choice(among: AssertionSpec.Kind.allCases, named: \.name)) }
        }.required,
    ]
}

extension ClaimFunction {
    /// An entry of a suite's `functions:`; `requirements` are the ids it may name (nil: any).
    static func keys(judgedBy requirements: [String]?) -> [FileKey<ClaimFunction>] { [
        FileKey.text("id", \.id, "the function's id, as claims files name it").required,
        FileKey("kinds", "the device kinds it acts on; none: every kind") { value, function throws(FileError) in
            for kind in try value.list() { function.kinds.append(try kind.choice(DeviceKind.self)) }
        },
        FileKey.text("statement", \.statement, "what it does, in a sentence").required,
        FileKey("requirements", "the household requirements that judge it") { value, function throws(FileError) in
            for item in try value.list() {
                let requirement = try item.string()
                if let requirements, !requirements.contains(requirement) {
                    throw item.expected("a household requirement (\(requirements.joined(separator: ", ")))")
                }
                function.requirements.append(requirement)
            }
        }.required,
    ] }
}

/// The role a controller under test plays.
public enum ConformanceRole: String, Sendable, CaseIterable {
    case household, market
}

/// A role's suite: its requirements and its cases (rigs), read from a folder such as `Conformance/`:
/// `requirements.yaml`, and one rig per case in `<role>/`.
public struct ConformanceSuite: Sendable {
    public struct Case: Sendable {
        public var name: String
        public var file: String
        /// SHA-256 of the case file as it is, hex: what a certificate names.
        public var sha256: String
    }

    public let role: ConformanceRole
    public let version: Int
    public let requirements: [Requirement]
    /// What a household firmware may claim to do (docs/CONFORMANCE.md, "Claims").
    public let functions: [ClaimFunction]
    public let cases: [Case]
    /// The folder the suite was read from.
    public let folder: String

    /// Reads the suite; `only` keeps the cases of those names (every one when empty).
    public static func load(folder: String, role: ConformanceRole, only: [String] = []) throws(FileError) -> ConformanceSuite {
        let file = "\(folder)/requirements.yaml"
        let root = try YAMLValue.load(file: file).read(SuiteEntry.keys(role: role), from: SuiteEntry())
        let requirements = root.requirements
        let caseFolder = "\(folder)/\(role.rawValue)"
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: caseFolder)) ?? []).filter { $0.hasSuffix(".yaml") }.sorted()
        var cases: [Case] = []
        for name in names {
            let path = "\(caseFolder)/\(name)"
            guard let data = FileManager.default.contents(atPath: path) else { throw FileError(file: path, line: 0, column: 0, path: "", message: "cannot read the case") }
            cases.append(Case(name: String(name.dropLast(5)), file: path, sha256: SHA256.hex(Array(data))))
        }
        if !only.isEmpty {
            let unknown = only.filter { name in !cases.contains { $0.name == name } }
            guard unknown.isEmpty else {
                throw FileError(file: caseFolder, line: 0, column: 0, path: "", message: "no case named \(unknown.joined(separator: ", ")); the cases are \(cases.map(\.name).joined(separator: ", "))")
            }
            cases = cases.filter { only.contains($0.name) }
        }
        guard !cases.isEmpty else { throw FileError(file: caseFolder, line: 0, column: 0, path: "", message: "no cases (rig files) for the \(role.rawValue) role") }
        guard !requirements.isEmpty else { throw FileError(file: file, line: 0, column: 0, path: "", message: "no requirements for the \(role.rawValue) role") }
        return ConformanceSuite(role: role, version: root.version, requirements: requirements, functions: root.functions, cases: cases, folder: folder)
    }
}

/// A suite's `requirements.yaml` as the role under test reads it: that role's requirements, and the functions a
/// household may claim. The functions come after the requirements, which they name.
struct SuiteEntry {
    var version = 1
    var requirements: [Requirement] = []
    var functions: [ClaimFunction] = []

    static func keys(role: ConformanceRole) -> [FileKey<SuiteEntry>] { [
        .integer("version", \.version, in: 1...Int.max, "the suite's version, which certificates name"),
        FileKey("requirements", "what the suite judges, each with its role and assertions") { value, suite throws(FileError) in
            for entry in try value.list() {
                let requirement = try entry.read(Requirement.keys, from: Requirement(id: "", role: .household, mandatory: false, statement: "", assertions: []))
                if requirement.role == role { suite.requirements.append(requirement) }
            }
        },
        FileKey("functions", "what a household firmware may claim to do") { value, suite throws(FileError) in
            let keys = ClaimFunction.keys(judgedBy: role == .household ? suite.requirements.map(\.id) : nil)
            for entry in try value.list() { suite.functions.append(try entry.read(keys, from: ClaimFunction(id: "", kinds: [], statement: "", requirements: []))) }
        },
    ] }
}

/// SHA-256 (FIPS 180-4), for naming exactly which case files a certificate was earned on.
enum SHA256 {
    private static let k: [UInt32] = [
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01,
        0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc,
        0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147,
        0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
        0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08,
        0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
        0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
    ]

    static func hex(_ message: [UInt8]) -> String {
        var h: [UInt32] = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]
        var data = message + [0x80]
        while data.count % 64 != 56 { data.append(0) }
        data += withUnsafeBytes(of: (UInt64(message.count) * 8).bigEndian, Array.init)
        func rotate(_ x: UInt32, _ n: UInt32) -> UInt32 { x >> n | x << (32 - n) }
        for chunk in stride(from: 0, to: data.count, by: 64) {
            var w = [UInt32](repeating: 0, count: 64)
            for i in 0..<16 { w[i] = data[chunk + 4 * i..<chunk + 4 * i + 4].reduce(0) { $0 << 8 | UInt32($1) } }
            for i in 16..<64 {
                let s0 = rotate(w[i - 15], 7) ^ rotate(w[i - 15], 18) ^ w[i - 15] >> 3
                let s1 = rotate(w[i - 2], 17) ^ rotate(w[i - 2], 19) ^ w[i - 2] >> 10
                w[i] = w[i - 16] &+ s0 &+ w[i - 7] &+ s1
            }
            var (a, b, c, d, e, f, g, hh) = (h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7])
            for i in 0..<64 {
                let t1 = hh &+ (rotate(e, 6) ^ rotate(e, 11) ^ rotate(e, 25)) &+ (e & f ^ ~e & g) &+ k[i] &+ w[i]
                let t2 = (rotate(a, 2) ^ rotate(a, 13) ^ rotate(a, 22)) &+ (a & b ^ a & c ^ b & c)
                (hh, g, f, e, d, c, b, a) = (g, f, e, d &+ t1, c, b, a, t1 &+ t2)
            }
            for (i, value) in [a, b, c, d, e, f, g, hh].enumerated() { h[i] = h[i] &+ value }
        }
        return h.map { String(format: "%08x", $0) }.joined()
    }
}
