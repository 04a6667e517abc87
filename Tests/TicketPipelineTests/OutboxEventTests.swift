import Foundation
import Logging
import MailParser
import Testing
import TicketPipeline

@testable import TicketStoreSQLite

/// Issue 14: the transactional outbox. Events are written by the pipeline inside the store's transaction, so they
/// exist exactly when the change they report committed. Real parser, real SQLite file, non-ASCII mail.
@Suite("Transactional outbox")
struct OutboxEventTests {
    static let firstMessage = Array(
        """
        From: =?utf-8?B?SsO8cmdlbiBNw7xsbGVy?= <juergen@example.test>
        To: support@localhost
        Subject: =?UTF-8?Q?Drucker_brennt_=E2=80=93_=E6=89=93=E5=8D=B0=E6=9C=BA?=
        Message-ID: <first-outbox@example.test>
        Content-Type: text/plain; charset=utf-8

        Hallo, der Drucker brennt. Grüße aus Köln

        """.replacingOccurrences(of: "\n", with: "\r\n").utf8)

    static let reply = Array(
        """
        From: =?utf-8?B?SsO8cmdlbiBNw7xsbGVy?= <juergen@example.test>
        To: support@localhost
        Subject: Re: Drucker brennt
        Message-ID: <reply-outbox@example.test>
        In-Reply-To: <first-outbox@example.test>
        Content-Type: text/plain; charset=utf-8

        Danke — erledigt, 谢谢.

        On Monday Support wrote:
        > Hallo, der Drucker brennt. Grüße aus Köln

        """.replacingOccurrences(of: "\n", with: "\r\n").utf8)

    static func intake(_ store: any TicketStore, recordsEvents: Bool = true) -> TicketIntake {
        TicketIntake(
            router: QueueRouter(queues: [supportQueue, salesQueue]), store: store, logger: Logger(label: "test"),
            settings: PipelineSettings(recordsEvents: recordsEvents))
    }

    static func deliver(_ raw: [UInt8], to intake: TicketIntake) async -> [RecipientOutcome.Result] {
        await intake.process(
            InboundMessage(
                sender: "juergen@example.test", recipients: ["support@localhost"], raw: raw, source: .lmtp,
                receivedAt: Date(), sessionID: "test")
        ).map(\.result)
    }

    static func object(_ json: String) throws -> [String: Any] {
        try #require(JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
    }

    @Test func aTicketAndAReplyWriteOneEventEachInOrder() async throws {
        let fixture = try IntakeFixture()
        defer { fixture.tearDown() }
        let intake = Self.intake(fixture.store)
        #expect(await Self.deliver(Self.firstMessage, to: intake) == [.created(ticket: 1)])
        #expect(await Self.deliver(Self.reply, to: intake) == [.appended(ticket: 1)])
        // A redelivery changes nothing, so it reports nothing.
        #expect(await Self.deliver(Self.reply, to: intake) == [.duplicate(ticket: 1)])

        let events = try await fixture.store.outboxEvents()
        #expect(events.map(\.type) == ["ticket.created", "article.added"])
        #expect(events.map(\.ticketNumber) == [1, 1])
        #expect(events[0].sequence < events[1].sequence)
        for event in events {
            #expect(event.eventID.hasPrefix("evt_") && event.eventID.utf8.count == 36)
        }
        #expect(Set(events.map(\.eventID)).count == 2)

        let created = try Self.object(events[0].payload)
        let ticket = try #require(created["ticket"] as? [String: Any])
        #expect(ticket["number"] as? Int == 1)
        #expect(ticket["queue"] as? String == "support")
        #expect(ticket["subject"] as? String == "Drucker brennt – 打印机")
        let requester = try #require(ticket["requester"] as? [String: Any])
        #expect(requester["name"] as? String == "Jürgen Müller")
        #expect(requester["address"] as? String == "juergen@example.test")
        let article = try #require(created["article"] as? [String: Any])
        #expect(article["message_id"] as? String == "first-outbox@example.test")

        let added = try Self.object(events[1].payload)
        let replyArticle = try #require(added["article"] as? [String: Any])
        let articleID = try #require(events[1].articleID)
        #expect(replyArticle["id"] as? Int == Int(articleID))
        let from = try #require(replyArticle["from"] as? [String: Any])
        #expect(from["name"] as? String == "Jürgen Müller")

        // The texts are rendered from the stored article when the event is sent: the whole text, and the new part.
        let texts = try #require(try await fixture.store.articleTexts(articleID: articleID))
        #expect(texts.text.contains("Danke — erledigt, 谢谢."))
        #expect(texts.text.contains("Grüße aus Köln"))
        #expect(texts.strippedText.contains("Danke — erledigt, 谢谢."))
        #expect(!texts.strippedText.contains("Grüße aus Köln"))
    }

