import Testing

@testable import TicketPipeline

@Suite("Queue routing and subject tags")
struct QueueRouterTests {
    let router = QueueRouter(queues: [
        QueueDefinition(name: "support", tag: "Support", addresses: ["support@localhost", "*@support.test"]),
        QueueDefinition(name: "sales", tag: "Sales", addresses: ["Sales@Localhost", "vip@support.test"]),
    ])

    @Test func exactAddress() {
        #expect(router.queue(for: "support@localhost")?.name == "support")
        #expect(router.queue(for: "sales@localhost")?.name == "sales")
        #expect(router.queue(for: "<support@localhost>")?.name == "support")
    }

    @Test func caseInsensitive() {
        #expect(router.queue(for: "SUPPORT@LocalHost")?.name == "support")
        #expect(router.queue(for: "anyone@SUPPORT.test")?.name == "support")
    }

    @Test func domainWildcard() {
        #expect(router.queue(for: "billing@support.test")?.name == "support")
        #expect(router.queue(for: "billing@sub.support.test") == nil)
        #expect(router.queue(for: "billing@notsupport.test") == nil)
    }

    @Test func exactWinsOverWildcard() {
        #expect(router.queue(for: "vip@support.test")?.name == "sales")
    }

    @Test func plusSubaddress() {
        #expect(router.queue(for: "support+billing@localhost")?.name == "support")
        #expect(router.queue(for: "Support+X+Y@LOCALHOST")?.name == "support")
        #expect(router.queue(for: "+x@localhost") == nil)
    }

    @Test func unknownAndMalformed() {
        #expect(router.queue(for: "nobody@localhost") == nil)
        #expect(router.queue(for: "support") == nil)
        #expect(router.queue(for: "") == nil)
        #expect(router.queue(for: "@localhost") == nil)
        #expect(router.queue(for: "support@") == nil)
    }

    @Test func subjectTags() {
        #expect(ThreadMatcher.subjectTicketNumbers(in: "Re: [Support #12] printer", tag: "Support") == [12])
        #expect(ThreadMatcher.subjectTicketNumbers(in: "AW: [support#7]", tag: "Support") == [7])
        #expect(ThreadMatcher.subjectTicketNumbers(in: "[Support #3] and [Support #4]", tag: "Support") == [3, 4])
        #expect(ThreadMatcher.subjectTicketNumbers(in: "[Sales #3]", tag: "Support") == [])
        #expect(ThreadMatcher.subjectTicketNumbers(in: "[Support #]", tag: "Support") == [])
        #expect(ThreadMatcher.subjectTicketNumbers(in: "[Support #12", tag: "Support") == [])
        #expect(ThreadMatcher.subjectTicketNumbers(in: "[Support #0]", tag: "Support") == [])
        #expect(ThreadMatcher.subjectTicketNumbers(in: "Support #12", tag: "Support") == [])
        #expect(ThreadMatcher.subjectTicketNumbers(in: "Ré: [Support #5]", tag: "Support") == [5])
    }
}
