import ArgumentParser
import Conformance
import Files
import Foundation
import Logging
import Physics
import RigFiles
import Run

struct Certify: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a role's conformance suite against a controller and issue a certificate.",
        discussion: """
            Runs every case of Conformance/<role>/ (or --suite) over --seeds seeds with the controller under test in the role (the house --house for a household), and judges each requirement of docs/CONFORMANCE.md by its assertions. Writes to --out: certificate.html (each requirement, its pass rate and a link to the run report that is its evidence), certificate.json, junit.xml, summary.txt, and every run's report in runs/.

            The controller is a program GridRig starts in each run, given last after -- (gridrig certify --role market --out DIR -- ./my-market --config prod.toml), or, with --endpoint, one started separately: before each run GridRig writes its environment to <out>/endpoint.env (source it, start the controller; it ends with the conductor's goodbye).

            Exit status: 0 every mandatory requirement passed, 1 one failed, 2 bad input, 3 the kit itself failed.
            """)

    @Option(help: "The role under test.")
    var role: ConformanceRole

    @Option(help: "The house under test, for a household (default: the claims' house, else h2).")
    var house: HouseID?

    @Option(help: "For a household: a claims file naming the devices the firmware drives and what it does with them (docs/CONFORMANCE.md, \"Claims\"; default: the suite's claims/default.yaml).")
    var claims: String?

    @Option(help: "Seeds per case: the case's own, then the next ones.")
    var seeds: Int = 1

    @Option(help: "Folder for the certificate (default: runs/certify-<role>-<time>).")
    var out: String?

    @Option(help: "The suite's folder: requirements.yaml and a folder of cases per role.")
    var suite: String = "Conformance"

    @Option(help: ArgumentHelp("Run only these cases.", valueName: "name,name..."))
    var cases: CommaList<String>?

    @Option(help: "Folder of profiles that the cases name.")
    var profiles: String = "Profiles"

    @Option(help: "Seconds the controller has to say ready in each run.")
    var readyTimeout: Double = 30

    @Flag(help: "The controller is started separately (see endpoint.env).")
    var endpoint = false

    @Option(help: "With --endpoint: the bus's publish port.")
    var publishPort: UInt16 = 5570

    @Option(help: "With --endpoint: the bus's subscribe port.")
    var subscribePort: UInt16 = 5571

    @Option(help: "Serve devices from this port on, as each case numbers them (default: the case's first-port; 0: free ports).")
    var firstPort: UInt16?

    @Option(help: ArgumentHelp("The clock: lockstep (each case whole, unless --window), or realtime or accelerated:N, the wall-clock editions: each case for --window minutes around its first event, for firmware that keeps its own time.",
                               valueName: "clock"))
    var clock: ClockChoice = .lockstep

    @Option(help: "Minutes of each case's edition around its first event (5 to 120): the wall-clock editions default to 10; in lockstep, a short edition for a quick check (default: each case whole).")
    var window: Double?

    @OptionGroup var log: LogOptions

    @OptionGroup var controller: ControllerProgram

    func validate() throws {
        try controller.check(for: Self.self)
        guard endpoint != !controller.program.isEmpty else { throw ValidationError("give the controller: its program last, after -- (-- PROGRAM ARGS...), or --endpoint.") }
        guard (1...100).contains(seeds) else { throw ValidationError("--seeds must be 1 to 100.") }
        guard readyTimeout > 0, readyTimeout.isFinite else { throw ValidationError("--ready-timeout must be a positive number of seconds.") }
        if let window { guard (5...120).contains(window) else { throw ValidationError("--window must be 5 to 120 minutes.") } }
        guard claims == nil || role == .household else { throw ValidationError("--claims is for a household: a market claims nothing but its role.") }
    }

    func run() throws {
        let logger = log.logger("gridrig.certify")
        let loaded: ConformanceSuite
        var claimed: Claims?
        do {
            loaded = try ConformanceSuite.load(folder: suite, role: role, only: cases?.items ?? [])
            claimed = try claims.map { file throws(FileError) in try Claims.load(file: file, profiles: profiles, functions: loaded.functions) }
        } catch {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            throw ExitCode(2)
        }
        let folder = out ?? "runs/certify-\(role.rawValue)-\(Run.timestamp())"
        let controller: ControllerUnderTest = endpoint
            ? .endpoint(publishPort: publishPort, subscribePort: subscribePort) : .command(controller.program)
        let total = loaded.cases.count * seeds
        var done = 0
        let certification: Certification
        do {
            certification = try Certification.run(loaded, controller: controller, house: house ?? claimed?.house ?? "h2", claims: claimed, seeds: seeds, profiles: profiles, firstPort: firstPort,
                                                  edition: Certification.Edition(clock: clock.clock, window: window.map { $0 * 60 }), out: folder,
                                                  readyTimeout: .seconds(readyTimeout), logger: logger) { step in
                done += 1
                FileHandle.standardError.write(Data("[\(done)/\(total)] \(step)\(endpoint ? ": waiting for the controller (\(folder)/endpoint.env)" : "")\n".utf8))
            }
            let report = CertificateReport(certification)
            try report.write(to: folder)
            print(report.table)
            print("Certificate: \(folder)/certificate.html\n  (and certificate.json junit.xml summary.txt; each run's report in runs/)")
        } catch {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            throw ExitCode(error.isBadInput ? 2 : 3)
        }
        if !certification.passed { throw ExitCode(1) }
    }
}
