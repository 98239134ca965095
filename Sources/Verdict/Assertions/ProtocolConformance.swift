import Agents
import Market
import Messages
import Physics
public import Rigs

/// What the run's participants put on the bus keeps the rules of docs/PROTOCOL.md, judged from the capture alone
/// and blamed on the sender: every message is protocol v1; `seq` counts up per sender (a `hello` starts it again);
/// the market publishes the clearing before the awards, one awards message per household and interval, each at
/// the clearing's price, and a clearing whose type and marginal fields and awards are what the allocation rule
/// gives at its own price and quantity (pro rata at the margin); errors are well-formed; every participant answers
/// the conductor's goodbye within 3 s; no message is for an interval the conductor never opened; no bids break
/// the bid rules. What a bus
/// fault duplicated, delayed or reordered is not its sender's fault.
struct ProtocolConformance: Assertion {
    func judge(_ run: RunView) -> Judgement {
        var violations: [(sender: String, what: String)] = []
        for (sender, count) in run.malformed.sorted(by: { $0.key < $1.key }) where run.isParticipant(sender) {
            violations.append((sender, "\(count) message\(count == 1 ? "" : "s") that are not protocol v1"))
        }
        for (house, count) in run.invalidBids.sorted(by: { $0.key < $1.key }) {
            violations.append((house, "\(count) bids message\(count == 1 ? "" : "s") refused as invalid (docs/MARKET.md's bid rules)"))
        }
        for stray in run.strays where stray.why == .unopenedInterval {
            violations.append((stray.sender, "\(stray.messages) message\(stray.messages == 1 ? "" : "s") \(stray.why.rawValue)"))
        }
        let opened = Set(run.intervals.map(\.number))
        // A clearing a bus fault held back may arrive after its awards: their order is the fault's doing.
        let heldBack = Set(run.messages.compactMap { message, _ -> Int? in
            guard message.body is ClearingResult, run.isFaultTouched(message.header) else { return nil }
            return message.header.interval
        })
        var lastSeq: [String: UInt64] = [:], cleared: Set<Int> = [], awarded: Set<String> = []
        run.bus.forEach { header, type, body, _ in
            let sender = header.sender
            guard run.isParticipant(sender) else { return }
            let touched = run.isFaultTouched(header)
            if body is Hello {
                lastSeq[sender] = header.sequence
            } else {
                if let last = lastSeq[sender], header.sequence <= last, !touched {
                    violations.append((sender, "seq \(header.sequence) after \(last) (\(type))"))
                }
                lastSeq[sender] = max(lastSeq[sender] ?? 0, header.sequence)
            }
            guard let number = header.interval, opened.contains(number) else { return }
            switch body {
            case is ClearingResult where sender == ParticipantName.market: cleared.insert(number)
            case let awards as Awards where sender == ParticipantName.market:
                if !cleared.contains(number), !heldBack.contains(number) {
                    violations.append((sender, "interval \(number): awards for \(awards.house) before the clearing"))
                }
                if !awarded.insert("\(number)/\(awards.house)").inserted, !touched {
                    violations.append((sender, "interval \(number): a second awards message for \(awards.house)"))
                }
            case let report as ErrorReport where report.count < 1 || report.detail.isEmpty:
                violations.append((sender, "interval \(number): an error with count \(report.count) and \(report.detail.isEmpty ? "no" : "a") detail"))
            default: return
            }
        }
        for view in run.intervals { violations += clearingAgrees(view, priceCap: run.rig.run.priceCap).map { (ParticipantName.market, $0) } }
        if let said = run.goodbyes.conductor {
            for participant in run.participantsAtEnd {
                let answer = run.goodbyes.answers[participant]
                if answer.map({ $0 - said > Goodbye.answerWindow }) ?? true {
                    violations.append((participant, answer.map { "answered the conductor's goodbye after \(Figures.format($0 - said, 1)) s" }
                                       ?? "never answered the conductor's goodbye"))
                }
            }
        }
        var bySender: [String: Int] = [:]
        for violation in violations { bySender[violation.sender, default: 0] += 1 }
        let measured = violations.isEmpty ? "0 violations"
            : bySender.sorted { $0.key < $1.key }.map { "\($0.value) by \($0.key)" }.joined(separator: ", ")
        return Judgement(passed: violations.isEmpty, measured: measured, threshold: "0",
                         detail: violations.prefix(3).map { "\($0.sender): \($0.what)" }.joined(separator: "; "))
    }

