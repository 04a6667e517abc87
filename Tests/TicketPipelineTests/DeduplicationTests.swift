import Foundation
import GRDB
import Logging
import Testing

@testable import TicketPipeline
@testable import TicketStoreSQLite

@Suite("Deduplication: the message's identity (From, To, Cc, Subject, Date, Message-ID, normalised body)")
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

    /// Issue 12: two messages without Message-ID with the same one-line body are two messages; each redelivered
    /// (same bytes) is a duplicate of its own ticket.
    @Test func sameBodyDifferentMailIsTwoTickets() async throws {
        let fixture = try PipelineFixture()
        defer { fixture.tearDown() }
        let alice = rawMail(
            from: "alice@example.test", subject: "Server down in Paris", id: nil, body: "Sent from my iPhone\n")
        let bob = rawMail(from: "bob@other.test", subject: "Invoice question", id: nil, body: "Sent from my iPhone\n")
        #expect(await fixture.deliver(alice, sender: "alice@example.test") == [.created(ticket: 1)])
        #expect(await fixture.deliver(bob, sender: "bob@other.test") == [.created(ticket: 2)])
        #expect(await fixture.deliver(alice, sender: "alice@example.test") == [.duplicate(ticket: 1)])
        #expect(await fixture.deliver(bob, sender: "bob@other.test") == [.duplicate(ticket: 2)])
        let tickets = try await fixture.tickets()
        #expect(Set(tickets.map(\.subject)) == ["Server down in Paris", "Invoice question"])
        let counts = try await fixture.store.dispositionCounts()
        #expect(counts[.duplicate] == 2 && counts[.created] == 2)
    }

    /// Every identity field decides: a message differing in any one of them (with the same body and no
    /// Message-ID) is another message; non-ASCII values, raw and encoded.
    @Test func eachIdentityFieldMakesAnotherMessage() async throws {
        let fixture = try PipelineFixture()
        defer { fixture.tearDown() }
        func mail(
            from: String = "=?UTF-8?B?SsO8cmdlbiBNw7xsbGVy?= <juergen@example.test>", to: String = "support@localhost",
            cc: String? = nil, subject: String = "Drucker brennt – schnell!",
            date: String = "Mon, 23 Nov 2026 10:00:00 +0100"
        ) -> String {
            rawMail(from: from, to: to, cc: cc, subject: subject, id: nil, body: "Gesendet von meinem iPhone\n")
                .replacingOccurrences(of: "Date: Mon, 23 Nov 2026 10:00:00 +0000", with: "Date: \(date)")
        }
        #expect(await fixture.deliver(mail()) == [.created(ticket: 1)])
        #expect(await fixture.deliver(mail(from: "Jürgen <jurgen@example.test>")) == [.created(ticket: 2)])
        #expect(await fixture.deliver(mail(to: "support@localhost, ops@example.test")) == [.created(ticket: 3)])
        #expect(await fixture.deliver(mail(cc: "çedille@example.test")) == [.created(ticket: 4)])
        #expect(await fixture.deliver(mail(subject: "Drucker brennt – langsam")) == [.created(ticket: 5)])
        #expect(await fixture.deliver(mail(date: "Mon, 23 Nov 2026 10:00:01 +0100")) == [.created(ticket: 6)])
        // The same instant written in another zone, the same name encoded as Q, the subject as B: the same mail.
        let respelled = mail(
            from: "=?utf-8?q?J=C3=BCrgen_M=C3=BCller?= <Juergen@Example.test>",
            subject: "=?UTF-8?B?RHJ1Y2tlciBicmVubnQg4oCTIHNjaG5lbGwh?=", date: "Mon, 23 Nov 2026 09:00:00 +0000")
        #expect(await fixture.deliver(respelled) == [.duplicate(ticket: 1)])
        #expect(try await fixture.tickets().count == 6)
    }

    /// The copy pushed over LMTP and the copy a poller fetched from a mailbox differ in their trace fields only:
    /// one ticket, whichever comes first; without a Message-ID too.
    @Test(arguments: [true, false])
    func pushAndPollCopiesAreOneMessage(withMessageID: Bool) async throws {
        let fixture = try PipelineFixture()
        defer { fixture.tearDown() }
        let mail = rawMail(
            from: "=?ISO-8859-1?Q?Ren=E9e_Fa=E7ade?= <renee@example.test>", subject: "Écran noir après la mise à jour",
            id: withMessageID ? "push-poll@example.test" : nil, body: "L’écran reste noir.\n")
        let push =
            "Return-Path: <renee@example.test>\r\nDelivered-To: support@localhost\r\n"
            + "Received: from mx.example.test by helpdesk.test with LMTP; Mon, 23 Nov 2026 10:00:02 +0000\r\n" + mail
        let poll =
            "X-Original-To: help@support.test\r\nDelivered-To: help@support.test\r\n"
            + "Received: from imap.example.test by poller; Mon, 23 Nov 2026 10:05:00 +0000\r\n"
            + "Received: from mx2.example.test by imap.example.test; Mon, 23 Nov 2026 10:00:03 +0000\r\n" + mail
        #expect(await fixture.deliver(push, sender: "renee@example.test") == [.created(ticket: 1)])
        #expect(
            await fixture.deliver(poll, sender: "bounce-1234@example.test", source: .deliver) == [.duplicate(ticket: 1)]
        )
        #expect(try await fixture.tickets().map(\.articleCount) == [1])
    }

    /// A store written before schema v5 keeps working: a redelivery of a message with a Message-ID finds its old
    /// row (same Message-ID and body), while an old row without Message-ID, keyed by the body alone, no longer
    /// swallows other mail with that body.
    @Test func keysStoredBeforeSchemaV5StillMatchByMessageID() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let withID = rawMail(subject: "Old mail", id: "old@example.test", body: "Sent from my iPhone\n")
        let withoutID = rawMail(subject: "Old mail without ID", id: nil, body: "Sent from my iPhone\n")
        try TicketStoreSchemaV5Fixture.writeV4Store(
            at: directory.databasePath,
            rows: [("old@example.test", withID), ("", withoutID)])
        let store = try SQLiteTicketStore(path: directory.databasePath, logger: Logger(label: "test.store"))
        defer { try? store.close() }
        let intake = PipelineFixture.intake(store: store)
        func deliver(_ raw: String) async -> [RecipientOutcome.Result] {
            await intake.process(
                InboundMessage(
                    sender: "alice@example.com", recipients: ["support@localhost"], raw: Array(raw.utf8), source: .lmtp,
                    receivedAt: Date(), sessionID: "test")
            ).map(\.result)
        }
        #expect(await deliver(withID) == [.duplicate(ticket: 1)])
        let other = rawMail(subject: "Another mail", id: nil, body: "Sent from my iPhone\n")
        #expect(await deliver(other) == [.created(ticket: 3)])
        #expect(await deliver(other) == [.duplicate(ticket: 3)])
        // Threading by the old row's Message-ID still works.
        let reply = rawMail(
            subject: "Re: Old mail", id: "reply@example.test", headers: ["In-Reply-To: <old@example.test>"],
            body: "Any news?\n")
        #expect(await deliver(reply) == [.appended(ticket: 1)])
    }
}