    @Test func withoutWebhooksNothingIsWritten() async throws {
        let fixture = try IntakeFixture()
        defer { fixture.tearDown() }
        let intake = Self.intake(fixture.store, recordsEvents: false)
        #expect(await Self.deliver(Self.firstMessage, to: intake) == [.created(ticket: 1)])
        #expect(try await fixture.store.outboxEvents().isEmpty)
    }

    @Test func aChangeThatDoesNotCommitEnqueuesNothing() async throws {
        let fixture = try IntakeFixture()
        defer { fixture.tearDown() }
        let intake = Self.intake(fixture.store)
        #expect(await Self.deliver(Self.firstMessage, to: intake) == [.created(ticket: 1)])
        // A full disk: the commit fails, the message gets a temporary failure, and its event is gone with it.
        try await fixture.store.executeOnWriter("PRAGMA max_page_count = 1")
        let big = Array(
            ("From: a@example.test\r\nTo: support@localhost\r\nSubject: Größe\r\nMessage-ID: <big@example.test>\r\n\r\n"
                + String(repeating: "x", count: 64 * 1024) + "\r\n").utf8)
        let results = await Self.deliver(big, to: intake)
        #expect(results.count == 1 && results[0].isTemporaryFailure)
        #expect(try await fixture.store.outboxEvents().map(\.type) == ["ticket.created"])
        try await fixture.store.executeOnWriter("PRAGMA max_page_count = 1073741823")
        #expect(await Self.deliver(big, to: intake) == [.created(ticket: 2)])
        #expect(try await fixture.store.outboxEvents().map(\.ticketNumber) == [1, 2])
    }

