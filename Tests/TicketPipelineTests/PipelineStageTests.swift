import Foundation
import MailClassification
import MailParser
import Testing

@testable import TicketPipeline
@testable import TicketStoreSQLite

@Suite("Pipeline stages wired into intake: classification, records, bounces, automated mail, attachments")
struct PipelineStageTests {
    struct NoTicketCase: CustomTestStringConvertible, Sendable {
        let label: String
        let raw: String
        var sender = "someone@example.com"
        let disposition: MessageDisposition
        let classification: String
        var testDescription: String { label }
    }

    static let noTicketCases: [NoTicketCase] = [
        NoTicketCase(
            label: "our loop header", raw: rawMail(headers: ["X-Postdesk-Loop: helpdesk-test"]),
            disposition: .dropped, classification: "own-mail"),
        NoTicketCase(
            label: "our Message-ID domain", raw: rawMail(id: "T1.A1.abc@helpdesk.test"), disposition: .dropped,
            classification: "own-mail"),
        NoTicketCase(
            label: "X-Loop naming a queue address", raw: rawMail(headers: ["X-Loop: support@localhost"]),
            disposition: .dropped, classification: "loop"),
        NoTicketCase(
            label: "a queue mailing another queue", raw: rawMail(from: "sales@localhost"), sender: "sales@localhost",
            disposition: .dropped, classification: "loop"),
        NoTicketCase(
            label: "Exchange out-of-office, not threading",
            raw: rawMail(
                subject: "Automatic reply: hello",
                headers: ["Auto-Submitted: auto-generated", "X-Auto-Response-Suppress: All"]),
            disposition: .automatedUnthreaded, classification: "automated"),
        NoTicketCase(
            label: "Gmail vacation, not threading",
            raw: rawMail(headers: ["Auto-Submitted: auto-replied", "Precedence: bulk", "X-Autoreply: yes"]),
            disposition: .automatedUnthreaded, classification: "automated"),
        NoTicketCase(
            label: "mailing list",
            raw: rawMail(headers: ["Precedence: list", "List-Id: Users <users.lists.example.org>"]),
            disposition: .automatedUnthreaded, classification: "automated"),
        NoTicketCase(
            label: "newsletter", raw: rawMail(headers: ["List-Unsubscribe: <mailto:unsub@shop.example>"]),
            disposition: .automatedUnthreaded, classification: "automated"),
        NoTicketCase(
            label: "Exchange inbox rule", raw: rawMail(headers: ["X-MS-Exchange-Inbox-Rules-Loop: erin@contoso.com"]),
            disposition: .automatedUnthreaded, classification: "automated"),
        NoTicketCase(
            label: "null sender", raw: rawMail(), sender: "", disposition: .automatedUnthreaded,
            classification: "automated"),
        NoTicketCase(
            label: "filtered by domain", raw: rawMail(from: "spam@spam.example"), disposition: .ignored,
            classification: "ignored"),
        NoTicketCase(
            label: "filtered by keyword", raw: rawMail(subject: "Cheap VIAGRA now"), disposition: .ignored,
            classification: "ignored"),
        NoTicketCase(
            label: "unmatched bounce", raw: postfixBounce(originalID: "not-ours@elsewhere.example"), sender: "",
            disposition: .bounceUnmatched, classification: "bounce"),
    ]

    @Test(arguments: noTicketCases)
    func neverATicketButAlwaysARecord(_ example: NoTicketCase) async throws {
        let policy = QueuePolicy(
            filter: MailFilter(
                ignore: [
                    .domain("spam.example", includeSubdomains: true),
                    .keyword("viagra", match: .wholeWord, fields: .subject),
                ]))
        let fixture = try PipelineFixture(support: policy)
        defer { fixture.tearDown() }
        let results = await fixture.deliver(example.raw, sender: example.sender)
        #expect(results == [.recorded(example.disposition)])
        #expect(try await fixture.tickets().isEmpty)
        let records = try await fixture.records()
        #expect(records.count == 1)
        let record = try #require(records.first)
        #expect(record.disposition == example.disposition)
        #expect(record.classification == example.classification)
        #expect(record.ticketNumber == nil)
        #expect(record.envelopeSender == example.sender)
        #expect(record.decisions.contains { $0.hasPrefix("support: \(example.disposition.rawValue)") })
        #expect(try await fixture.store.dispositionCounts()[example.disposition] == 1)
    }