    /// Where a published clearing contradicts its own awards: its type, marginal quantity and fraction, and each
    /// award, against what the allocation rule gives at the published price, quantity and type on the bids the
    /// market kept; each awards message's price against the clearing's.
    private func clearingAgrees(_ view: RunView.IntervalView, priceCap: Double) -> [String] {
        guard let published = view.clearing else { return [] }
        var found: [String] = []
        let book = view.orderBook(priceCap: priceCap)
        let type = ClearingType(published.clearingType)
        let reference = book.clear()
        if published.price == reference.price, abs(published.quantity - reference.quantity) <= 1e-9 * max(1, reference.quantity),
           type != reference.type {
            found.append("interval \(view.number): clearing_type \(type.rawValue), but the clearing it published is of type \(reference.type.rawValue)")
        }
        let allocated = book.allocate(price: published.price, quantity: published.quantity, type: type)
        let tolerance = 1e-6 * max(1, book.bids.reduce(0) { $0 + $1.quantity })
        if abs(allocated.marginalQuantity - published.marginalQuantity) > tolerance || abs(allocated.marginalFraction - published.marginalFraction) > 1e-6 {
            found.append("interval \(view.number): marginal_quantity \(published.marginalQuantity) and marginal_fraction \(published.marginalFraction), "
                         + "but its awards give \(Figures.format(allocated.marginalQuantity, 4)) and \(Figures.format(allocated.marginalFraction, 4))")
        }
        var awarded: [BidKey: Double] = [:]
        for (house, message) in view.awards {
            if message.awards.price != published.price {
                found.append("interval \(view.number): awards for \(house) at \(message.awards.price), the clearing's price is \(published.price)")
            }
            for award in message.awards.awards { awarded[BidKey(id: award.id, side: Side(award.side)), default: 0] += award.quantity }
        }
        let wrong = allocated.awards.filter { abs((awarded[BidKey(id: $0.bid.id, side: $0.bid.side)] ?? 0) - $0.quantity) > tolerance }
        if let first = wrong.first {
            let got = awarded[BidKey(id: first.bid.id, side: first.bid.side)] ?? 0
            found.append("interval \(view.number): \(first.bid.id) awarded \(Figures.format(got, 4)) kW, the allocation rule gives "
                         + "\(Figures.format(first.quantity, 4)) kW at the clearing's own price \(published.price)"
                         + (wrong.count > 1 ? " (and \(wrong.count - 1) more awards)" : ""))
        }
        return found
    }
}

extension RunView {
    /// Whether `name` takes part in the run (`participants`).
    func isParticipant(_ name: String) -> Bool { participants.contains(name) }

    /// Whether a bus fault duplicated, delayed or reordered the message (`faultTouched`).
    func isFaultTouched(_ header: Message.Header) -> Bool { faultTouched.contains(SentMessage(header)) }

    /// The market and the households, but those that crashed and were not started again before the end.
    var participantsAtEnd: [String] {
        let end = rig.run.duration + (rig.start ?? 0)
        let gone = Set(rig.run.faults.crashes.filter { crash in crash.restart.map { crash.time + $0 >= end } ?? true }.map(\.participant))
        return ([ParticipantName.market] + households.map(\.name)).filter { !gone.contains($0) }
    }
}

extension AssertionSpec.Kind {
    public static let protocolConformance = Self("protocol-conformance")
}

extension KnownAssertion {
    static let protocolConformance = KnownAssertion(.protocolConformance) { _ in ProtocolConformance() }
}
