import Foundation
import Logging
import MailParser
import Testing
import TicketPipeline
import TicketStoreSQLite

/// The intake with the real MIME parser, on raw messages as Postfix hands them over.
@Suite("Intake with the real parser")
struct RealParserIntakeTests {
    private func raw(_ lines: [String]) -> [UInt8] {
        Array(lines.joined(separator: "\r\n").utf8) + Array("\r\n".utf8)
    }

    @Test func rawMessagesBecomeThreadedTicketsWithAttachments() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let logger = Logger(label: "test")
        let store = try SQLiteTicketStore(path: directory.databasePath, logger: logger)
        defer { try? store.close() }
        let intake = TicketIntake(
            router: QueueRouter(queues: [supportQueue, salesQueue]), store: store, logger: logger)
        func deliver(_ bytes: [UInt8], to recipients: [String] = ["support@localhost"]) async -> [RecipientOutcome] {
            await intake.process(
                InboundMessage(
                    sender: "bounce@example.com", recipients: recipients, raw: bytes, source: .lmtp,
                    sessionID: "s1"))
        }

        let original = raw([
            "From: =?UTF-8?Q?Ren=C3=A9e?= <Renee@Example.COM>",
            "To: Support <support@localhost>",
            "Cc: boss@example.com",
            "Subject: VPN broken",
            "Message-ID: <vpn-1@example.com>",
            "Date: Mon, 23 Nov 2026 10:00:00 +0000",
            "MIME-Version: 1.0",
            "Content-Type: multipart/mixed; boundary=\"b1\"",
            "",
            "--b1",
            "Content-Type: text/plain; charset=utf-8",
            "",
            "The VPN drops every minute.",
            "--b1",
            "Content-Type: text/plain; name=\"log.txt\"",
            "Content-Disposition: attachment; filename=\"log.txt\"",
            "Content-Transfer-Encoding: base64",
            "",
            "ZXJyb3IgbG9nCg==",
            "--b1--",
        ])
        let first = await deliver(original)
        #expect(first.map(\.result) == [.created(ticket: 1)])

        let byReferences = raw([
            "From: renee@example.com",
            "To: support@localhost",
            "Subject: Re: VPN broken",
            "Message-ID: <vpn-2@example.com>",
            "In-Reply-To: <vpn-1@example.com>",
            "References: <vpn-1@example.com>",
            "",
            "Still broken.",
        ])
        #expect(await deliver(byReferences).map(\.result) == [.appended(ticket: 1)])

        let byTag = raw([
            "From: renee@example.com",
            "To: support@localhost",
            "Subject: =?UTF-8?Q?AW=3A_=5BSupport_=231=5D_VPN?=",
            "Message-ID: <vpn-3@example.com>",
            "",
            "Fixed, thanks.",
        ])
        #expect(await deliver(byTag).map(\.result) == [.appended(ticket: 1)])
        #expect(await deliver(byTag).map(\.result) == [.duplicate(ticket: 1)])
        #expect(await deliver(byTag, to: ["sales@localhost"]).map(\.result) == [.created(ticket: 2)])

        let ticket = try #require(try await store.ticket(number: 1))
        #expect(ticket.subject == "VPN broken")
        #expect(ticket.requester?.address == "renee@example.com")
        #expect(ticket.requester?.name == "Renée")
        #expect(ticket.articles.count == 3)
        let article = try #require(ticket.articles.first)
        #expect(article.text.contains("The VPN drops every minute."))
        #expect(article.cc.map(\.address) == ["boss@example.com"])
        #expect(article.attachments.map(\.filename) == ["log.txt"])
        #expect(article.attachments.first?.size == "error log\n".utf8.count)
        #expect(try await store.blob(sha256: article.attachments[0].sha256) == Array("error log\n".utf8))
        #expect(try await store.rawMessage(articleID: article.id) == original)
        #expect(article.rawSHA256 == sha256Hex(original))
        #expect(ticket.articles[1].inReplyTo == ["vpn-1@example.com"])
    }
}
