import Foundation
import Logging
import MailParser
import Synchronization
import TicketPipeline
import TicketStoreSQLite

/// A fresh directory under the system temporary directory, removed by `remove()`.
struct TemporaryDirectory {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent(
            "postdesk-pipeline-tests-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    var databasePath: String { url.appendingPathComponent("var/postdesk.db").path }

    func remove() {
        try? FileManager.default.removeItem(at: url)
    }
}

/// Hand-built parse results keyed by raw bytes, so pipeline tests do not depend on the MIME parser.
final class ParsedFixtures: Sendable {
    private let byRaw = Mutex<[[UInt8]: ParsedMessage]>([:])

    /// Registers `parsed` as the parse result of a raw message made unique by `body`, and returns the raw bytes.
    func message(_ parsed: ParsedMessage, body: String = UUID().uuidString) -> [UInt8] {
        var header = ""
        if let id = parsed.messageID { header += "Message-ID: <\(id)>\r\n" }
        if let subject = parsed.subject { header += "Subject: \(subject)\r\n" }
        let raw = Array((header + "\r\n" + body + "\r\n").utf8)
        byRaw.withLock { $0[raw] = parsed }
        return raw
    }

    var parse: @Sendable ([UInt8]) -> ParsedMessage {
        { raw in self.byRaw.withLock { $0[raw] } ?? ParsedMessage() }
    }
}

let supportQueue = QueueDefinition(
    name: "support", tag: "Support", addresses: ["support@localhost", "*@support.test"])
let salesQueue = QueueDefinition(name: "sales", tag: "Sales", addresses: ["sales@localhost"])

/// A store in a fresh temporary directory plus an intake over it.
struct IntakeFixture {
    let directory: TemporaryDirectory
    let store: SQLiteTicketStore
    let fixtures = ParsedFixtures()
    let intake: TicketIntake

    init(busyTimeout: TimeInterval = 5) throws {
        directory = try TemporaryDirectory()
        store = try SQLiteTicketStore(
            path: directory.databasePath, logger: Logger(label: "test.store"), busyTimeout: busyTimeout)
        let parse = fixtures.parse
        intake = TicketIntake(
            router: QueueRouter(queues: [supportQueue, salesQueue]), store: store,
            logger: Logger(label: "test.intake"), parse: { parse($0.bytes) })
    }

    func deliver(
        _ parsed: ParsedMessage, to recipients: [String] = ["support@localhost"], sender: String = "user@example.com",
        body: String = UUID().uuidString
    ) async -> [RecipientOutcome] {
        await deliver(raw: fixtures.message(parsed, body: body), to: recipients, sender: sender)
    }

    func deliver(
        raw: [UInt8], to recipients: [String] = ["support@localhost"], sender: String = "user@example.com"
    ) async -> [RecipientOutcome] {
        await intake.process(
            InboundMessage(
                sender: sender, recipients: recipients, raw: raw, source: .lmtp, receivedAt: Date(),
                sessionID: "test"))
    }

    func tearDown() {
        try? store.close()
        directory.remove()
    }
}

extension RecipientOutcome.Result {
    /// The ticket number of a stored (or already stored) message.
    var ticket: Int? {
        switch self {
        case .created(let ticket), .appended(let ticket), .duplicate(let ticket), .noted(let ticket): return ticket
        case .unknownRecipient, .temporaryFailure, .abandoned, .recorded, .quarantined: return nil
        }
    }

    var isTemporaryFailure: Bool {
        if case .temporaryFailure = self { return true }
        return false
    }
}

func mail(
    id: String?, subject: String = "Printer on fire", from: String = "Alice <alice@example.com>",
    inReplyTo: [String] = [], references: [String] = [], attachments: [ParsedAttachment] = []
) -> ParsedMessage {
    let address: MailAddress
    if let open = from.firstIndex(of: "<"), let close = from.firstIndex(of: ">") {
        address = MailAddress(
            name: String(from[..<open]).trimmingCharacters(in: .whitespaces),
            address: String(from[from.index(after: open)..<close]))
    } else {
        address = MailAddress(name: nil, address: from)
    }
    return ParsedMessage(
        messageID: id, subject: subject, from: [address], to: [MailAddress(name: nil, address: "support@localhost")],
        inReplyTo: inReplyTo, references: references, text: "Hello", attachments: attachments)
}

func attachment(_ content: String, name: String) -> ParsedAttachment {
    let data = Array(content.utf8)
    return ParsedAttachment(
        filename: name, contentType: "text/plain", data: data, sha256: sha256Hex(data), contentID: nil,
        disposition: "attachment")
}
