import Foundation
import Logging
import MailParser
import MessageSpool
import Testing
import TicketPipeline
import TicketStoreSQLite

/// A large message arrives as a mapped spool file; the pipeline parses it and the store copies it and decodes
/// its attachment in chunks, with the same result as for a message in memory.
@Suite("Intake of spooled messages")
struct SpooledIntakeTests {
    static func payload(count: Int) -> [UInt8] {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        return (0..<count).map { _ in
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            return UInt8(truncatingIfNeeded: state)
        }
    }

    static func message(subject: String, attachment: [UInt8]) -> [UInt8] {
        let encoded = Data(attachment).base64EncodedString(
            options: [.lineLength76Characters, .endLineWithCarriageReturn, .endLineWithLineFeed])
        let text = [
            "From: Big Sender <big@example.com>", "To: support@localhost", "Subject: \(subject)",
            "Message-ID: <\(subject.replacingOccurrences(of: " ", with: "-"))@example.com>", "MIME-Version: 1.0",
            "Content-Type: multipart/mixed; boundary=\"b\"", "", "--b", "Content-Type: text/plain", "",
            "The scan is attached.", "--b", "Content-Type: application/pdf; name=\"scan.pdf\"",
            "Content-Transfer-Encoding: base64", "", encoded, "--b--", "",
        ].joined(separator: "\r\n")
        return Array(text.utf8)
    }

    static func spooled(_ bytes: [UInt8], in directory: String) throws -> RawMessage {
        try SpoolDirectory.prepare(directory)
        let writer = try SpoolFileWriter(directory: directory)
        // In pieces, as DATA arrives.
        var offset = 0
        while offset < bytes.count {
            let end = min(bytes.count, offset + 100_000)
            try writer.append(Array(bytes[offset..<end]))
            offset = end
        }
        return try writer.finish()
    }

    @Test func aSpooledMessageIsStoredWholeWithItsAttachmentDecodedInChunks() async throws {
        var policy = QueuePolicy()
        policy.attachRawMessage = true
        let fixture = try PipelineFixture(support: policy)
        defer { fixture.tearDown() }
        let attachment = Self.payload(count: 3_000_000)
        let bytes = Self.message(subject: "large scan", attachment: attachment)
        let spool = fixture.directory.url.appendingPathComponent("spool").path
        let raw = try Self.spooled(bytes, in: spool)
        #expect(raw.isSpooled)

        let outcome = await fixture.intake.process(
            InboundMessage(sender: "big@example.com", recipients: ["support@localhost"], raw: raw, source: .lmtp))
        #expect(outcome.map(\.result) == [.created(ticket: 1)])
        let ticket = try #require(try await fixture.store.ticket(number: 1))
        let article = try #require(ticket.articles.first)
        #expect(article.text == "The scan is attached.")
        #expect(article.rawSize == bytes.count)
        #expect(article.attachments.map(\.filename) == ["scan.pdf", "message.eml"])
        let scan = article.attachments[0]
        #expect(scan.size == attachment.count)
        #expect(scan.sha256 == sha256Hex(attachment))
        #expect(try await fixture.store.blob(sha256: scan.sha256) == attachment)
        #expect(try await fixture.store.blob(sha256: article.attachments[1].sha256) == bytes)
        #expect(try await fixture.store.rawMessage(articleID: article.id) == bytes)

        // The same bytes again, in memory this time: recognised as the same message, nothing stored twice.
        let again = await fixture.intake.process(
            InboundMessage(sender: "big@example.com", recipients: ["support@localhost"], raw: bytes, source: .lmtp))
        #expect(again.map(\.result) == [.duplicate(ticket: 1)])
    }

    @Test func aSpooledMessageThatFailsIsQuarantinedWithAllItsBytes() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let sqlite = try SQLiteTicketStore(path: directory.databasePath, logger: Logger(label: "test"))
        defer { try? sqlite.close() }
        let intake = TicketIntake(
            router: QueueRouter(queues: [supportQueue]), store: PoisonedStore(sqlite), logger: Logger(label: "test"))
        let bytes = Self.message(subject: "poison", attachment: Self.payload(count: 2_000_000))
        let raw = try Self.spooled(bytes, in: directory.url.appendingPathComponent("spool").path)
        let outcome = await intake.process(
            InboundMessage(sender: "big@example.com", recipients: ["support@localhost"], raw: raw, source: .lmtp))
        guard case .quarantined(let id) = outcome.first?.result else {
            Issue.record("expected quarantine, got \(outcome)")
            return
        }
        let entry = try #require(try await sqlite.quarantinedMessage(id: id))
        #expect(entry.size == bytes.count)
        #expect(entry.raw == bytes)
    }
}
