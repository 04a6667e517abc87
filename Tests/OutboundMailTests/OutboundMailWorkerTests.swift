import Foundation
import Logging
import MailParser
import TestSupport
import Testing
import TicketPipeline

@testable import OutboundMail

@Suite("The outbound worker: queued acknowledgements reach the relay; 4xx retried, 5xx failed with an activity")
struct OutboundMailWorkerTests {
    static func worker(
        _ fixture: AcknowledgingIntake, port: Int, pollInterval: Duration = .seconds(1)
    ) throws -> OutboundMailWorker {
        OutboundMailWorker(
            store: fixture.store,
            transport: SMTPSubmissionClient(
                settings: SMTPRelaySettings(
                    host: "127.0.0.1", port: port, heloName: "desk.test", stepTimeout: .seconds(30))),
            signer: testSigner,
            queues: [
                "support": OutboundQueueSettings(
                    tag: "Support", from: MailAddress(name: "Support", address: "support@localhost"),
                    acknowledgement: try OutboundTemplates())
            ],
            options: OutboundMailWorker.Options(
                instanceName: "desk.test", pollInterval: pollInterval, initialRetryDelay: .seconds(30)),
            logger: Logger(label: "test.outbound"))
    }

    @Test func anAcknowledgementIsSentWithOurHeadersAndParsesBack() async throws {
        let fixture = try AcknowledgingIntake()
        defer { fixture.tearDown() }
        let sink = try await SMTPSinkProcess(in: fixture.directory)
        defer { sink.stop() }
        guard case .created(let ticket) = await fixture.deliver(customerMail(id: "orig-1@example.org")) else {
            Issue.record("no ticket")
            return
        }
        let worker = try Self.worker(fixture, port: sink.port)
        #expect(await worker.sendDue() == 1)
        #expect(try await fixture.queued().isEmpty)
        let dump = try #require(sink.dumps().first)
        #expect(dump.contains("X-Rcpt-Args: <kunde@example.org>"))
        let message = try #require(dump.range(of: "Date: ")).lowerBound
        let parsed = MessageParser.parse(Array(dump[message...].utf8))
        #expect(parsed.subject == "[Support #\(ticket)] Drucker brennt – Hilfe!")
        #expect(parsed.to.first?.name == "Jürgen Groß")
        #expect(parsed.inReplyTo == ["orig-1@example.org"])
        #expect(testSigner.ticket(fromMessageID: try #require(parsed.messageID)) == ticket)
        #expect(parsed.headers.contains { $0.name == "Auto-Submitted" && $0.value == "auto-replied" })
        #expect(parsed.headers.contains { $0.name == "X-Auto-Response-Suppress" && $0.value == "All" })
        #expect(parsed.text.contains("Hello Jürgen Groß,"))
        #expect(parsed.text.contains("\"Drucker brennt – Hilfe!\""))
        #expect(parsed.text.contains("[Support #\(ticket)]"))
        let detail = try #require(try await fixture.store.ticket(number: ticket))
        #expect(detail.activities.contains { $0.kind == "outbound-sent" })
    }

    @Test func aRefusedRecipientMarksTheMailFailedWithAnActivity() async throws {
        let fixture = try AcknowledgingIntake()
        defer { fixture.tearDown() }
        let sink = try await SMTPSinkProcess(in: fixture.directory, options: ["-f", "RCPT"])
        defer { sink.stop() }
        guard case .created(let ticket) = await fixture.deliver(customerMail()) else { return }
        let worker = try Self.worker(fixture, port: sink.port)
        #expect(await worker.sendDue() == 1)
        #expect(try await fixture.queued().isEmpty)
        let detail = try #require(try await fixture.store.ticket(number: ticket))
        let failure = try #require(detail.activities.first { $0.kind == "outbound-failed" })
        #expect(failure.text.hasPrefix("acknowledgement to kunde@example.org refused: 5"))
        // smtp-sink's refusal is `500 5.3.0`: nothing about the mailbox, so the address is not flagged and the next
        // acknowledgement is tried (and refused) again.
        #expect(try await fixture.store.write { try $0.bouncing(address: "kunde@example.org") } == nil)
        guard case .created = await fixture.deliver(customerMail(subject: "Zweiter Versuch – bitte")) else { return }
        #expect(await worker.sendDue() == 1)
        #expect(try await fixture.store.outboundMailRecords(state: "failed", limit: 10).count == 2)
        #expect(try await fixture.store.outboundMailRecords(state: "suppressed", limit: 10).isEmpty)
    }

