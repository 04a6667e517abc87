import Foundation
import GRDB
import Logging
import MessageSpool
import Testing

@testable import TicketPipeline
@testable import TicketStoreSQLite

/// Issue 11: subject tags are capped and de-duplicated in one pass, so a subject naming every ticket costs a
/// few indexed lookups on the store's single writer, not one (or an articles scan) per ticket.
@Suite("Subject tags: capped, de-duplicated in O(n), bounded lookups")
struct SubjectTagCostTests {
    @Test func tagsAreCappedAndDistinct() {
        let subject = (0..<50).map { "[Support #\($0 % 12 + 1)]" }.joined(separator: " ")
        #expect(ThreadMatcher.subjectTicketNumbers(in: subject, tag: "Support") == Array(1...10))
        #expect(ThreadMatcher.subjectTicketNumbers(in: subject, tag: "support", limit: 3) == [1, 2, 3])
        #expect(
            ThreadMatcher.subjectTicketNumbers(in: "Ré: [Support #7] und [Support #7] – [Support #8]", tag: "Support")
                == [7, 8])
    }

    @Test func aSubjectWithTenThousandTagsAgainstManyTicketsIsBounded() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let ticketCount = 10_000
        // The store with its schema, then many tickets and articles written directly.
        try SQLiteTicketStore(path: directory.databasePath, logger: Logger(label: "test.store")).close()
        let queue = try DatabaseQueue(path: directory.databasePath)
        try await queue.write { db in
            try db.execute(sql: "INSERT INTO contacts(id, address, created_at) VALUES (1, 'kunde@example.test', 0)")
            for number in 1...ticketCount {
                try db.execute(
                    sql: """
                        INSERT INTO tickets(number, queue, subject, requester_id, source, created_at, updated_at)
                        VALUES (?, 'support', 'Anfrage', 1, 'lmtp', 0, 0)
                        """, arguments: [number])
                for article in 0..<3 {
                    try db.execute(
                        sql: """
                            INSERT INTO articles(ticket_number, queue, direction, message_id, in_reply_to_ids,
                                reference_ids, subject, from_address, addresses, envelope_sender,
                                envelope_recipients, source, received_at, raw_sha256, raw_size, text)
                            VALUES (?, 'support', 'inbound', ?, '', '', 'Anfrage', 'kunde@example.test',
                                'to\tKunde\tkunde@example.test', 'kunde@example.test', 'support@localhost', 'lmtp',
                                0, '', 0, 'Text')
                            """, arguments: [number, "a\(number).\(article)@example.test"])
                }
            }
        }
        try queue.close()
        let store = try SQLiteTicketStore(path: directory.databasePath, logger: Logger(label: "test.store"))
        defer { try? store.close() }
        let intake = PipelineFixture.intake(store: store)
        let tags = (1...10_000).map { "[Support #\($0)]" }.joined(separator: " ")
        let raw = rawMail(
            from: "=?UTF-8?B?TcOkbGxvcnk=?= <mallory@evil.test>", subject: "Re: " + tags, id: "tags@evil.test",
            body: "Alle Tickets.\n")
        let parsed = RawMessage(Array(raw.utf8)).parsed()
        let clues = ThreadMatcher().clues(for: parsed, queue: supportQueue)
        #expect(clues.subjectTicketNumbers == Array(1...10))

        let clock = ContinuousClock()
        let started = clock.now
        let outcome = await intake.process(
            InboundMessage(
                sender: "mallory@evil.test", recipients: ["support@localhost"], raw: Array(raw.utf8), source: .lmtp,
                receivedAt: Date(), sessionID: "tags"))
        let elapsed = clock.now - started
        #expect(outcome.map(\.result) == [.created(ticket: ticketCount + 1)])
        // A hang detector, not a speed test (the cap is checked above, the lookups' plans in ThreadHijackTests):
        // before the cap, every tag was looked up and de-duplicated in O(n²), minutes for this subject; a loaded
        // CI machine takes seconds.
        #expect(elapsed < .seconds(60), "took \(elapsed)")
    }
}