    @Test func ordinaryMailGetsOneRecordAndNoActivity() async throws {
        let fixture = try PipelineFixture()
        defer { fixture.tearDown() }
        #expect(await fixture.deliver(rawMail(id: "plain@example.com")) == [.created(ticket: 1)])
        let record = try #require(try await fixture.records().first)
        #expect(record.classification == "accepted")
        #expect(record.disposition == .created)
        #expect(record.ticketNumber == 1)
        #expect(record.messageID == "plain@example.com")
        #expect(record.fromAddress == "alice@example.com")
        #expect(record.decisions.prefix(4) == ["bounce/none", "own-mail/none", "automated/none", "filter/none"])
        #expect(try await fixture.store.ticket(number: 1)?.activities == [])
        #expect(try await fixture.store.messageRecord(id: record.id) == record)
    }

    @Test func automatedReplyThreadsAsNoteWithoutChangingStatus() async throws {
        let fixture = try PipelineFixture()
        defer { fixture.tearDown() }
        await fixture.deliver(rawMail(id: "question@example.com"))
        try await fixture.store.executeOnWriter("UPDATE tickets SET status = 'pending' WHERE number = 1")
        let outOfOffice = rawMail(
            from: "Alice <alice@example.com>", subject: "Automatic reply: Printer on fire",
            headers: ["In-Reply-To: <question@example.com>", "Auto-Submitted: auto-replied"])
        #expect(await fixture.deliver(outOfOffice) == [.noted(ticket: 1)])
        let ticket = try #require(try await fixture.store.ticket(number: 1))
        #expect(ticket.status == "pending")
        #expect(ticket.articles.map(\.direction) == [.inbound, .note])
        #expect(ticket.activities.map(\.kind) == ["automated-note"])
        // A subject tag attaches automated mail only when it comes from a participant, and never reopens.
        let tagged = rawMail(subject: "Auto: [Support #1] Printer on fire", headers: ["Auto-Submitted: auto-replied"])
        #expect(await fixture.deliver(tagged) == [.noted(ticket: 1)])
        let stranger = rawMail(
            from: "robot@elsewhere.example", subject: "Auto: [Support #1] Printer on fire",
            headers: ["Auto-Submitted: auto-replied"])
        #expect(await fixture.deliver(stranger, sender: "robot@elsewhere.example") == [.recorded(.automatedUnthreaded)])
        #expect(try await fixture.store.ticket(number: 1)?.status == "pending")
    }

