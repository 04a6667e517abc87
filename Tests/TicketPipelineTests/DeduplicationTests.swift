import Foundation
import Testing

@testable import TicketPipeline
@testable import TicketStoreSQLite

@Suite("Deduplication: Message-ID + SHA-256 of the normalised body")
struct DeduplicationTests {
    @Test(arguments: [
        ("A: 1\r\n\r\nbody\r\nline 2\r\n", "B: 2\nC: 3\n\nbody\nline 2\n", true),
        ("A: 1\r\n\r\nbody  \r\nline 2\t\r\n\r\n\r\n", "A: 1\r\n\r\nbody\r\nline 2", true),
        ("A: 1\r\n\r\nbody\rline 2\r\n", "A: 1\r\n\r\nbody\nline 2\n", true),
        ("A: 1\r\n\r\n\r\nbody\r\n", "A: 1\r\n\r\nbody\r\n", false),
        ("A: 1\r\n\r\nbody\r\n\r\nmore\r\n", "A: 1\r\n\r\nbody\r\nmore\r\n", false),
        ("A: 1\r\n\r\nbody\r\n", "A: 1\r\n\r\nBody\r\n", false),
        ("A: 1\r\n\r\nbo dy\r\n", "A: 1\r\n\r\nbody\r\n", false),
    ])
    func normalisedBodies(_ first: String, _ second: String, _ equal: Bool) {
        let a = Array(first.utf8).withUnsafeBufferPointer { BodyFingerprint.sha256(raw: $0) }
        let b = Array(second.utf8).withUnsafeBufferPointer { BodyFingerprint.sha256(raw: $0) }
        #expect((a == b) == equal)
    }

    @Test func sameMailToTwoAddressesInTwoTransactionsIsStoredOnce() async throws {
        let fixture = try PipelineFixture()
        defer { fixture.tearDown() }
        let mail = rawMail(id: "twice@example.com")
        let first = await fixture.deliver("Delivered-To: support@localhost\r\n" + mail, to: ["support@localhost"])
        let second = await fixture.deliver("Delivered-To: help@support.test\r\n" + mail, to: ["help@support.test"])
        #expect(first == [.created(ticket: 1)])
        #expect(second == [.duplicate(ticket: 1)])
        // By another path (the poller, `deliver`), with other trace headers: the same.
        let third = await fixture.deliver(
            "Return-Path: <alice@example.com>\r\nX-Fetched: imap\r\n" + mail, to: ["support@localhost"],
            source: .deliver)
        #expect(third == [.duplicate(ticket: 1)])
        #expect(try await fixture.tickets().map(\.articleCount) == [1])
        // To another queue it is a ticket there.
        #expect(await fixture.deliver(mail, to: ["sales@localhost"]) == [.created(ticket: 2)])
        // The same Message-ID with another body is another message.
        let edited = rawMail(subject: "Printer on fire", id: "twice@example.com", body: "Something else.\n")
        #expect(await fixture.deliver(edited) == [.created(ticket: 3)])
    }

    @Test func withoutMessageIDTheBodyHashAloneDecides() async throws {
        let fixture = try PipelineFixture()
        defer { fixture.tearDown() }
        let mail = rawMail(id: nil, body: "No Message-ID here.\n")
        #expect(await fixture.deliver("Received: by a\r\n" + mail) == [.created(ticket: 1)])
        #expect(await fixture.deliver("Received: by b\r\n" + mail) == [.duplicate(ticket: 1)])
        #expect(await fixture.deliver(rawMail(id: nil, body: "Another body.\n")) == [.created(ticket: 2)])
        let counts = try await fixture.store.dispositionCounts()
        #expect(counts[.duplicate] == 1 && counts[.created] == 2)
    }
}