    @Test func aDeliveryClearsTheFlagOfAnAddressFlaggedWhileItWasOnItsWay() async throws {
        let fixture = try AcknowledgingIntake()
        defer { fixture.tearDown() }
        let sink = try await SMTPSinkProcess(in: fixture.directory)
        defer { sink.stop() }
        guard case .created = await fixture.deliver(customerMail(subject: "Grüße – unterwegs")) else { return }
        let item = try #require(try await fixture.queued().first)
        // A bounce of older mail flags the address after this mail was taken from the queue.
        try await fixture.store.write {
            try $0.markBouncing(address: "kunde@example.org", reason: "5.1.1 mailbox unknown", at: Date())
        }
        let worker = try Self.worker(fixture, port: sink.port)
        await worker.attempt(item, now: Date())
        #expect(sink.dumps().count == 1)
        #expect(try await fixture.store.write { try $0.bouncing(address: "kunde@example.org") } == nil)
        #expect(try await fixture.store.bouncingAddresses(limit: 10).items.isEmpty)
    }

    /// An agent's reply with Cc participants is one mail: every copy shows the same To and Cc and carries the same
    /// Message-ID, while the envelope names its own recipient alone, so nobody gets it twice, a reply-all reaches
    /// everyone, and a bouncing participant's copy is suppressed without holding the others back.
    @Test func theCopiesOfAReplyShowEveryoneAndAreSentAndSuppressedOneByOne() async throws {
        let fixture = try AcknowledgingIntake()
        defer { fixture.tearDown() }
        let sink = try await SMTPSinkProcess(in: fixture.directory)
        defer { sink.stop() }
        guard case .created(let ticket) = await fixture.deliver(customerMail(id: "orig@example.org")) else {
            Issue.record("no ticket")
            return
        }
        let worker = try Self.worker(fixture, port: sink.port)
        #expect(await worker.sendDue() == 1, "the acknowledgement")
        let requester = MailAddress(name: "Jürgen Groß", address: "kunde@example.org")
        let cc = [
            MailAddress(name: "Zoë Ångström", address: "zoe@example.org"),
            MailAddress(name: "Σοφία Παπαδοπούλου", address: "sofia@example.org"),
            MailAddress(name: nil, address: "gone@example.org"),
        ]
        let ids = try await fixture.store.write { transaction in
            try transaction.markBouncing(address: "gone@example.org", reason: "5.1.1 mailbox unknown", at: Date())
            return try transaction.enqueueReply(
                ticket: ticket, queue: "support", to: requester, cc: cc, subject: "Re: Drucker – 打印机",
                text: "Der Techniker kommt. 日本語", inReplyTo: "orig@example.org", references: ["orig@example.org"],
                at: Date())
        }
        #expect(ids.count == 4)
        #expect(await worker.sendDue() == 4)

        let dumps = sink.dumps().filter { $0.contains("Re: Drucker") }
        #expect(dumps.count == 3, "the bouncing participant's copy is not sent")
        let envelopes = dumps.map { dump in
            dump.split(separator: "\n").filter { $0.hasPrefix("X-Rcpt-Args: ") }.map { String($0.dropFirst(13)) }
        }
        #expect(
            envelopes.sorted { $0.description < $1.description }
                == [["<kunde@example.org>"], ["<sofia@example.org>"], ["<zoe@example.org>"]])
        let parsed = try dumps.map { dump in
            MessageParser.parse(Array(dump[try #require(dump.range(of: "Date: ")).lowerBound...].utf8))
        }
        for mail in parsed {
            #expect(mail.to == [requester])
            #expect(mail.cc == cc, "\(mail.cc)")
            #expect(mail.subject == "[Support #\(ticket)] Re: Drucker – 打印机")
            #expect(mail.text.contains("日本語"))
        }
        #expect(Set(parsed.compactMap(\.messageID)) == [testSigner.messageID(ticket: ticket, article: ids[0])])
        let records = try await fixture.store.outboundMailRecords(limit: 10).filter { $0.kind == "reply" }
        #expect(records.filter { $0.state == "sent" }.count == 3)
        #expect(records.first { $0.recipient == "gone@example.org" }?.state == "suppressed")
    }

    /// An idle queue costs a read per poll, never a commit (and its fsync) on the writer that intake waits for; mail
    /// queued meanwhile is still sent at the next poll.
    @Test func anIdleQueueCommitsNothing() async throws {
        let fixture = try AcknowledgingIntake()
        defer { fixture.tearDown() }
        let sink = try await SMTPSinkProcess(in: fixture.directory)
        defer { sink.stop() }
        let worker = try Self.worker(fixture, port: sink.port, pollInterval: .milliseconds(20))
        let running = Task { await worker.run() }
        try await Task.sleep(for: .milliseconds(200))
        let commitsWhenIdle = fixture.store.commitStatistics.commits
        try await Task.sleep(for: .milliseconds(600))
        #expect(fixture.store.commitStatistics.commits == commitsWhenIdle, "about 30 polls, no commit")

        guard case .created = await fixture.deliver(customerMail(subject: "Grüße – 你好")) else {
            Issue.record("no ticket")
            running.cancel()
            return
        }
        // smtp-sink creates its dump file when the transaction starts and removes it if the connection drops before
        // the end, so the worker is stopped only once the store has recorded the mail sent.
        _ = try await waitUntil(seconds: 60, interval: .milliseconds(25)) {
            try await fixture.store.outboundMailRecords(limit: 10).contains { $0.state == "sent" }
        }
        running.cancel()
        await running.value
        #expect(sink.dumps().count == 1, "the acknowledgement is sent at the next poll")
    }

    @Test func aMailAboutNoTicketIsListedWithoutATicketNumber() async throws {
        let fixture = try AcknowledgingIntake()
        defer { fixture.tearDown() }
        // A refused command's answer belongs to no ticket.
        _ = try await fixture.store.write {
            try $0.enqueueOutboundMail(
                NewOutboundMail(
                    kind: .commandResponse, ticketNumber: nil, queue: "support",
                    recipient: MailAddress(name: "Zoë", address: "zoe@example.org"), subject: "Befehl abgelehnt",
                    inReplyTo: nil, references: [], text: "Unbekannter Befehl", createdAt: Date()))
        }
        let records = try await fixture.store.outboundMailRecords(limit: 10)
        #expect(records.count == 1)
        #expect(records.first?.ticketNumber == nil)
        #expect(records.first?.kind == "command-response")
    }

    @Test func onlyAMailboxRefusalFlagsTheAddress() {
        #expect(
            OutboundMailWorker.refusesTheMailbox(
                SMTPReply(code: 550, lines: ["5.1.1 <a@b>: Recipient address rejected"])))
        #expect(OutboundMailWorker.refusesTheMailbox(SMTPReply(code: 550, lines: ["5.2.1 mailbox disabled"])))
        #expect(!OutboundMailWorker.refusesTheMailbox(SMTPReply(code: 554, lines: ["5.7.1 Relay access denied"])))
        #expect(!OutboundMailWorker.refusesTheMailbox(SMTPReply(code: 550, lines: ["no such user"])))
        #expect(!OutboundMailWorker.refusesTheMailbox(SMTPReply(code: 450, lines: ["4.1.1 try again"])))
    }

    @Test func theRelayDownIsRetriedAndDeliveredOnceItIsBack() async throws {
        let fixture = try AcknowledgingIntake()
        defer { fixture.tearDown() }
        let port = try SMTPSinkProcess.freePort()
        guard case .created = await fixture.deliver(customerMail()) else { return }
        let worker = try Self.worker(fixture, port: port)
        let start = Date()
        #expect(await worker.sendDue(now: start) == 1)
        // Deferred: not due again before the retry delay, still queued.
        #expect(await worker.sendDue(now: start.addingTimeInterval(10)) == 0)
        #expect(try await fixture.queued().first?.attempts == 1)
        let sink = try await SMTPSinkProcess(in: fixture.directory, port: port)
        defer { sink.stop() }
        #expect(await worker.sendDue(now: start.addingTimeInterval(31)) == 1)
        #expect(try await fixture.queued().isEmpty)
        #expect(sink.dumps().count == 1)
    }

    @Test func theBuiltInTemplateIsTheRepositorysFile() throws {
        let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("templates/acknowledgement.txt.mustache")
        let text = try String(contentsOf: file, encoding: .utf8)
        #expect(text == OutboundTemplates.defaultAcknowledgementText)
    }
}
