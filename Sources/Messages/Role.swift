/// What a participant is on the bus, as its `hello` announces it (docs/PROTOCOL.md, "Participants"): any other name is
/// refused as not protocol v1.
public enum Role: String, Sendable, CaseIterable {
    case household, market, conductor, observer
}