    @Test func aPipelineFailureRollsItsEventBackAndReportsTheQuarantine() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let sqlite = try SQLiteTicketStore(path: directory.databasePath, logger: Logger(label: "test"))
        defer { try? sqlite.close() }
        let intake = Self.intake(PoisonedStore(sqlite))
        let poison = Array(
            "From: a@example.test\r\nTo: support@localhost\r\nSubject: poison\r\nMessage-ID: <p@x.test>\r\n\r\nhi\r\n"
                .utf8)
        let results = await Self.deliver(poison, to: intake)
        guard case .quarantined(let id)? = results.first else {
            Issue.record("expected quarantine, got \(results)")
            return
        }
        let events = try await sqlite.outboxEvents()
        #expect(events.map(\.type) == ["message.quarantined"])
        #expect(events.first?.ticketNumber == nil)
        let event = try #require(events.first)
        let quarantine = try #require(try Self.object(event.payload)["quarantine"] as? [String: Any])
        #expect(quarantine["id"] as? Int == Int(id))
        #expect((quarantine["error"] as? String)?.contains("poison subject") == true)
    }

    @Test func aWriteFailingAfterItsEventWasWrittenLeavesNoEvent() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let sqlite = try SQLiteTicketStore(path: directory.databasePath, logger: Logger(label: "test"))
        defer { try? sqlite.close() }
        let intake = Self.intake(PoisonedStore(sqlite))
        #expect(await Self.deliver(Self.firstMessage, to: intake) == [.created(ticket: 1)])
        let failing = Array(
            ("From: a@example.test\r\nTo: support@localhost\r\nSubject: fail after events\r\n"
                + "Message-ID: <f@x.test>\r\n\r\nhi\r\n").utf8)
        let results = await Self.deliver(failing, to: intake)
        #expect(results.count == 1 && results[0].isTemporaryFailure)
        #expect(try await sqlite.outboxEvents().map(\.type) == ["ticket.created"])
        #expect(try await sqlite.listTickets(limit: 10, offset: 0).count == 1)
    }

    @Test func bouncesAreReportedMatchedOrNot() async throws {
        let fixture = try IntakeFixture()
        defer { fixture.tearDown() }
        let intake = Self.intake(fixture.store)
        #expect(await Self.deliver(Self.firstMessage, to: intake) == [.created(ticket: 1)])
        for (original, expected) in [
            ("first-outbox@example.test", RecipientOutcome.Result.noted(ticket: 1)),
            ("not-ours@elsewhere.example", .recorded(.bounceUnmatched)),
        ] {
            let outcome = await intake.process(
                InboundMessage(
                    sender: "", recipients: ["support@localhost"],
                    raw: Array(postfixBounce(originalID: original, failed: "müller@kunde.example").utf8),
                    source: .lmtp, receivedAt: Date(), sessionID: "test"))
            #expect(outcome.map(\.result) == [expected])
        }
        let events = try await fixture.store.outboxEvents()
        #expect(events.map(\.type) == ["ticket.created", "bounce.recorded", "bounce.recorded"])
        #expect(events.map(\.ticketNumber) == [1, 1, nil])
        let matched = try Self.object(events[1].payload)
        #expect((matched["ticket"] as? [String: Any])?["number"] as? Int == 1)
        #expect((matched["article"] as? [String: Any])?["direction"] as? String == "note")
        let bounce = try #require(matched["bounce"] as? [String: Any])
        #expect(bounce["original_message_id"] as? String == "first-outbox@example.test")
        let recipient = try #require((bounce["recipients"] as? [[String: Any]])?.first)
        #expect(recipient["address"] as? String == "müller@kunde.example")
        #expect(recipient["status"] as? String == "5.1.1")
        let unmatched = try Self.object(events[2].payload)
        #expect(unmatched["ticket"] is NSNull)
        #expect(unmatched["article"] == nil)
    }

    @Test func aMailboxGoingUnhealthyIsReportedOncePerOutage() async throws {
        let fixture = try IntakeFixture()
        defer { fixture.tearDown() }
        let store = fixture.store
        try await store.saveMailboxStatus(MailboxStatus(mailbox: "Postfach Köln", state: .healthy))
        try await store.saveMailboxStatus(
            MailboxStatus(mailbox: "Postfach Köln", state: .failing, lastError: "connection refused"))
        try await store.saveMailboxStatus(
            MailboxStatus(mailbox: "Postfach Köln", state: .needsAttention, lastError: "login refused"))
        try await store.saveMailboxStatus(MailboxStatus(mailbox: "Postfach Köln", state: .healthy))
        try await store.saveMailboxStatus(
            MailboxStatus(mailbox: "Postfach Köln", state: .needsAttention, lastError: "token revoked"))
        let events = try await store.outboxEvents()
        #expect(events.map(\.type) == ["mailbox.unhealthy", "mailbox.unhealthy"])
        let mailbox = try #require(try Self.object(events[0].payload)["mailbox"] as? [String: Any])
        #expect(mailbox["name"] as? String == "Postfach Köln")
        #expect(mailbox["error"] as? String == "connection refused")
    }

    @Test func payloadTextIsValidJSONWithNonASCIIKept() throws {
        var payload = EventPayload()
        let hostile = "quote \" backslash \\ newline \n tab \t bell \u{07} nul \u{00} – 打印机 🖨"
        payload.add("text", hostile)
        payload.add("list", ["a\"b", "ü"])
        payload.add("none", nil as String?)
        #expect(payload.json.contains("打印机 🖨"))
        let object = try Self.object(payload.json)
        #expect(object["text"] as? String == hostile)
        #expect(object["list"] as? [String] == ["a\"b", "ü"])
        #expect(object["none"] is NSNull)
    }
}
