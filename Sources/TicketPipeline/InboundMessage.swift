import Foundation
import MessageSpool

/// Where a message entered Postdesk. Every source goes through the same pipeline and the same commit.
public enum IntakeSource: String, Sendable, Codable, Hashable {
    case lmtp, smtp, deliver, replay
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
    public var receivedAt: Date
    /// The transport's session id, kept on the article so logs and tickets can be correlated.
    public var sessionID: String?

    public init(
        sender: String, recipients: [String], raw: [UInt8], source: IntakeSource, receivedAt: Date = Date(),
        sessionID: String? = nil
    ) {
        self.init(
            sender: sender, recipients: recipients, raw: RawMessage(raw), source: source, receivedAt: receivedAt,
            sessionID: sessionID)
    }

    public init(
        sender: String, recipients: [String], raw: RawMessage, source: IntakeSource, receivedAt: Date = Date(),
        sessionID: String? = nil
    ) {
        self.sender = sender
        self.recipients = recipients
        self.raw = raw
        self.source = source
        self.receivedAt = receivedAt
        self.sessionID = sessionID
    }
}
