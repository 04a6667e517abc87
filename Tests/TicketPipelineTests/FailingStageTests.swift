import Foundation
import Logging
import MailCommands
import MailParser
import MessageSpool
import Testing
import TicketPipeline

@testable import TicketStoreSQLite

/// A real SQLite store whose transactions fail, inside the writer, with a pipeline error when a ticket
/// with the subject `poison` is created: an injected failing stage, only for this unit test.
final class PoisonedStore: TicketStore {
    let inner: SQLiteTicketStore

    init(_ inner: SQLiteTicketStore) { self.inner = inner }

    func write<T: Sendable>(_ work: @escaping @Sendable (any TicketStoreTransaction) throws -> T) async throws -> T {
        try await inner.write { transaction in try work(PoisonedTransaction(inner: transaction)) }
    }

    func listTickets(limit: Int, offset: Int) async throws -> [TicketSummary] {
        try await inner.listTickets(limit: limit, offset: offset)
    }
    func ticket(number: Int) async throws -> TicketDetail? { try await inner.ticket(number: number) }
    func rawMessage(articleID: Int64) async throws -> [UInt8]? { try await inner.rawMessage(articleID: articleID) }
    func messageRecords(limit: Int, offset: Int) async throws -> [MessageRecord] {
        try await inner.messageRecords(limit: limit, offset: offset)
    }
    func messageRecord(id: Int64) async throws -> MessageRecord? { try await inner.messageRecord(id: id) }
    func dispositionCounts() async throws -> [MessageDisposition: Int] { try await inner.dispositionCounts() }
    func bounceRecords(unmatchedOnly: Bool, limit: Int) async throws -> [BounceRecord] {
        try await inner.bounceRecords(unmatchedOnly: unmatchedOnly, limit: limit)
    }
    func quarantinedMessages(limit: Int, offset: Int) async throws -> [QuarantineEntry] {
        try await inner.quarantinedMessages(limit: limit, offset: offset)
    }
    func quarantinedMessage(id: Int64) async throws -> QuarantineEntry? { try await inner.quarantinedMessage(id: id) }
    func nextOutboundMailDue() async throws -> Date? { try await inner.nextOutboundMailDue() }
}

struct PoisonedTransaction: TicketStoreTransaction {
    let inner: any TicketStoreTransaction

    func createTicket(_ ticket: NewTicket) throws -> Int {
        if ticket.subject == "poison" { throw PipelineError.stageFailed(stage: "injected", reason: "poison subject") }
        return try inner.createTicket(ticket)
    }