    @Test func automatedSenderBudgetTurnsTheRestIntoRecords() async throws {
        let fixture = try PipelineFixture(
            support: QueuePolicy(automatedBudget: AutomatedSenderBudget(messagesPerDay: 3)))
        defer { fixture.tearDown() }
        await fixture.deliver(rawMail(id: "loop-start@example.com"))
        var results: [RecipientOutcome.Result] = []
        // Our signed Message-ID threads whoever the sender is (a stored one only for participants).
        let ours = PipelineFixture.signer.messageID(ticket: 1, article: 1)
        for index in 0..<6 {
            let reply = rawMail(
                from: "Robot+\(index)@Example.com", subject: "Auto: Printer on fire",
                headers: ["In-Reply-To: <\(ours)>", "Auto-Submitted: auto-replied"])
            results += await fixture.deliver(reply, sender: "robot@example.com")
        }
        // The budget counts the sender without its +tag, case-insensitively.
        #expect(
            results == Array(repeating: .noted(ticket: 1), count: 3)
                + Array(repeating: .recorded(.overBudget), count: 3))
        #expect(try await fixture.tickets().count == 1)
        let counts = try await fixture.store.dispositionCounts()
        #expect(counts[.noted] == 3 && counts[.overBudget] == 3 && counts[.created] == 1)
    }

    /// Issue 12 point 9: the budget is keyed on the envelope sender and the From together, so forged mail
    /// naming a real sender in From uses up only the forger's budget.
    @Test func forgedFromDoesNotUseUpTheRealSendersBudget() async throws {
        let fixture = try PipelineFixture(
            support: QueuePolicy(automatedBudget: AutomatedSenderBudget(messagesPerDay: 2)))
        defer { fixture.tearDown() }
        func automated(_ index: Int) -> String {
            rawMail(
                from: "=?UTF-8?Q?Überwachung?= <monitor@example.com>", subject: "Warnung \(index): Platte fast voll",
                headers: ["Auto-Submitted: auto-generated"], body: "Meldung \(index)\n")
        }
        var forged: [RecipientOutcome.Result] = []
        for index in 0..<4 { forged += await fixture.deliver(automated(index), sender: "mallory@evil.example") }
        #expect(forged.filter { $0 == .recorded(.overBudget) }.count == 2)
        // The real monitor, by its own envelope sender, still has its whole budget.
        #expect(
            await fixture.deliver(automated(10), sender: "monitor@example.com") == [.recorded(.automatedUnthreaded)])
        #expect(
            await fixture.deliver(automated(11), sender: "Monitor@example.com") == [.recorded(.automatedUnthreaded)])
        #expect(await fixture.deliver(automated(12), sender: "monitor@example.com") == [.recorded(.overBudget)])
    }

    @Test func bounceBecomesNoteOnTheOriginalsTicket() async throws {
        let fixture = try PipelineFixture()
        defer { fixture.tearDown() }
        await fixture.deliver(rawMail(id: "first@example.com"))
        await fixture.deliver(rawMail(subject: "Second", id: "second@example.com"))
        let results = await fixture.deliver(
            postfixBounce(originalID: "second@example.com", failed: "gone@customer.example"), sender: "")
        #expect(results == [.noted(ticket: 2)])
        #expect(try await fixture.tickets().count == 2)
        let ticket = try #require(try await fixture.store.ticket(number: 2))
        #expect(ticket.articles.map(\.direction) == [.inbound, .note])
        #expect(ticket.activities.map(\.kind) == ["bounce"])
        let bounce = try #require(try await fixture.store.bounceRecords(unmatchedOnly: false, limit: 10).first)
        #expect(bounce.ticketNumber == 2)
        #expect(bounce.recipient == "gone@customer.example")
        #expect(bounce.status == "5.1.1")
        #expect(bounce.diagnostic?.contains("User unknown") == true)
        #expect(bounce.originalMessageID == "second@example.com")
        #expect(try await fixture.store.bounceRecords(unmatchedOnly: true, limit: 10).isEmpty)
    }

    @Test func bounceOfOurSignedMessageIDFindsItsTicket() async throws {
        let fixture = try PipelineFixture()
        defer { fixture.tearDown() }
        await fixture.deliver(rawMail())
        let ours = PipelineFixture.signer.messageID(ticket: 1, article: 7)
        #expect(await fixture.deliver(postfixBounce(originalID: ours), sender: "") == [.noted(ticket: 1)])
        let forged = "T1.A7.000000000000000000000000@helpdesk.test"
        #expect(await fixture.deliver(postfixBounce(originalID: forged), sender: "") == [.recorded(.bounceUnmatched)])
        #expect(try await fixture.store.bounceRecords(unmatchedOnly: true, limit: 10).count == 1)
    }

    @Test func attachmentPolicyIsNotedOnTheTicket() async throws {
        let policy = QueuePolicy(
            attachments: AttachmentPolicy(ignoredFileNames: ["logo.png", "image00*.png"], maximumSize: 100))
        let fixture = try PipelineFixture(support: policy)
        defer { fixture.tearDown() }
        let raw = mailWithAttachments(["logo.png", "report.pdf", "image001.png"]) + ""
        #expect(await fixture.deliver(raw) == [.created(ticket: 1)])
        let big = mailWithAttachments(["huge.bin"], size: 500)
        #expect(await fixture.deliver(big) == [.created(ticket: 2)])
        let first = try #require(try await fixture.store.ticket(number: 1))
        #expect(first.articles.first?.attachments.map(\.filename) == ["report.pdf"])
        let note = try #require(first.activities.first)
        #expect(note.kind == "attachments")
        #expect(note.text.contains("logo.png matches the ignore pattern logo.png"))
        #expect(note.text.contains("image001.png matches the ignore pattern image00*.png"))
        let second = try #require(try await fixture.store.ticket(number: 2))
        #expect(second.articles.first?.attachments.isEmpty == true)
        #expect(second.activities.first?.text.contains("huge.bin is 500 bytes, over the limit of 100 bytes") == true)
    }

    @Test func rawMessageIsAttachedAsEMLWhenTheQueueAsks() async throws {
        var policy = QueuePolicy()
        policy.attachRawMessage = true
        let fixture = try PipelineFixture(support: policy)
        defer { fixture.tearDown() }
        let raw = mailWithAttachments(["report.pdf"])
        #expect(await fixture.deliver(raw) == [.created(ticket: 1)])
        // The other queue keeps the default: no copy.
        #expect(
            await fixture.deliver(mailWithAttachments(["other.pdf"]), to: ["sales@localhost"]) == [.created(ticket: 2)])
        let ticket = try #require(try await fixture.store.ticket(number: 1))
        let attachments = try #require(ticket.articles.first?.attachments)
        #expect(attachments.map(\.filename) == ["report.pdf", "message.eml"])
        let eml = try #require(attachments.last)
        #expect(eml.contentType == "message/rfc822")
        #expect(eml.size == raw.utf8.count)
        #expect(try await fixture.store.blob(sha256: eml.sha256) == Array(raw.utf8))
        let other = try #require(try await fixture.store.ticket(number: 2))
        #expect(other.articles.first?.attachments.map(\.filename) == ["other.pdf"])
    }

    @Test func unreadableMessageBecomesAnErrorTicket() async throws {
        let fixture = try PipelineFixture()
        defer { fixture.tearDown() }
        let garbage = "\u{1}\u{2}binary garbage without any header\r\n\r\nmore\r\n"
        #expect(await fixture.deliver(garbage) == [.created(ticket: 1)])
        let ticket = try #require(try await fixture.store.ticket(number: 1))
        #expect(ticket.subject == "Unreadable message")
        #expect(ticket.activities.first?.kind == "error")
        #expect(ticket.activities.first?.text.contains("no header section") == true)
        let article = try #require(ticket.articles.first)
        #expect(try await fixture.store.rawMessage(articleID: article.id) == Array(garbage.utf8))
        #expect(try await fixture.records().first?.disposition == .errorTicket)
        // A message with headers, however odd, is not an error ticket.
        #expect(await fixture.deliver("X-Odd: 1\r\n\r\nbody") == [.created(ticket: 2)])
    }

    @Test(
        arguments: [
            ("", "the message is empty"), ("no colon at all\r\n", "no header section"),
            (": empty name\r\n\r\n", "empty header field name"), ("Subject: ok\r\n\r\n", nil),
            ("From: a@b\r\n\r\n", nil), (String(repeating: "a", count: 100) + ": long\r\n", "no header section"),
            ("From alice@example.com Mon Nov 23 10:00:00 2026\nSubject: x\n\nbody", nil),
            ("From alice@example.com Mon Nov 23 10:00:00 2026\nnot a header\n", "no header section"),
        ] as [(String, String?)])
    func unreadableCriterion(_ raw: String, _ reason: String?) {
        let result = Array(raw.utf8).withUnsafeBufferPointer { UnreadableMessage.reason(raw: $0) }
        if let reason {
            #expect(result?.contains(reason) == true, "\(String(describing: result))")
        } else {
            #expect(result == nil)
        }
    }
}

