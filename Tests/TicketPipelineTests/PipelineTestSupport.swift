import Foundation
import Logging
import MailClassification
import MailParser
import TicketPipeline

@testable import TicketStoreSQLite

/// A store in a fresh temporary directory and an intake over it that parses with the real MIME parser, with
/// the queue policies and settings a test needs.
struct PipelineFixture {
    let directory: TemporaryDirectory
    let store: SQLiteTicketStore
    let intake: TicketIntake
    static let signer = MessageIDSigner(secret: Array("0123456789abcdef-test-secret".utf8), domain: "helpdesk.test")

    init(
        support: QueuePolicy = QueuePolicy(), sales: QueuePolicy = QueuePolicy(),
        settings: PipelineSettings = PipelineFixture.defaultSettings
    ) throws {
        directory = try TemporaryDirectory()
        store = try SQLiteTicketStore(path: directory.databasePath, logger: Logger(label: "test.store"))
        intake = Self.intake(store: store, support: support, sales: sales, settings: settings)
    }

    static var defaultSettings: PipelineSettings {
        PipelineSettings(
            ownMail: OwnMailConfiguration(
                instanceName: "helpdesk-test", messageIDDomains: ["helpdesk.test"],
                ownAddresses: ["support@localhost", "sales@localhost"]),
            messageIDs: signer)
    }

    static func intake(
        store: SQLiteTicketStore, support: QueuePolicy = QueuePolicy(), sales: QueuePolicy = QueuePolicy(),
        settings: PipelineSettings = PipelineFixture.defaultSettings
    ) -> TicketIntake {
        var supportQueue = supportQueue
        supportQueue.policy = support
        var salesQueue = salesQueue
        salesQueue.policy = sales
        return TicketIntake(
            router: QueueRouter(queues: [supportQueue, salesQueue]), store: store,
            logger: Logger(label: "test.intake"), settings: settings)
    }

    @discardableResult
    func deliver(
        _ raw: String, to recipients: [String] = ["support@localhost"], sender: String = "alice@example.com",
        source: IntakeSource = .lmtp
    ) async -> [RecipientOutcome.Result] {
        await intake.process(
            InboundMessage(
                sender: sender, recipients: recipients, raw: Array(raw.utf8), source: source, receivedAt: Date(),
                sessionID: "test")
        ).map(\.result)
    }

    func tickets() async throws -> [TicketSummary] {
        try await store.listTickets(limit: 1000, offset: 0)
    }

    func records() async throws -> [MessageRecord] {
        try await store.messageRecords(limit: 1000, offset: 0)
    }

    func tearDown() {
        try? store.close()
        directory.remove()
    }
}

/// An RFC 5322 message with CRLF line ends; `headers` are extra header lines.
func rawMail(
    from: String = "Alice <alice@example.com>", to: String = "support@localhost", cc: String? = nil,
    subject: String = "Printer on fire", id: String? = UUID().uuidString + "@example.com", headers: [String] = [],
    body: String = "Hello,\nplease help.\n"
) -> String {
    var lines = ["From: \(from)", "To: \(to)"]
    if let cc { lines.append("Cc: \(cc)") }
    lines.append("Subject: \(subject)")
    if let id { lines.append("Message-ID: <\(id)>") }
    lines.append("Date: Mon, 23 Nov 2026 10:00:00 +0000")
    lines += headers
    if !headers.contains(where: { $0.lowercased().hasPrefix("content-type:") }) {
        lines.append("Content-Type: text/plain; charset=utf-8")
    }
    return (lines.joined(separator: "\r\n") + "\r\n\r\n" + body).replacingOccurrences(of: "\r\n", with: "\n")
        .replacingOccurrences(of: "\n", with: "\r\n")
}

/// A Postfix DSN bouncing the message `originalID` sent to `failed`.
func postfixBounce(originalID: String, failed: String = "nobody@customer.example") -> String {
    let boundary = "4F1C22A0.1763892002/mail.helpdesk.test"
    return """
        Return-Path: <>
        From: MAILER-DAEMON@mail.helpdesk.test (Mail Delivery System)
        Subject: Undelivered Mail Returned to Sender
        To: support@localhost
        Auto-Submitted: auto-replied
        MIME-Version: 1.0
        Content-Type: multipart/report; report-type=delivery-status; boundary="\(boundary)"
        Message-Id: <\(UUID().uuidString)@mail.helpdesk.test>

        --\(boundary)
        Content-Type: text/plain; charset=utf-8

        I'm sorry to have to inform you that your message could not be delivered.

        --\(boundary)
        Content-Type: message/delivery-status

        Reporting-MTA: dns; mail.helpdesk.test

        Final-Recipient: rfc822; \(failed)
        Action: failed
        Status: 5.1.1
        Diagnostic-Code: smtp; 550 5.1.1 <\(failed)>: Recipient address rejected: User unknown

        --\(boundary)
        Content-Type: message/rfc822

        From: Support <support@localhost>
        To: \(failed)
        Subject: [Support #1] Your printer
        Message-ID: <\(originalID)>

        We are looking into it.

        --\(boundary)--
        """.replacingOccurrences(of: "\n", with: "\r\n")
}

/// A multipart message with one attachment per name in `names`, each `size` bytes.
func mailWithAttachments(_ names: [String], size: Int = 8, id: String = UUID().uuidString + "@example.com")
    -> String
{
    let boundary = "b-\(UUID().uuidString)"
    var text = rawMail(
        subject: "Files", id: id,
        headers: ["MIME-Version: 1.0", "Content-Type: multipart/mixed; boundary=\"\(boundary)\""],
        body: "")
    text += "--\(boundary)\r\nContent-Type: text/plain\r\n\r\nSee attached.\r\n"
    for name in names {
        text += "--\(boundary)\r\nContent-Type: application/octet-stream\r\n"
        text += "Content-Disposition: attachment; filename=\"\(name)\"\r\n\r\n"
        text += String(repeating: "x", count: size) + "\r\n"
    }
    return text + "--\(boundary)--\r\n"
}
