import Foundation
import Logging
import MailParser
import MessageSpool
import TicketPipeline

/// Hands a fetched message to the intake contract and says what the session may do with it on the server.
struct MailboxSink: Sendable {
    /// What the session does next with the message on the server.
    enum Verdict: Sendable, Equatable {
        /// Committed (a ticket, an article, a record, or quarantine): the after-commit action may run.
        case committed(String)
        /// Not stored; left on the server and fetched again at the next synchronization.
        case retryLater(String)
        /// No queue takes it (no queue configured, no header names one, no triage queue): left on the server
        /// and not fetched again; on record in the mailbox's state.
        case unrouted
    }

    let settings: MailboxSettings
    let submit: @Sendable (InboundMessage) async -> [RecipientOutcome]
    let store: any TicketStore & MailboxStateStore
    let logger: Logger

    func deliver(_ raw: RawMessage, reference: String) async -> Verdict {
        let source: IntakeSource = settings.mailProtocol == .imap ? .imap : .pop3
        let message = InboundMessage(
            sender: "", recipients: [settings.recipientAddress], raw: raw, source: source,
            routing: settings.queue.map { .resolved([$0]) } ?? .fromHeaders, receivedAt: Date(),
            sessionID: "\(settings.name):\(reference)")
        guard let outcome = await submit(message).first else { return .retryLater("no outcome") }
        switch outcome.result {
        case .created(let ticket): return .committed("created #\(ticket)")
        case .appended(let ticket): return .committed("appended #\(ticket)")
        case .duplicate(let ticket): return .committed("duplicate of #\(ticket)")
        case .noted(let ticket): return .committed("noted on #\(ticket)")
        case .recorded(let disposition): return .committed("recorded (\(disposition.rawValue))")
        case .quarantined(let id): return .committed("quarantined (\(id))")
        case .unknownRecipient: return .unrouted
        case .temporaryFailure(let reason): return .retryLater(reason)
        case .abandoned(let why): return .retryLater(why.description)
        }
    }

    /// Header bytes of a too-large message read for its record, at most.
    static let headerLimit = 64 * 1024

    /// Puts a message too large to fetch on record (`postdesk messages list`), with what is known of it: its size
    /// and its From, Subject and Message-ID from `header` (the header fields alone, as the server sent them).
    func recordTooLarge(size: Int, reference: String, header: [UInt8], action: String) async throws {
        let settings = self.settings
        let parsed = MessageParser.parse(Array(header.prefix(Self.headerLimit)) + [13, 10, 13, 10])
        let record = NewMessageRecord(
            receivedAt: Date(), source: settings.mailProtocol == .imap ? .imap : .pop3,
            sessionID: "\(settings.name):\(reference)", envelopeSender: "",
            envelopeRecipients: [settings.recipientAddress], messageID: parsed.messageID, subject: parsed.subject,
            fromAddress: parsed.from.first?.address,
            rawSHA256: "", rawSize: size, classification: "too-large", disposition: .tooLarge, ticketNumber: nil,
            queues: settings.queue.map { [$0] } ?? [],
            decisions:
                "mailbox/max_message_size: \(size) bytes is over the limit of \(settings.maxMessageSize) bytes of "
                + "mailbox \(settings.name); not downloaded, \(action)")
        try await store.write { transaction in try transaction.recordMessage(record) }
    }
}
