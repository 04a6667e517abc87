import Foundation
import MessageSpool

/// What the pipeline did with a message for one queue. Stored on the message record and counted per value
/// for the metrics endpoint.
public enum MessageDisposition: String, Sendable, Codable, Hashable, CaseIterable {
    /// A new ticket was opened.
    case created
    /// Added as an article to an existing ticket.
    case appended
    /// Already stored for this queue; nothing written but the record.
    case duplicate
    /// Automated mail or a bounce added as a note to the ticket it belongs to.
    case noted
    /// A bounce or report whose original message is not ours: kept in the bounce list.
    case bounceUnmatched = "bounce-unmatched"
    /// Mail we sent ourselves, or a mail loop: dropped (recorded).
    case dropped
    /// Ignored by the queue's filters (recorded: who, why).
    case ignored
    /// Automated mail that threads to no ticket: never creates one (recorded).
    case automatedUnthreaded = "automated-unthreaded"
    /// Automated mail beyond the sender's daily budget: logged only (recorded).
    case overBudget = "over-budget"
    /// The message could not be read; an error ticket holds the raw message and the reason.
    case errorTicket = "error-ticket"
    /// An error inside the pipeline: the message is in quarantine with its raw bytes.
    case quarantined
    /// The requester policy of the queue refused the sender (recorded).
    case rejected
    /// The requester policy of the queue redirects unknown senders (recorded for the outbound sender).
    case redirected
    /// A polled message over the mailbox's size limit: not downloaded, on record with what the server said of it.
    case tooLarge = "too-large"
    /// An alert a skip rule matched (or one for no known account): forwarded to the internal address, no ticket.
    case forwarded
    /// A command that was not obeyed and opened no ticket (an XML transaction with a wrong password, over the
    /// sender's rate, failing the required authentication): on record with the reason, never processed.
    case commandRefused = "command-refused"
}

/// The one record kept for every message the pipeline handled, accepted or not.
public struct NewMessageRecord: Sendable {
    public var receivedAt: Date
    public var source: IntakeSource
    public var sessionID: String?
    /// Envelope sender; `""` for `<>`.
    public var envelopeSender: String
    public var envelopeRecipients: [String]
    public var messageID: String?
    public var subject: String?
    public var fromAddress: String?
    /// SHA-256 of the raw bytes; "" for ordinary mail, whose raw bytes are stored with its ticket (the ticket's
    /// article gives their hash): intake hashes them only where the record may be all that is kept.
    public var rawSHA256: String
    public var rawSize: Int
    /// The classifier's verdict (`accepted`, `automated`, `bounce`, `own-mail`, `loop`, `ignored`, `unreadable`).
    public var classification: String
    /// The disposition for the first routed queue (the others are in `decisions`).
    public var disposition: MessageDisposition
    public var ticketNumber: Int?
    public var queues: [String]
    /// One decision per line, `stage/rule: reason`; encoded before the store's writer runs.
    public var decisions: String

    public init(
        receivedAt: Date, source: IntakeSource, sessionID: String?, envelopeSender: String,
        envelopeRecipients: [String], messageID: String?, subject: String?, fromAddress: String?, rawSHA256: String,
        rawSize: Int, classification: String, disposition: MessageDisposition, ticketNumber: Int?, queues: [String],
        decisions: String
    ) {
        self.receivedAt = receivedAt
        self.source = source
        self.sessionID = sessionID
        self.envelopeSender = envelopeSender
        self.envelopeRecipients = envelopeRecipients
        self.messageID = messageID
        self.subject = subject
        self.fromAddress = fromAddress
        self.rawSHA256 = rawSHA256
        self.rawSize = rawSize
        self.classification = classification
        self.disposition = disposition
        self.ticketNumber = ticketNumber
        self.queues = queues
        self.decisions = decisions
    }
}

/// A message record as read back (`postdesk messages list|show`).
public struct MessageRecord: Sendable, Hashable, Codable {
    public var id: Int64
    public var receivedAt: Date
    public var source: IntakeSource
    public var sessionID: String?
    public var envelopeSender: String
    public var envelopeRecipients: [String]
    public var messageID: String?
    public var subject: String?
    public var fromAddress: String?
    public var rawSHA256: String
    public var rawSize: Int
    public var classification: String
    public var disposition: MessageDisposition
    public var ticketNumber: Int?
    public var queues: [String]
    /// One decision per line.
    public var decisions: [String]

    public init(
        id: Int64, receivedAt: Date, source: IntakeSource, sessionID: String?, envelopeSender: String,
        envelopeRecipients: [String], messageID: String?, subject: String?, fromAddress: String?, rawSHA256: String,
        rawSize: Int, classification: String, disposition: MessageDisposition, ticketNumber: Int?, queues: [String],
        decisions: [String]
    ) {
        self.id = id
        self.receivedAt = receivedAt
        self.source = source
        self.sessionID = sessionID
        self.envelopeSender = envelopeSender
        self.envelopeRecipients = envelopeRecipients
        self.messageID = messageID
        self.subject = subject
        self.fromAddress = fromAddress
        self.rawSHA256 = rawSHA256
        self.rawSize = rawSize
        self.classification = classification
        self.disposition = disposition
        self.ticketNumber = ticketNumber
        self.queues = queues
        self.decisions = decisions
    }
}

