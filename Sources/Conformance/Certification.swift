import Emulators
public import Foundation
public import Logging
import Messages
public import Physics
import Modbus
import Reports
public import RigFiles
public import Rigs
public import Run
public import Verdict

/// What `gridrig certify` found: every run of every case and seed, and each requirement's verdict over them
/// (docs/CONFORMANCE.md).
public struct Certification: Sendable {
    /// GridRig's version, as a certificate names it.
    public static let gridRigVersion = "0.11.0"

    /// One case run under one seed.
    public struct CaseRun: Sendable {
        public var caseName: String
        public var seed: UInt64
        /// The assertions' verdicts; empty when the run itself failed.
        public var results: [AssertionResult]
        /// Why the run could not give a verdict (a controller that crashed or never became ready), if it could not.
        public var error: String?
        /// The run's report folder, relative to the certificate's folder.
        public var report: String
        /// What the controller under test said it is in its `hello`.
        public var software: String?
    }

    /// A requirement over every run.
    public struct RequirementVerdict: Sendable {
        public var requirement: Requirement
        /// Runs in which every assertion of the requirement passed, of all runs.
        public var passedRuns: Int
        public var runs: Int
        /// Each failing run: case, seed, why, and its report.
        public var failures: [(caseName: String, seed: UInt64, detail: String, report: String)]
        public var passed: Bool { passedRuns == runs && runs > 0 }
        public var passRate: Double { runs == 0 ? 0 : Double(passedRuns) / Double(runs) }
    }

    /// A claimed function's verdict: judged by its requirements over every run, or untested.
    public struct FunctionVerdict: Sendable {
        public var function: ClaimFunction
        /// The cases that judged it; empty when no case did.
        public var cases: [String]
        public var passed: Bool
        public var untested: Bool { cases.isEmpty }
    }

    /// What a claimed device went through: each event its kind can meet, with the cases that put it through it.
    public struct DeviceCoverage: Sendable {
        public var device: String
        public var profile: String
        public var events: [(event: DeviceEvent, cases: [String])]
    }

    /// How each case was run: whole in lockstep, or an edition of `window` simulated seconds around its first event.
    public struct Edition: Sendable, Equatable {
        public var clock: RunSettings.Clock
        /// nil: every case whole (lockstep only).
        public var window: Double?

        public init(clock: RunSettings.Clock = .lockstep, window: Double? = nil) {
            self.clock = clock
            self.window = window ?? (clock == .lockstep ? nil : 600)
        }

        /// "whole cases, lockstep", "10-minute editions, realtime", "10-minute editions, accelerated ×60".
        public var description: String {
            let clockName = switch clock {
            case .lockstep: "lockstep"
            case .paced(let speed) where speed == 1: "realtime"
            case .paced(let speed): "accelerated ×\(Figures.format(speed, 0))"
            }
            return (window.map { "\(Figures.format($0 / 60, 0))-minute editions" } ?? "whole cases") + ", " + clockName
        }
    }

    public var suite: ConformanceSuite
    /// The house under test, or "market".
    public var participant: String
    /// The claims the house under test was built from (households).
    public var claims: Claims?
    /// Cases left out because they exercise none of the claimed devices, with why.
    public var notApplicable: [(caseName: String, reason: String)] = []
    /// Each claimed device and the events the cases put it through.
    public var coverage: [DeviceCoverage] = []
    /// The program and its arguments, or nil for a controller started separately (an endpoint).
    public var command: [String]?
    public var date: Date
    public var seedsPerCase: Int
    public var edition = Edition()
    public var runs: [CaseRun]

    /// The controller's identity: what it said in `hello.software` (every distinct value, in order).
    public var software: [String] {
        runs.compactMap(\.software).reduce(into: []) { if !$0.contains($1) { $0.append($1) } }
    }

    /// Every seed a case ran under.
    public var seeds: [UInt64] { runs.map(\.seed).reduce(into: []) { if !$0.contains($1) { $0.append($1) } }.sorted() }

