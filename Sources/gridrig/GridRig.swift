import ArgumentParser

@main
struct GridRig: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gridrig",
        abstract: "Hardware-in-the-loop test harness for transactive-energy microgrids.",
        discussion: "Emulated solar inverters, batteries, thermostats, EV chargers and site meters speak Modbus TCP like the real products.",
        subcommands: [Run.self, Certify.self, Stress.self, Emulate.self, MarketCommand.self, AgentCommand.self, KeysCommand.self])
}
