import Foundation
import Logging
import MailClassification
import MailParser
import TicketPipeline
import TicketStoreSQLite

/// A scratch directory removed at the end of a test.
struct ScratchDirectory {
    let path: String

    init() throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("outbound-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        chmod(path, 0o777)
    }

    func file(_ name: String) -> String { path + "/" + name }
    func remove() { try? FileManager.default.removeItem(atPath: path) }
}

let acknowledgingQueue: QueueDefinition = {
    var policy = QueuePolicy()
    policy.acknowledgement = AcknowledgementRule(perAddressPerHour: 3)
    return QueueDefinition(name: "support", tag: "Support", addresses: ["support@localhost"], policy: policy)
}()

let testSigner = MessageIDSigner(secret: Array("0123456789abcdef-test-secret".utf8), domain: "desk.test")

/// A real SQLite store and the real pipeline over it, the queue acknowledging.
struct AcknowledgingIntake {
    let directory: ScratchDirectory
    let store: SQLiteTicketStore
    let intake: TicketIntake

    init(agents: [String] = []) throws {
        directory = try ScratchDirectory()
        var queue = acknowledgingQueue
        queue.policy.notifiedAgents = agents
        store = try SQLiteTicketStore(path: directory.file("postdesk.db"), logger: Logger(label: "test.store"))
        intake = TicketIntake(
            router: QueueRouter(queues: [queue]), store: store, logger: Logger(label: "test.intake"),
            settings: PipelineSettings(
                ownMail: OwnMailConfiguration(instanceName: "desk.test", ownAddresses: ["support@localhost"]),
                messageIDs: testSigner))
    }

    @discardableResult
    func deliver(_ raw: String, sender: String = "kunde@example.org") async -> RecipientOutcome.Result {
        await intake.process(
            InboundMessage(
                sender: sender, recipients: ["support@localhost"], raw: Array(raw.utf8), source: .lmtp))[0].result
    }

    func queued() async throws -> [OutboundMailItem] {
        try await store.write { try $0.dueOutboundMail(at: Date().addingTimeInterval(86_400 * 30), limit: 100) }
    }

    func tearDown() {
        try? store.close()
        directory.remove()
    }
}

func customerMail(
    from: String = "=?UTF-8?Q?J=C3=BCrgen_Gro=C3=9F?= <kunde@example.org>", subject: String = "Drucker brennt – Hilfe!",
    id: String = UUID().uuidString + "@example.org", headers: [String] = [], body: String = "Grüße aus Köln\n"
) -> String {
    (["From: \(from)", "To: support@localhost", "Subject: \(subject)", "Message-ID: <\(id)>"] + headers
        + ["MIME-Version: 1.0", "Content-Type: text/plain; charset=UTF-8", "Content-Transfer-Encoding: 8bit", ""])
        .joined(separator: "\r\n") + "\r\n" + body
}