    public var verdicts: [RequirementVerdict] {
        suite.requirements.map { requirement in
            var verdict = RequirementVerdict(requirement: requirement, passedRuns: 0, runs: runs.count, failures: [])
            for run in runs {
                let judged = requirement.assertions.map { kind in run.results.first { $0.kind == kind } }
                let failing = judged.enumerated().filter { $0.element.map { !$0.passed } ?? true }
                if run.error == nil, failing.isEmpty {
                    verdict.passedRuns += 1
                } else {
                    let detail = run.error ?? failing.map { index, result in
                        result.map { "\($0.kind.name): \($0.measured)\($0.detail.isEmpty ? "" : ": \($0.detail)")" }
                            ?? "\(requirement.assertions[index].name) was not judged"
                    }.joined(separator: "; ")
                    verdict.failures.append((run.caseName, run.seed, detail, run.report))
                }
            }
            return verdict
        }
    }

    /// Whether every mandatory requirement passed in every run.
    public var passed: Bool { verdicts.allSatisfy { $0.passed || !$0.requirement.mandatory } }

    /// Each claimed function, judged by its requirements; one that no requirement judges, or that no case ran, is
    /// untested, never passed.
    public var functionVerdicts: [FunctionVerdict] {
        guard let claims else { return [] }
        let verdicts = verdicts
        let ran = runs.map(\.caseName).reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
        return claims.functions.compactMap { id in
            guard let function = suite.functions.first(where: { $0.id == id }) else { return nil }
            let judging = verdicts.filter { function.requirements.contains($0.requirement.id) }
            return FunctionVerdict(function: function, cases: judging.isEmpty ? [] : ran, passed: !judging.isEmpty && judging.allSatisfy(\.passed))
        }
    }
}

extension Certification {
    /// Writes `out/endpoint.env`: the environment of the controller under test for the run about to start.
    fileprivate static func writeEndpointEnvironment(_ rig: Rig, participant: String, run: String, options: RunOptions, out: String) throws(RunError) {
        var environment = try RunSession.endpointEnvironment(rig, participant: participant, options: options)
        environment["GRIDRIG_CASE"] = run
        let text = "# \(run): the controller under test's environment for this run\n" + RunSession.shellExports(environment)
        do {
            try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
            try text.write(toFile: "\(out)/endpoint.env", atomically: true, encoding: .utf8)
        } catch {
            throw RunError(message: "cannot write \(out)/endpoint.env: \(error.localizedDescription)")
        }
    }

    /// The names of `rig`'s devices in `house`.
    static func names(of house: HouseID, in rig: Rig) -> Set<String> { Set(rig.devices.filter { $0.house == house }.map(\.name)) }

    /// The events each device of `house` meets in a case built from claims (its faults within the case's span, and
    /// an outage or island); nil when the case is not applicable: its faults `aimed` at the house's devices (in the
    /// case as written) are none of them on a device there, or none falls within the span.
    static func events(of built: Rig, house: HouseID, aimed: [String]) -> [(device: String, profile: DeviceProfile, events: Set<DeviceEvent>)]? {
        let start = built.start ?? 0, end = start + built.run.duration, inHouse = names(of: house, in: built)
        let landed = built.faults.filter { inHouse.contains($0.device) && $0.start < end && $0.end > start }
        guard landed.isEmpty, !aimed.isEmpty else {
            let islanded = built.run.grid == nil || built.run.faults.outages.contains { $0.start < end && $0.end > start }
            return built.devices.filter { $0.house == house }.map { spec in
                var events = Set(landed.filter { $0.device == spec.name }.map { DeviceEvent($0.kind) })
                if islanded { events.insert(.outage) }
                return (spec.name, spec.profile, events)
            }
        }
        return nil
    }