@Suite("Quarantine: pipeline errors are kept, answered 250, and replayed once")
struct QuarantineTests {
    static func limited(_ limit: Int) -> PipelineSettings {
        var settings = PipelineFixture.defaultSettings
        settings.maximumAttachments = limit
        return settings
    }

    @Test func poisonIsQuarantinedAndTheNextMessagesGoThrough() async throws {
        let fixture = try PipelineFixture(settings: Self.limited(2))
        defer { fixture.tearDown() }
        let poison = mailWithAttachments(["a", "b", "c"], id: "poison@example.com")
        let results = await fixture.deliver(poison, to: ["support@localhost", "sales@localhost"])
        guard case .quarantined(let id) = results.first else {
            Issue.record("not quarantined: \(results)")
            return
        }
        #expect(results == [.quarantined(id: id), .quarantined(id: id)])
        for index in 0..<20 {
            #expect(await fixture.deliver(rawMail(subject: "after \(index)")) == [.created(ticket: index + 1)])
        }
        let entry = try #require(try await fixture.store.quarantinedMessage(id: id))
        #expect(entry.raw == Array(poison.utf8))
        #expect(entry.error.contains("3 attachments, more than the limit of 2"))
        #expect(entry.envelopeRecipients == ["support@localhost", "sales@localhost"])
        #expect(entry.replayedAt == nil)
        #expect(try await fixture.store.quarantinedMessages(limit: 10, offset: 0).map(\.id) == [id])
        let counts = try await fixture.store.dispositionCounts()
        #expect(counts[.quarantined] == 1 && counts[.created] == 20)
    }

