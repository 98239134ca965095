// Modbus benchmarks (figures in docs/PERFORMANCE.md; run with `make bench`).
//
//   ModbusBench read  GRIDRIG_PORT BARE_PORT [ROUNDS] [REQUESTS]
//     Reads 100 holding registers at 40000 in a loop, alternating the two servers round by round,
//     and prints each round's rate and the median ratio gridrig / bare.
//   ModbusBench fleet FIRST_PORT DEVICES SECONDS SERVER_PID
//     Polls each of DEVICES servers (one per port) once per second for SECONDS, reads the server
//     process's CPU time from /proc, and prints its CPU share and the p50/p99/max response latency.
//   ModbusBench batch FIRST_PORT DEVICES ROUNDS
//     Writes one register of each of DEVICES servers, one request after another and then as one batch
//     (`ModbusClient.transact`), alternating, and prints the median time of each.
import Foundation
import Modbus

func rate(port: UInt16, requests: Int) throws -> Double {
    let client = try ModbusClient(port: port, timeout: .seconds(2))
    _ = try client.read(at: 40000, count: 100)
    let start = ContinuousClock.now
    for _ in 0..<requests { _ = try client.read(at: 40000, count: 100) }
    let elapsed = start.duration(to: .now)
    return Double(requests) / (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
}

func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }

func cpuSeconds(pid: Int32) -> Double {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else { return .nan }
    let fields = stat.split(separator: ")").last!.split(separator: " ")
    return (Double(fields[11])! + Double(fields[12])!) / Double(sysconf(Int32(_SC_CLK_TCK)))
}

let arguments = CommandLine.arguments.dropFirst().map { $0 }
switch arguments.first {
case "read":
    let gridrig = UInt16(arguments[1])!, bare = UInt16(arguments[2])!
    let rounds = arguments.count > 3 ? Int(arguments[3])! : 10
    let requests = arguments.count > 4 ? Int(arguments[4])! : 5000
    var ratios: [Double] = [], ours: [Double] = [], theirs: [Double] = []
    for round in 0..<rounds {
        let order = round % 2 == 0 ? [gridrig, bare] : [bare, gridrig]
        var rates: [UInt16: Double] = [:]
        for port in order { rates[port] = try rate(port: port, requests: requests) }
        ours.append(rates[gridrig]!)
        theirs.append(rates[bare]!)
        ratios.append(rates[gridrig]! / rates[bare]!)
        print(String(format: "round %2d  gridrig %8.0f req/s  bare libmodbus %8.0f req/s  ratio %.3f", round + 1, rates[gridrig]!, rates[bare]!, ratios.last!))
    }
    print(String(format: "median: gridrig %.0f req/s, bare %.0f req/s, ratio %.3f", median(ours), median(theirs), median(ratios)))
case "fleet":
    let first = UInt16(arguments[1])!, devices = Int(arguments[2])!, seconds = Int(arguments[3])!, pid = Int32(arguments[4])!
    DescriptorLimit.raise()  // a connection per device
    var clients: [ModbusClient] = []
    for index in 0..<devices { clients.append(try ModbusClient(port: first + UInt16(index), timeout: .seconds(10))) }
    for client in clients { _ = try client.read(at: 40070, count: 52) }  // every connection accepted and answering before timing
    var latencies: [Double] = [], failures = 0
    let cpuBefore = cpuSeconds(pid: pid)
    let start = ContinuousClock.now
    for second in 0..<seconds {
        for (index, client) in clients.enumerated() {
            // spread the polls evenly over the second
            let due = start + .seconds(second) + .nanoseconds(Int64(1_000_000_000 * index / devices))
            if due > .now { Thread.sleep(forTimeInterval: Double(ContinuousClock.now.duration(to: due).components.attoseconds) / 1e18) }
            let sent = ContinuousClock.now
            do { _ = try client.read(at: 40070, count: 52) } catch { failures += 1 }
            let took = sent.duration(to: .now)
            latencies.append(Double(took.components.attoseconds) / 1e15)
        }
    }
    let wall = start.duration(to: .now)
    let cpu = cpuSeconds(pid: pid) - cpuBefore
    let wallSeconds = Double(wall.components.seconds) + Double(wall.components.attoseconds) / 1e18
    latencies.sort()
    print(String(format: "%d devices polled once per second for %d s: server CPU %.1f %% of one core; latency p50 %.3f ms, p99 %.3f ms, max %.3f ms; %d failed; %.1f s for %d rounds",
                 devices, seconds, 100 * cpu / wallSeconds, latencies[latencies.count / 2], latencies[latencies.count * 99 / 100], latencies.last!,
                 failures, wallSeconds, seconds))
case "batch":
    // One write to each of DEVICES devices, as an agent's dispatch writes its setpoints: one request after another,
    // then as one batch (every request sent, then the answers read with one poll), alternating round by round.
    let first = UInt16(arguments[1])!, devices = Int(arguments[2])!, rounds = Int(arguments[3])!
    DescriptorLimit.raise()
    let clients = try (0..<devices).map { index in try ModbusClient(port: first + UInt16(index), timeout: .seconds(10)) }
    let request = ModbusRequest.write(.holdingRegisters, address: 40187, values: [100], isSingle: true)  // model 123's WMaxLimPct
    var oneByOne: [Double] = [], batched: [Double] = [], failures = 0
    func milliseconds(_ body: () -> Void) -> Double {
        let start = ContinuousClock.now
        body()
        return Double(start.duration(to: .now).components.attoseconds) / 1e15
    }
    for _ in 0..<rounds {
        oneByOne.append(milliseconds { for client in clients { do { _ = try client.write([100], at: 40187) } catch { failures += 1 } } })
        batched.append(milliseconds { failures += ModbusClient.transact(clients.map { ($0, $0.unit, request) }).filter { (try? $0.get()) == nil }.count })
    }
    print(String(format: "%d devices, one write each, %d rounds: one after another median %.3f ms, as a batch median %.3f ms (%.1fx); %d failed",
                 devices, rounds, median(oneByOne), median(batched), median(oneByOne) / median(batched), failures))
default:
    print("usage: ModbusBench read GRIDRIG_PORT BARE_PORT [ROUNDS] [REQUESTS] | fleet FIRST_PORT DEVICES SECONDS SERVER_PID | batch FIRST_PORT DEVICES ROUNDS")
    exit(2)
}