    /// The faults that excuse every device of `house` (bus faults on the way it learns and follows its awards, a
    /// crash of it or of the market, the grid) over the whole of `rig`, named; nil when some of the run is judged.
    /// A case whose edition lies within its own long fault (lossy-bus's two hours) has nothing to certify.
    static func excusingWholly(_ rig: Rig, house: HouseID) -> String? {
        let start = rig.start ?? 0, end = start + rig.run.duration
        let houseWide = FaultWindow.windows(of: rig).filter { $0.excusesEveryDevice(of: house) }.sorted { $0.start < $1.start }
        var covered = start
        for window in houseWide where window.start <= covered + 1e-9 { covered = max(covered, window.end) }
        guard covered >= end - 1e-9 else { return nil }
        return houseWide.map(\.label).reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }.joined(separator: ", ")
    }

    /// A case's edition: from the interval before the one in which its first event (a fault, an outage, a crash)
    /// begins, for `window` simulated seconds and at least through the event's interval (the interval before is what
    /// the devices are judged on when the event excuses its own); from its start when it has none.
    static func narrow(_ rig: inout Rig, to window: Double) {
        let start = rig.start ?? 0, end = start + rig.run.duration, interval = rig.run.interval
        let faults = rig.run.faults
        let events = rig.faults.map(\.start) + faults.bus.map(\.start) + faults.crashes.map(\.time) + faults.outages.map(\.start)
            + faults.gridEvents.map(\.start)
        guard let first = events.filter({ $0 >= start && $0 < end }).min() else {
            rig.run.duration = min(window, rig.run.duration)
            return
        }
        let eventInterval = start + ((first - start) / interval).rounded(.down) * interval
        let from = max(start, eventInterval - interval)
        rig.start = from
        rig.run.duration = min(end - from, max(window, eventInterval + interval - from))
    }
}

/// What a case can put a device through (docs/CONFORMANCE.md, "Claims"), from its faults.
public enum DeviceEvent: String, Sendable, CaseIterable {
    case commsLoss = "comms loss", reboot, modbusFaults = "Modbus faults", wordOrder = "word-order change",
         scaleFactor = "scale-factor change", vehiclePlan = "vehicle plan change", measurements = "bad measurements",
         hardware = "hardware fault", outage = "grid outage or island"

    init(_ kind: DeviceFault.Kind) {
        switch kind {
        case .noResponse, .refused: self = .commsLoss
        case .reboot: self = .reboot
        case .exception, .delay, .drop, .partialFrame, .slowFrame, .minimumGap, .singleClient: self = .modbusFaults
        case .wordSwap: self = .wordOrder
        case .scaleFactor: self = .scaleFactor
        case .departure, .arrivalSoC: self = .vehiclePlan
        case .frozen, .distortion: self = .measurements
        case .outOfService, .shade: self = .hardware
        }
    }

    /// The events a device of this product can meet: every device's link, and what its kind and map allow.
    static func possible(for profile: DeviceProfile) -> [DeviceEvent] {
        let points = profile.blocks.flatMap(\.points)
        return allCases.filter { event in
            switch event {
            case .wordOrder: points.contains { $0.type.registerCount == 2 }
            case .scaleFactor: points.contains { $0.scaleFactor != nil }
            case .vehiclePlan: profile.kind == .evCharger
            case .outage: profile.kind == .battery || profile.kind == .inverter
            default: true
            }
        }
    }
}

/// How certify runs the controller under test.
public enum ControllerUnderTest: Sendable {
    case command([String])
    /// Started separately; before each run its environment is written to `endpoint.env` in the output folder.
    case endpoint(publishPort: UInt16, subscribePort: UInt16)

    /// Gives the controller `house`'s role in `rig`, or the market's (nil).
    func place(in rig: inout Rig, as house: HouseID?) {
        let role: RunSettings.Role
        switch self {
        case .command(let command): role = .command(command)
        case .endpoint(let publish, let subscribe):
            role = .endpoint
            rig.run.bus.publishPort = publish
            rig.run.bus.subscribePort = subscribe
        }
        if let house { rig.run.households[house] = role } else { rig.run.market = role }
    }
}

