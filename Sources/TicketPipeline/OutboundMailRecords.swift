import Foundation
import MailParser

/// Why a mail goes out; stored with it, and deciding its template and headers.
public enum OutboundMailKind: String, Sendable, Hashable, Codable {
    /// The automatic answer to the requester of a new ticket.
    case acknowledgement
    /// A new ticket or article, told to the queue's agents.
    case notification
    /// An agent's answer (from the API).
    case reply
    /// The answer to a mail command: its confirmation, its errors, or an XML transaction's response.
    case commandResponse = "command-response"
    /// An alert forwarded to the internal address (a skip rule, or no known account).
    case forward
}

/// A mail to send, written in the same transaction as the change that causes it; the worker composes and sends
/// it after the commit, so nothing goes out for a change that did not commit, and nothing committed is lost.
public struct NewOutboundMail: Sendable, Hashable {
    public var kind: OutboundMailKind
    /// nil for mail about no ticket (an XML transaction's response, a forwarded alert): it carries no tag.
    public var ticketNumber: Int?
    public var queue: String
    public var recipient: MailAddress
    /// The ticket's subject (without our tag); the composer adds the tag.
    public var subject: String
    /// The Message-ID this mail answers, if any.
    public var inReplyTo: String?
    /// The thread's Message-IDs, oldest first.
    public var references: [String]
    /// The body for kinds that carry their own (replies); nil: the queue's template renders it.
    public var text: String?
    /// The HTML alternative of `text` (an agent's reply written in HTML); nil: plain text only.
    public var html: String?
    /// Set when this mail is one copy of a mail to several people; nil: the mail names `recipient` alone.
    public var sharedAddressing: SharedAddressing?
    public var createdAt: Date

    /// One mail to several people, queued as a copy per recipient (each retried, suppressed or refused on its
    /// own) that all show the same `To` and `Cc` and carry the same Message-ID, so that a reply-all from any of
    /// them reaches everyone and every copy threads as one message.
    public struct SharedAddressing: Sendable, Hashable {
        public var to: [MailAddress]
        public var cc: [MailAddress]
        /// The queued mail whose id signs the shared Message-ID; nil: this one (the first copy).
        public var messageIDOf: Int64?

        public init(to: [MailAddress], cc: [MailAddress], messageIDOf: Int64? = nil) {
            self.to = to
            self.cc = cc
            self.messageIDOf = messageIDOf
        }
    }

    public init(
        kind: OutboundMailKind, ticketNumber: Int?, queue: String, recipient: MailAddress, subject: String,
        inReplyTo: String?, references: [String], text: String? = nil, createdAt: Date
    ) {
        self.kind = kind
        self.ticketNumber = ticketNumber
        self.queue = queue
        self.recipient = recipient
        self.subject = subject
        self.inReplyTo = inReplyTo
        self.references = references
        self.text = text
        self.createdAt = createdAt
    }
}

/// A queued mail as the worker reads it back.
public struct OutboundMailItem: Sendable, Hashable {
    public var id: Int64
    public var mail: NewOutboundMail
    /// Attempts made so far.
    public var attempts: Int

    public init(id: Int64, mail: NewOutboundMail, attempts: Int) {
        self.id = id
        self.mail = mail
        self.attempts = attempts
    }
}

/// What an attempt to send a queued mail came to.
public enum OutboundMailOutcome: Sendable, Hashable {
    /// Accepted by the relay (or the sendmail command) for every recipient.
    case sent(at: Date, response: String)
    /// A temporary failure: tried again at `retryAt`.
    case deferred(retryAt: Date, reason: String)
    /// A permanent failure: never tried again.
    case failed(at: Date, reason: String)
    /// Not sent: the recipient is bouncing (`BouncingAddress`); never tried again.
    case suppressed(at: Date, reason: String)
}

/// The queue's acknowledgement rule: on, with at most `perAddressPerHour` acknowledgements to one address.
public struct AcknowledgementRule: Sendable, Hashable {
    public var perAddressPerHour: Int

    public init(perAddressPerHour: Int = 3) {
        self.perAddressPerHour = perAddressPerHour
    }
}

extension TicketStoreTransaction {
    /// Queues an agent's reply on ticket `ticket` (the API's entry point): a copy for `to` and one for each of
    /// `cc`, all showing the same `To` and `Cc` and signed with the first copy's id, with `text` as the body, sent
    /// by the outbound worker after this transaction commits, threaded with `inReplyTo` and `references`. Returns
    /// the queued copies' ids, `to`'s first.
    public func enqueueReply(
        ticket: Int, queue: String, to requester: MailAddress, cc: [MailAddress], subject: String, text: String,
        html: String? = nil, inReplyTo: String?, references: [String], at date: Date
    ) throws -> [Int64] {
        var addressing = NewOutboundMail.SharedAddressing(to: [requester], cc: cc)
        var ids: [Int64] = []
        for recipient in [requester] + cc {
            var mail = NewOutboundMail(
                kind: .reply, ticketNumber: ticket, queue: queue, recipient: recipient, subject: subject,
                inReplyTo: inReplyTo, references: references, text: text, createdAt: date)
            mail.html = html
            mail.sharedAddressing = cc.isEmpty ? nil : addressing
            let id = try enqueueOutboundMail(mail)
            if addressing.messageIDOf == nil { addressing.messageIDOf = id }
            ids.append(id)
        }
        return ids
    }
}