    func deliveredTicket(for key: DeliveryKey) throws -> Int? { try inner.deliveredTicket(for: key) }
    func ticketNumber(forArticleMessageID messageID: String, queue: String) throws -> Int? {
        try inner.ticketNumber(forArticleMessageID: messageID, queue: queue)
    }
    func ticketExists(number: Int, queue: String) throws -> Bool {
        try inner.ticketExists(number: number, queue: queue)
    }
    func upsertContact(address: String, name: String?) throws -> Int64 {
        try inner.upsertContact(address: address, name: name)
    }
    func storeRawMessage(sha256: String, message: RawMessage, receivedAt: Date) throws {
        try inner.storeRawMessage(sha256: sha256, message: message, receivedAt: receivedAt)
    }
    func addArticle(_ article: NewArticle) throws -> Int64 { try inner.addArticle(article) }
    func storeAttachment(_ attachment: ParsedAttachment, articleID: Int64, rawMessage: RawMessage) throws {
        try inner.storeAttachment(attachment, articleID: articleID, rawMessage: rawMessage)
    }
    func messageIDHolders(_ messageID: String) throws -> [MessageIDHolder] {
        try inner.messageIDHolders(messageID)
    }
    func recordDelivery(_ key: DeliveryKey, ticket: Int, articleID: Int64, at: Date, registersMessageID: Bool) throws {
        try inner.recordDelivery(
            key, ticket: ticket, articleID: articleID, at: at, registersMessageID: registersMessageID)
    }
    func contactID(address: String) throws -> Int64? { try inner.contactID(address: address) }
    func changeTicket(number: Int, _ change: TicketChange, actor: String, at: Date) throws -> [ActivityDetail]? {
        try inner.changeTicket(number: number, change, actor: actor, at: at)
    }
    func recordedDisposition(sameContentAs key: DeliveryKey) throws -> MessageDisposition? {
        try inner.recordedDisposition(sameContentAs: key)
    }
    func rememberRecorded(_ key: DeliveryKey, disposition: MessageDisposition, at: Date) throws {
        try inner.rememberRecorded(key, disposition: disposition, at: at)
    }
    func recordMessage(_ record: NewMessageRecord) throws {
        // The last write of a commit, after its outbox events: the whole write must roll back with it.
        if record.subject == "fail after events" {
            throw TicketStoreError(kind: .io, operation: "injected", path: "", underlying: "after the events")
        }
        try inner.recordMessage(record)
    }
    func recordEvent(_ event: NewOutboxEvent) throws -> String { try inner.recordEvent(event) }
    func addActivity(_ activity: NewActivity) throws { try inner.addActivity(activity) }
    func recordBounce(_ bounce: NewBounceRecord) throws { try inner.recordBounce(bounce) }
    func ticketNumber(forAnyArticleMessageID messageID: String) throws -> Int? {
        try inner.ticketNumber(forAnyArticleMessageID: messageID)
    }
    func countAutomatedMessage(sender: String, day: Date) throws -> Int {
        try inner.countAutomatedMessage(sender: sender, day: day)
    }
    func quarantine(_ entry: NewQuarantineEntry) throws -> Int64 { try inner.quarantine(entry) }
    func markReplayed(quarantineID: Int64, at: Date, result: String) throws {
        try inner.markReplayed(quarantineID: quarantineID, at: at, result: result)
    }
    func quarantineReplayed(id: Int64) throws -> Bool { try inner.quarantineReplayed(id: id) }
    func ticketState(number: Int) throws -> TicketState? { try inner.ticketState(number: number) }
    func isParticipant(address: String, ticket number: Int) throws -> Bool {
        try inner.isParticipant(address: address, ticket: number)
    }
    func setStatus(_ status: String, ticket number: Int, at: Date) throws {
        try inner.setStatus(status, ticket: number, at: at)
    }
    func enqueueOutboundMail(_ mail: NewOutboundMail) throws -> Int64 { try inner.enqueueOutboundMail(mail) }
    func outboundMailCount(recipient: String, kind: OutboundMailKind, since: Date) throws -> Int {
        try inner.outboundMailCount(recipient: recipient, kind: kind, since: since)
    }
    func dueOutboundMail(at now: Date, limit: Int) throws -> [OutboundMailItem] {
        try inner.dueOutboundMail(at: now, limit: limit)
    }
    func recordOutboundAttempt(id: Int64, outcome: OutboundMailOutcome) throws {
        try inner.recordOutboundAttempt(id: id, outcome: outcome)
    }
    func outboundMailSent(to recipient: String, since: Date) throws -> Bool {
        try inner.outboundMailSent(to: recipient, since: since)
    }
    func setTicketFields(_ fields: [TicketField], ticket: Int, at: Date) throws {
        try inner.setTicketFields(fields, ticket: ticket, at: at)
    }
    func setAccount(_ account: String, ticket: Int) throws { try inner.setAccount(account, ticket: ticket) }
    func openTicket(account: String, subject: String, queue: String) throws -> Int? {
        try inner.openTicket(account: account, subject: subject, queue: queue)
    }
    func requesterAddress(ticket number: Int) throws -> String? { try inner.requesterAddress(ticket: number) }
    func recordCommand(_ command: NewMailCommandRecord) throws { try inner.recordCommand(command) }
    func commandCount(sender: String, since: Date) throws -> Int {
        try inner.commandCount(sender: sender, since: since)
    }
    func markBouncing(address: String, reason: String, at: Date) throws {
        try inner.markBouncing(address: address, reason: reason, at: at)
    }
    func bouncing(address: String) throws -> BouncingAddress? { try inner.bouncing(address: address) }
    func clearBouncing(address: String) throws -> Bool { try inner.clearBouncing(address: address) }
}

@Suite("A stage failing inside the writer: quarantined, rolled back alone, the others unaffected")
struct FailingStageTests {
    @Test func failureInsideTheWriterQuarantinesOnlyThatMessage() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let sqlite = try SQLiteTicketStore(path: directory.databasePath, logger: Logger(label: "test"))
        defer { try? sqlite.close() }
        let intake = TicketIntake(
            router: QueueRouter(queues: [supportQueue]), store: PoisonedStore(sqlite), logger: Logger(label: "test"))
        // Concurrent deliveries, so the poison shares group-commit batches with ordinary messages.
        let results = await withTaskGroup(of: (String, RecipientOutcome.Result).self) { group in
            for index in 0..<40 {
                let subject = index == 13 ? "poison" : "ordinary \(index)"
                group.addTask {
                    let outcome = await intake.process(
                        InboundMessage(
                            sender: "a@example.com", recipients: ["support@localhost"],
                            raw: Array(rawMail(subject: subject).utf8), source: .lmtp))
                    return (subject, outcome[0].result)
                }
            }
            var results: [String: RecipientOutcome.Result] = [:]
            for await (subject, result) in group { results[subject] = result }
            return results
        }
        guard case .quarantined(let id)? = results["poison"] else {
            Issue.record("poison not quarantined: \(String(describing: results["poison"]))")
            return
        }
        #expect(results.filter { $0.key != "poison" }.allSatisfy { $0.value.ticket != nil })
        let tickets = try await sqlite.listTickets(limit: 100, offset: 0)
        #expect(tickets.count == 39)
        #expect(!tickets.contains { $0.subject == "poison" })
        // Nothing of the poison's own writes survived but its quarantine entry and record.
        let counts = try await sqlite.rowCounts()
        #expect(counts["articles"] == 39 && counts["raw_messages"] == 39)
        let entry = try #require(try await sqlite.quarantinedMessage(id: id))
        #expect(entry.error == "stage injected failed: poison subject")
        #expect(try await sqlite.dispositionCounts()[.quarantined] == 1)
    }
}