/// A system activity on a ticket: why something happened to it (threaded, noted, stripped, reopened, ...).
public struct NewActivity: Sendable, Hashable {
    public var ticketNumber: Int
    /// A stable kind, e.g. `threaded`, `attachments`, `automated-note`, `bounce`, `reopened`, `error`.
    public var kind: String
    public var text: String
    public var createdAt: Date

    public init(ticketNumber: Int, kind: String, text: String, createdAt: Date) {
        self.ticketNumber = ticketNumber
        self.kind = kind
        self.text = text
        self.createdAt = createdAt
    }
}

/// A system activity as read back with its ticket.
public struct ActivityDetail: Sendable, Hashable, Codable {
    public var kind: String
    public var text: String
    public var createdAt: Date

    public init(kind: String, text: String, createdAt: Date) {
        self.kind = kind
        self.text = text
        self.createdAt = createdAt
    }
}

/// One failed (or reported) recipient of a bounce or report. Rows without a ticket form the bounce list.
public struct NewBounceRecord: Sendable, Hashable {
    public var receivedAt: Date
    /// `delivery-status`, `feedback-report`, `disposition-notification`, `non-standard-bounce`.
    public var kind: String
    public var rule: String
    public var originalMessageID: String?
    /// The ticket of the original message; nil when it is not ours (the bounce list).
    public var ticketNumber: Int?
    public var recipient: String?
    public var status: String?
    public var diagnostic: String?
    public var summary: String
    /// The raw bounce, stored with `storeRawMessage` in the same transaction.
    public var rawSHA256: String

    public init(
        receivedAt: Date, kind: String, rule: String, originalMessageID: String?, ticketNumber: Int?,
        recipient: String?, status: String?, diagnostic: String?, summary: String, rawSHA256: String
    ) {
        self.receivedAt = receivedAt
        self.kind = kind
        self.rule = rule
        self.originalMessageID = originalMessageID
        self.ticketNumber = ticketNumber
        self.recipient = recipient
        self.status = status
        self.diagnostic = diagnostic
        self.summary = summary
        self.rawSHA256 = rawSHA256
    }
}

/// A bounce record as read back.
public struct BounceRecord: Sendable, Hashable, Codable {
    public var id: Int64
    public var receivedAt: Date
    public var kind: String
    public var rule: String
    public var originalMessageID: String?
    public var ticketNumber: Int?
    public var recipient: String?
    public var status: String?
    public var diagnostic: String?
    public var summary: String

    public init(
        id: Int64, receivedAt: Date, kind: String, rule: String, originalMessageID: String?, ticketNumber: Int?,
        recipient: String?, status: String?, diagnostic: String?, summary: String
    ) {
        self.id = id
        self.receivedAt = receivedAt
        self.kind = kind
        self.rule = rule
        self.originalMessageID = originalMessageID
        self.ticketNumber = ticketNumber
        self.recipient = recipient
        self.status = status
        self.diagnostic = diagnostic
        self.summary = summary
    }
}

/// A message put aside because the pipeline failed on it: everything needed to run it again.
public struct NewQuarantineEntry: Sendable {
    public var receivedAt: Date
    public var source: IntakeSource
    public var sessionID: String?
    public var envelopeSender: String
    public var envelopeRecipients: [String]
    public var raw: RawMessage
    public var error: String

    public init(
        receivedAt: Date, source: IntakeSource, sessionID: String?, envelopeSender: String,
        envelopeRecipients: [String], raw: RawMessage, error: String
    ) {
        self.receivedAt = receivedAt
        self.source = source
        self.sessionID = sessionID
        self.envelopeSender = envelopeSender
        self.envelopeRecipients = envelopeRecipients
        self.raw = raw
        self.error = error
    }
}

/// A quarantined message as read back; `raw` is empty in listings.
public struct QuarantineEntry: Sendable, Hashable, Codable {
    public var id: Int64
    public var receivedAt: Date
    public var source: IntakeSource
    public var sessionID: String?
    public var envelopeSender: String
    public var envelopeRecipients: [String]
    public var size: Int
    public var error: String
    /// When a replay went through; nil while the message still waits.
    public var replayedAt: Date?
    /// What the replay did, e.g. `support: created #12`.
    public var replayResult: String?
    public var raw: [UInt8]

    public init(
        id: Int64, receivedAt: Date, source: IntakeSource, sessionID: String?, envelopeSender: String,
        envelopeRecipients: [String], size: Int, error: String, replayedAt: Date?, replayResult: String?,
        raw: [UInt8]
    ) {
        self.id = id
        self.receivedAt = receivedAt
        self.source = source
        self.sessionID = sessionID
        self.envelopeSender = envelopeSender
        self.envelopeRecipients = envelopeRecipients
        self.size = size
        self.error = error
        self.replayedAt = replayedAt
        self.replayResult = replayResult
        self.raw = raw
    }
}
