public import Bus
public import Logging
public import Messages
public import Physics
public import Market  // accept(_:from:priceCap:) gives the market core's bids

/// What the reference market needs: who may bid, and how much one sender may send per interval.
public struct MarketSetup: Sendable {
    /// The participant name the market publishes as.
    public var name: String
    /// The households that may bid, by id.
    public var households: [HouseID]
    /// Bids messages one household may send in one interval; more are refused as a flood.
    public var messageLimit: Int

    public init(name: String = ParticipantName.market, households: [HouseID], messageLimit: Int = 20) {
        self.name = name
        self.households = households
        self.messageLimit = messageLimit
    }
}

/// GridRig's reference market: collects bids for the open interval until gate closure, clears them with the
/// market core (docs/MARKET.md) and publishes the clearing and each household's awards.
public final class MarketAgent: LoopAgent {
    public let setup: MarketSetup
    public let control = ParticipantControl()
    private let context: BusContext
    private let endpoints: BusEndpoints
    private let credentials: BusCredentials?
    let logger: Logger
    var name: String { setup.name }
    var role: Role { .market }
    var topics: [TopicFilter] { [.only(.gate), .every(.bids)] }

    /// With `credentials`, the agent authenticates to the broker with CURVE. The bus address is for `run()`; a
    /// `ParticipantLoop` connects the agents it serves itself.
    public init(setup: MarketSetup, context: BusContext, endpoints: BusEndpoints, credentials: BusCredentials? = nil, logger: Logger) {
        self.setup = setup
        self.context = context
        self.endpoints = endpoints
        self.credentials = credentials
        self.logger = logger
    }

    /// Joins the bus and clears intervals until stopped or the conductor says goodbye. Blocks.
    public func run() throws(ParticipantError) {
        try serve(context: context, endpoints: endpoints, credentials: credentials)
    }

    func makeLogic(batch: ModbusBatch) -> any ParticipantLogic { MarketLogic(setup: setup, control: control) }

    /// A household's bids as the market core takes them, or why not: ids under the household, a known side, and
    /// the book's rules (docs/MARKET.md).
    public static func accept(_ message: Bids, from sender: HouseID, priceCap: Double) throws(BidRefusal) -> [Bid] {
        guard message.house == sender else { throw BidRefusal(detail: "bids for house \"\(message.house)\" sent by \"\(sender)\"") }
        var bids: [Bid] = []
        for (index, wire) in message.bids.enumerated() {
            guard (try? DeviceID(parsing: wire.id))?.house == sender else {
                throw BidRefusal(detail: "bids[\(index)].id \"\(wire.id)\" is not one of \"\(sender)/...\"")
            }
            bids.append(Bid(id: wire.id, side: Side(wire.side), price: wire.price, quantity: wire.quantity))
        }
        do {
            try OrderBook(priceCap: priceCap, bids: bids).validate()
        } catch {
            throw BidRefusal(detail: error.description)
        }
        return bids
    }

    public struct BidRefusal: Error {
        public let detail: String
    }
}

/// The market's state on the bus: the open interval and the books of its bids.
private final class MarketLogic: ParticipantLogic {
    let setup: MarketSetup
    let control: ParticipantControl
    /// The households by their names on the bus: a sender is looked up, not parsed, for each bids message.
    let households: [String: HouseID]
    var open: (interval: Int, priceCap: Double)?
    var books: [HouseID: [Bid]] = [:]
    var messages: [HouseID: Int] = [:]

    init(setup: MarketSetup, control: ParticipantControl) {
        self.setup = setup
        self.control = control
        households = Dictionary(setup.households.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
    }

    func handle(_ message: Message, via participant: Participant) throws(BusError) {
        let sender = message.header.sender
        switch message.body {
        case let start as IntervalStart where sender == Participant.conductor:
            guard let interval = message.header.interval else { return }
            open = (interval, start.priceCap)
            books = [:]
            messages = [:]
        case is Gate where sender == Participant.conductor:
            guard let current = open, message.header.interval == current.interval else { return }
            try clear(current, participant: participant)
            open = nil
        case let bids as Bids:
            guard let house = households[sender] else {
                try participant.reject(.unknownParticipant, "\"\(sender)\" is not a household of this market (\(setup.households.map(\.name).joined(separator: ", ")))",
                                       about: sender, topic: message.topic.description, interval: message.header.interval)
                return
            }
            guard let current = open, message.header.interval == current.interval else {
                try participant.reject(.closedInterval, "bids for interval \(message.header.interval.map(String.init) ?? "none"); "
                                       + (open.map { "interval \($0.interval) is open" } ?? "no interval is open"),
                                       about: sender, topic: message.topic.description, interval: message.header.interval)
                return
            }
            messages[house, default: 0] += 1
            if messages[house]! > setup.messageLimit {
                if messages[house]! == setup.messageLimit + 1 {  // one error per flood, then silent counting
                    try participant.reject(.flood, "more than \(setup.messageLimit) bids messages from \"\(sender)\" in interval \(current.interval); the rest of this interval's are dropped",
                                           about: sender, topic: message.topic.description, interval: current.interval)
                } else {
                    _ = control.count(.flood)
                }
                return
            }
            do {
                books[house] = try MarketAgent.accept(bids, from: house, priceCap: current.priceCap)
            } catch {
                try participant.reject(.invalidBid, error.detail, about: sender, topic: message.topic.description, interval: current.interval)
            }
        default:
            return
        }
    }

    private func clear(_ interval: (interval: Int, priceCap: Double), participant: Participant) throws(BusError) {
        let book = OrderBook(priceCap: interval.priceCap, bids: books.keys.sorted().flatMap { books[$0]! })
        let clearing = book.clear()
        try participant.send(ClearingResult(price: clearing.price, quantity: clearing.quantity, clearingType: ClearingKind(clearing.type),
                                                      marginalQuantity: clearing.marginalQuantity, marginalFraction: clearing.marginalFraction,
                                                      unservedDemand: clearing.unservedDemand, bidCount: book.bids.count),
                             interval: interval.interval)
        var byHouse: [HouseID: [Awards.Award]] = [:]
        var owner: [String: HouseID] = [:]  // bid id → its household; a bid is accepted only under its sender's name
        for (house, bids) in books { for bid in bids { owner[bid.id] = house } }
        for award in clearing.awards {
            guard let house = owner[award.bid.id] else { continue }
            byHouse[house, default: []].append(Awards.Award(id: award.bid.id, side: BidSide(award.bid.side), quantity: award.quantity))
        }
        try participant.send(setup.households.map { Awards(house: $0, price: clearing.price, awards: byHouse[$0] ?? []) }, interval: interval.interval)
    }
}