    @Test func replayCreatesTheTicketOnceEvenWhenConcurrent() async throws {
        let fixture = try PipelineFixture(settings: Self.limited(2))
        defer { fixture.tearDown() }
        let results = await fixture.deliver(mailWithAttachments(["a", "b", "c"]))
        guard case .quarantined(let id) = results.first else {
            Issue.record("not quarantined: \(results)")
            return
        }
        // Still failing with the same settings: it stays in quarantine, no second entry.
        #expect(
            try await fixture.intake.replay(quarantineID: id)
                == .failed(reason: "\(PipelineError.tooManyAttachments(count: 3, limit: 2))"))
        #expect(try await fixture.store.quarantinedMessages(limit: 10, offset: 0).count == 1)

        // The operator raises the limit and replays, twice at the same time and once more afterwards.
        let raised = PipelineFixture.intake(store: fixture.store, settings: Self.limited(10))
        async let first = raised.replay(quarantineID: id)
        async let second = raised.replay(quarantineID: id)
        let outcomes = try await [first, second]
        let replayed = outcomes.filter { if case .replayed = $0 { true } else { false } }
        #expect(replayed.count == 1)
        #expect(
            replayed.first
                == .replayed([
                    RecipientOutcome(recipient: "support@localhost", queue: "support", result: .created(ticket: 1))
                ]))
        guard case .alreadyReplayed(let result) = try await raised.replay(quarantineID: id) else {
            Issue.record("a third replay ran again")
            return
        }
        #expect(result == "support: created #1")
        #expect(try await fixture.tickets().count == 1)
        #expect(try await fixture.store.ticket(number: 1)?.articles.first?.source == .replay)
        #expect(try await fixture.store.quarantinedMessage(id: id)?.replayedAt != nil)
        #expect(try await raised.replay(quarantineID: 999) == .notFound)
    }
}
