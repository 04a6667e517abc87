import Foundation
import MailParser
import Testing
import TicketPipeline

/// The real-mail parser defects of issue 11, end to end: each raw message through `TicketIntake` into a real
/// SQLite store, checking what the ticket holds.
@Suite("Real-mail parser defects, through the intake")
struct RealMailDefectIntakeTests {
    @Test func multipartWithoutBoundaryBecomesAnAttachmentNotTheTicketText() async throws {
        let fixture = try PipelineFixture()
        defer { fixture.tearDown() }
        let pdf = "JVBERi0xLjQKJcfsj6IKNSAwIG9iago8PC9MZW5ndGggNiAwIFIvRmlsdGVyIC9GbGF0ZURlY29kZT4+"
        let raw = rawMail(
            from: "Scanner <scanner@customer.example>", subject: "Scan from the copier",
            headers: ["MIME-Version: 1.0", "Content-Type: multipart/mixed"], body: pdf + "\n")
        #expect(await fixture.deliver(raw) == [.created(ticket: 1)])
        let ticket = try #require(try await fixture.store.ticket(number: 1))
        #expect(ticket.subject == "Scan from the copier")
        let article = try #require(ticket.articles.first)
        #expect(!article.text.contains("JVBERi0"), "\(article.text)")
        let attachment = try #require(article.attachments.first)
        #expect(attachment.contentType == "multipart/mixed")
        let stored = try #require(try await fixture.store.blob(sha256: attachment.sha256))
        #expect(String(decoding: stored, as: UTF8.self).contains(pdf))
    }

    @Test func binaryPartWithoutContentTypeIsAnAttachment() async throws {
        let fixture = try PipelineFixture()
        defer { fixture.tearDown() }
        let zip = Data([0x50, 0x4B, 0x03, 0x04, 0x14, 0x00, 0x00, 0x00, 0x08, 0x00, 0xC3, 0x00])
        let raw = rawMail(
            subject: "Logs", headers: ["MIME-Version: 1.0", "Content-Type: multipart/mixed; boundary=\"b\""],
            body: "--b\nContent-Type: text/plain; charset=utf-8\n\nLogs attached, Grüße.\n--b\n"
                + "Content-Transfer-Encoding: base64\n\n\(zip.base64EncodedString())\n--b--\n")
        #expect(await fixture.deliver(raw) == [.created(ticket: 1)])
        let article = try #require(try await fixture.store.ticket(number: 1)?.articles.first)
        #expect(article.text.hasPrefix("Logs attached, Grüße."))
        let attachment = try #require(article.attachments.first)
        #expect(attachment.contentType == "application/octet-stream")
        #expect(try await fixture.store.blob(sha256: attachment.sha256) == Array(zip))
    }

    @Test func quotedLocalPartKeepsItsBlanksAsTheRequester() async throws {
        let fixture = try PipelineFixture()
        defer { fixture.tearDown() }
        let raw = rawMail(
            from: "=?UTF-8?Q?Syst=C3=A8me?= <\"System Administrator\"@example.com>", subject: "Disk full")
        #expect(await fixture.deliver(raw, sender: "admin@example.com") == [.created(ticket: 1)])
        let ticket = try #require(try await fixture.store.ticket(number: 1))
        let requester = try #require(ticket.requester)
        #expect(requester.address.lowercased() == "\"system administrator\"@example.com")
        #expect(requester.address != "systemadministrator@example.com")
        #expect(requester.name == "Système")
        #expect(ticket.articles.first?.from?.address == "\"System Administrator\"@example.com")
    }

    @Test(arguments: ["\r\n", "  \r\n", "\t\r\n \r\n"])
    func blankFirstLineIsStillMail(_ prefix: String) async throws {
        let fixture = try PipelineFixture()
        defer { fixture.tearDown() }
        let raw = prefix + rawMail(from: "\"Jürgen Müller\" <jm@customer.example>", subject: "Drucker", body: "Hallo")
        #expect(await fixture.deliver(raw) == [.created(ticket: 1)])
        let ticket = try #require(try await fixture.store.ticket(number: 1))
        #expect(ticket.subject == "Drucker")
        #expect(ticket.requester?.name == "Jürgen Müller")
        #expect(ticket.activities.allSatisfy { $0.kind != "error" })
        #expect(ticket.articles.first?.text == "Hallo")
        #expect(try await fixture.records().first?.disposition != .errorTicket)
        let article = try #require(ticket.articles.first)
        #expect(try await fixture.store.rawMessage(articleID: article.id) == Array(raw.utf8))
    }
}