extension Certification {
    /// Runs every case of `suite` under `seeds` seeds each (the case's own seed, then the next ones), with the
    /// controller in the suite's role for `house` (households) or as the market, and writes each run's report
    /// under `out/runs/`. Devices are served at each case's ports, from `firstPort` on when given (0: free ports).
    ///
    /// A household is built from `claims` (else the suite's `claims/default.yaml`, when it has one): a case that
    /// faults only devices the claims do not hold is left out as not applicable.
    ///
    /// An `edition` with a window runs each case narrowed to it (`narrow`): the wall-clock editions (a paced clock,
    /// realtime or accelerated) always, lockstep when asked, for a quick check. A run whose own clock lagged beyond
    /// `RunRecord.clockLagLimit` is GridRig's failure, not the controller's.
    public static func run(_ suite: ConformanceSuite, controller: ControllerUnderTest, house: HouseID, claims: Claims? = nil, seeds: Int, profiles: String,
                           firstPort: UInt16? = nil, edition: Edition = Edition(), out: String, readyTimeout: Duration,
                           logger: Logger, progress: (String) -> Void) throws(RunError) -> Certification {
        let defaultClaims = "\(suite.folder)/claims/default.yaml"
        var claims = claims
        if suite.role == .household, claims == nil, FileManager.default.fileExists(atPath: defaultClaims) {
            do { claims = try Claims.load(file: defaultClaims, profiles: profiles, functions: suite.functions) } catch {
                throw RunError(message: "\(error)", isBadInput: true)
            }
        }
        let setup = CaseSetup(role: suite.role, controller: controller, house: house, claims: suite.role == .household ? claims : nil, profiles: profiles,
                              firstPort: firstPort, edition: edition, out: out, readyTimeout: readyTimeout, logger: logger)
        let participant = setup.participant
        var runs: [CaseRun] = []
        var notApplicable: [(caseName: String, reason: String)] = []
        var covered: [String: [DeviceEvent: [String]]] = [:]
        var products: [(device: String, profile: DeviceProfile)] = []
        for suiteCase in suite.cases {
            let own: Rig
            do { own = try RigLoader.load(file: suiteCase.file, profiles: profiles) } catch { throw RunError(message: "\(error)", isBadInput: true) }
            switch try setup.events(of: suiteCase, own: own) {
            case .notApplicable(let reason):
                notApplicable.append((suiteCase.name, reason))
                for offset in 0..<UInt64(seeds) { progress("\(suiteCase.name), seed \(own.seed &+ offset): not applicable, \(reason)") }
                continue
            case .met(let met):
                for (device, profile, events) in met {
                    if !products.contains(where: { $0.device == device }) { products.append((device, profile)) }
                    for event in events { covered[device, default: [:]][event, default: []].append(suiteCase.name) }
                }
            }
            for offset in 0..<UInt64(seeds) {
                progress("\(suiteCase.name), seed \(own.seed &+ offset)")
                runs.append(try setup.run(suiteCase, seed: own.seed &+ offset))
            }
        }
        guard !runs.isEmpty else {
            throw RunError(message: "no case of the suite applies: \(notApplicable.map { "\($0.caseName): \($0.reason)" }.joined(separator: "; "))",
                           isBadInput: true)
        }
        var certification = Certification(suite: suite, participant: participant, claims: setup.claims,
                                          command: { if case .command(let c) = controller { c } else { nil } }(), date: Date(), seedsPerCase: seeds,
                                          edition: edition, runs: runs)
        certification.notApplicable = notApplicable
        certification.coverage = products.map { device, profile in
            DeviceCoverage(device: device, profile: profile.name,
                           events: DeviceEvent.possible(for: profile).map { ($0, covered[device]?[$0] ?? []) })
        }
        return certification
    }
}

/// What every run of a certification shares: the controller in its role, the house under test built from its
/// claims, and how each case is run.
private struct CaseSetup {
    let role: ConformanceRole
    let controller: ControllerUnderTest
    let house: HouseID
    /// A household's claims; nil for a market, or a household the suite has no claims for.
    let claims: Claims?
    let profiles: String
    let firstPort: UInt16?
    let edition: Certification.Edition
    let out: String
    let readyTimeout: Duration
    let logger: Logger