/// A store at schema v4 with one ticket per row, each with the pre-v5 key: Message-ID + normalised body.
enum TicketStoreSchemaV5Fixture {
    static func writeV4Store(at path: String, rows: [(messageID: String, raw: String)]) throws {
        try FileManager.default.createDirectory(
            atPath: URL(fileURLWithPath: path).deletingLastPathComponent().path, withIntermediateDirectories: true)
        let queue = try DatabaseQueue(path: path)
        try TicketStoreSchema.migrator.migrate(
            queue, upTo: "v4 (2026-11-23): keys of deliveries that were only recorded")
        try queue.write { db in
            for (index, row) in rows.enumerated() {
                let number = index + 1
                let body = Array(row.raw.utf8).withUnsafeBufferPointer { BodyFingerprint.sha256(raw: $0) }
                try db.execute(
                    sql: "INSERT INTO contacts(id, address, name, created_at) VALUES (?, 'alice@example.com', NULL, 0) "
                        + "ON CONFLICT DO NOTHING",
                    arguments: [1])
                try db.execute(
                    sql: """
                        INSERT INTO tickets(number, queue, subject, requester_id, source, created_at, updated_at)
                        VALUES (?, 'support', 'old', 1, 'lmtp', 0, 0)
                        """, arguments: [number])
                try db.execute(
                    sql: "INSERT INTO raw_messages(id, sha256, size, received_at, data) VALUES (?, '', ?, 0, ?)",
                    arguments: [number, row.raw.utf8.count, Data(row.raw.utf8)])
                try db.execute(
                    sql: """
                        INSERT INTO articles(id, ticket_number, queue, direction, message_id, in_reply_to_ids,
                            reference_ids, subject, from_address, addresses, envelope_sender, envelope_recipients,
                            source, received_at, raw_message_id, raw_sha256, raw_size)
                        VALUES (?, ?, 'support', 'inbound', ?, '', '', 'old', 'alice@example.com', '',
                            'alice@example.com', 'support@localhost', 'lmtp', 0, ?, '', ?)
                        """, arguments: [number, number, row.messageID.isEmpty ? nil : row.messageID, number, 1])
                try db.execute(
                    sql: """
                        INSERT INTO delivery_keys(message_id, content_sha256, queue, ticket_number, article_id,
                            delivered_at)
                        VALUES (?, ?, 'support', ?, ?, 0)
                        """, arguments: [row.messageID, body, number, number])
            }
        }
        try queue.close()
    }
}
