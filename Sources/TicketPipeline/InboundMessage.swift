import Foundation
import MessageSpool

/// Where a message entered Postdesk. Every source goes through the same pipeline and the same commit.
public enum IntakeSource: String, Sendable, Codable, Hashable {
    /// `api`: written through the HTTP API (an internal note, an agent reply).
    case lmtp, smtp, deliver, replay, imap, pop3, api
}

/// How the pipeline finds each recipient's queue.
public enum RecipientRouting: Sendable, Hashable {
    /// Each recipient's queue name, in recipient order, decided when the source accepted it (RCPT on LMTP and
    /// SMTP, a mailbox's configured queue); nil for a recipient no queue receives.
    case resolved([String?])
    /// Each recipient's address is looked up; an address no queue receives is an unknown recipient.
    case byRecipientAddress
    /// The source cannot refuse a recipient (`deliver`, replay, a mailbox without a queue): an address no queue
    /// receives is routed by the message's own headers, then to the triage queue.
    case fromHeaders
}

/// One message as handed over by a transport: the envelope plus the raw bytes, not yet parsed.
public struct InboundMessage: Sendable {
    /// Envelope sender (MAIL FROM); `""` for the null sender `<>`.
    public var sender: String
    /// Envelope recipients (RCPT TO), in order; one outcome is returned per entry.
    public var recipients: [String]
    /// The message exactly as received (after dot-unstuffing): in memory, or a mapped spool file when large.
    public var raw: RawMessage
    public var source: IntakeSource
    public var routing: RecipientRouting
    public var receivedAt: Date
    /// The transport's session id, kept on the article so logs and tickets can be correlated.
    public var sessionID: String?

    public init(
        sender: String, recipients: [String], raw: [UInt8], source: IntakeSource, routing: RecipientRouting? = nil,
        receivedAt: Date = Date(), sessionID: String? = nil
    ) {
        self.init(
            sender: sender, recipients: recipients, raw: RawMessage(raw), source: source, routing: routing,
            receivedAt: receivedAt, sessionID: sessionID)
    }

    /// - Parameter routing: nil: LMTP and SMTP look each recipient up (they refused unknown ones at RCPT), every
    ///   other source routes from the headers.
    public init(
        sender: String, recipients: [String], raw: RawMessage, source: IntakeSource, routing: RecipientRouting? = nil,
        receivedAt: Date = Date(), sessionID: String? = nil
    ) {
        self.sender = sender
        self.recipients = recipients
        self.raw = raw
        self.source = source
        self.routing = routing ?? (source == .lmtp || source == .smtp ? .byRecipientAddress : .fromHeaders)
        self.receivedAt = receivedAt
        self.sessionID = sessionID
    }
}