    /// The name under test on the bus.
    var participant: String { role == .market ? ParticipantName.market : house.name }
    var underTest: (house: HouseID, claims: Claims)? { claims.map { (house, $0) } }

    /// Whether a case applies to the claimed devices (always without claims).
    enum Applicability {
        case notApplicable(String)
        /// The events each claimed device meets in it.
        case met([(device: String, profile: DeviceProfile, events: Set<DeviceEvent>)])
    }

    /// The events the claimed devices meet in `suiteCase` (`own`: the case as its file has it); not applicable when its
    /// edition lies wholly within faults that excuse the house, or its faults are all on devices the claims do not hold.
    func events(of suiteCase: ConformanceSuite.Case, own: Rig) throws(RunError) -> Applicability {
        guard let underTest else { return .met([]) }
        var built: Rig
        do { built = try RigLoader.load(file: suiteCase.file, profiles: profiles, houseUnderTest: underTest) } catch {
            throw RunError(message: "\(error)", isBadInput: true)
        }
        if let window = edition.window {
            Certification.narrow(&built, to: window)
            if let excusing = Certification.excusingWholly(built, house: house) {
                return .notApplicable("its \(Figures.format(window / 60, 0))-minute edition lies wholly within \(excusing), "
                                      + "which excuse every device of \(participant): nothing would be judged")
            }
        }
        let aimed = Set(own.faults.map(\.device).filter(Certification.names(of: house, in: own).contains)).sorted()
        guard let met = Certification.events(of: built, house: house, aimed: aimed) else {
            return .notApplicable("its faults are on \(aimed.joined(separator: ", ")), none of them claimed")
        }
        return .met(met)
    }

    /// One run of `suiteCase` under `seed`, its report written to `out/runs/`. A run that fails is the controller's
    /// failure; bad input, or a run whose own clock lagged, is GridRig's.
    func run(_ suiteCase: ConformanceSuite.Case, seed: UInt64) throws(RunError) -> Certification.CaseRun {
        var rig: Rig
        let options = RunOptions(profiles: profiles, readyTimeout: readyTimeout)
        do {
            rig = try RigLoader.load(file: suiteCase.file, profiles: profiles, firstPort: firstPort, seed: seed, houseUnderTest: underTest)
        } catch {
            throw RunError(message: "\(error)", isBadInput: true)
        }
        guard role == .market || rig.devices.contains(where: { $0.house == house }) else {
            throw RunError(message: "\(suiteCase.file): no house \(participant) to put under test", isBadInput: true)
        }
        rig.run.clock = edition.clock
        if let window = edition.window { Certification.narrow(&rig, to: window) }
        controller.place(in: &rig, as: role == .market ? nil : house)
        let folder = "runs/\(suiteCase.name)-seed\(seed)"
        if case .endpoint = controller {
            try Certification.writeEndpointEnvironment(rig, participant: participant, run: "\(suiteCase.name)-seed\(seed)", options: options, out: out)
        }
        let record: RunRecord
        do {
            record = try RunSession.run(rig, options: options, logger: logger)
        } catch {
            if error.isBadInput { throw error }
            return Certification.CaseRun(caseName: suiteCase.name, seed: seed, results: [], error: error.message, report: folder)
        }
        let report = try RunReport.write(record, to: "\(out)/\(folder)")
        if let failure = record.clockFailure { throw RunError(message: "\(suiteCase.name), seed \(seed): \(failure)") }
        let software = record.messages.lazy.compactMap { message, _ -> String? in
            guard message.header.sender == participant, let hello = message.body as? Hello else { return nil }
            return hello.software
        }.first
        return Certification.CaseRun(caseName: suiteCase.name, seed: seed, results: report.results, report: folder, software: software)
    }
}
