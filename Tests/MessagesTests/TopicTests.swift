import Messages
import Physics
import Testing

@Suite("Topics")
struct TopicTests {
    @Test("Every topic reads back from its text: the shared ones alone, the others with their participant",
          arguments: Topic.Kind.allCases)
    func roundTrip(kind: Topic.Kind) throws {
        let topic = kind.isShared ? try #require(Topic(kind.rawValue)) : .of(kind, "h2")
        #expect(topic.kind == kind)
        #expect(topic.description == (kind.isShared ? kind.rawValue : "\(kind.rawValue)/h2"))
        #expect(Topic(topic.description) == topic)
    }

    @Test("Text that is no topic is refused", arguments: ["", "bid/h2", "bids", "bids/", "clearing/h2", "gate/", "Bids/h2", "grants/h2", "grant"])
    func refuses(text: String) {
        #expect(Topic(text) == nil)
    }

    @Test("A filter takes one topic, or every topic of a kind by its prefix")
    func filters() {
        #expect(TopicFilter.every(.bids).prefix == "bids/" && !TopicFilter.every(.bids).isExact)
        #expect(TopicFilter.every(.clearing).prefix == "clearing" && TopicFilter.every(.clearing).isExact)
        #expect(TopicFilter.only(.of(.awards, "h2")).prefix == "awards/h2" && TopicFilter.only(.of(.awards, "h2")).isExact)
    }

    @Test("A message travels on the topic of its type and of its sender or household")
    func messageTopics() {
        var writer = MessageWriter(sender: "h2")
        #expect(writer.message(Bids(house: "h2", bids: [])).topic == .of(.bids, "h2"))
        #expect(writer.message(TimeRequest(time: nil)).topic == .of(.time, "h2"))
        #expect(writer.message(TimeGrant(participant: "h3", time: 1)).topic == .of(.grant, "h3"))
        #expect(writer.message(TimeGrants(participants: ["h3", "h4"], time: 1)).topic == .grants)
        #expect(writer.message(Tick(time: 0)).topic == .clock)
    }
}
