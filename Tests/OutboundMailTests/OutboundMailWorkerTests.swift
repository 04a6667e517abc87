import Foundation
import Logging
import MailParser
import Testing
import TicketPipeline

@testable import OutboundMail

@Suite("The outbound worker: queued acknowledgements reach the relay; 4xx retried, 5xx failed with an activity")
struct OutboundMailWorkerTests {
    static func worker(_ fixture: AcknowledgingIntake, port: Int) throws -> OutboundMailWorker {
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
            options: OutboundMailWorker.Options(instanceName: "desk.test", initialRetryDelay: .seconds(30)),
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
        // The refusal flags the address, as a bounce would: the next acknowledgement to it is suppressed (never
        // submitted) and noted on its ticket.
        let flag = try await fixture.store.write { try $0.bouncing(address: "kunde@example.org") }
        #expect(flag?.reason.hasPrefix("5") == true, "\(String(describing: flag))")
        guard case .created(let second) = await fixture.deliver(customerMail(subject: "Zweiter Versuch – bitte"))
        else { return }
        #expect(await worker.sendDue() == 1)
        #expect(try await fixture.queued().isEmpty)
        let suppressed = try await fixture.store.outboundMailRecords(state: "suppressed", limit: 10)
        #expect(suppressed.map(\.ticketNumber) == [second])
        // Not attempted: the refusing relay would have made it `failed`.
        #expect(suppressed.first?.attempts == 0)
        #expect(suppressed.first?.lastResult?.hasPrefix("suppressed: kunde@example.org is bouncing since ") == true)
        let secondDetail = try #require(try await fixture.store.ticket(number: second))
        #expect(secondDetail.activities.contains { $0.kind == "outbound-suppressed" })
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
