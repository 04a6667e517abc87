import Foundation
import MailCommands
import MailParser
import MessageSpool

/// Durable storage for tickets. `write` is the only way to change anything: the pipeline decides inside one
/// closure (look up, then insert) and the store runs that closure atomically, so a check and the write that
/// depends on it can never interleave with another delivery.
public protocol TicketStore: Sendable {
    /// Runs `work` in a transaction and returns only once that transaction is durably committed.
    /// Implementations may gather concurrent calls into one commit (group commit), but each caller's work is
    /// atomic on its own: if `work` throws, none of its writes persist and the error is rethrown to that caller
    /// alone. Store failures surface as `TicketStoreError`.
    func write<T: Sendable>(_ work: @escaping @Sendable (any TicketStoreTransaction) throws -> T) async throws -> T

    /// `write` for a caller that is not a task (a NIO event loop): `completion` is called exactly once, on the
    /// thread that learned the outcome, e.g. the one that made the commit durable. Resuming a task instead costs
    /// two more thread hand-offs per message (to the task's executor, then back to the event loop).
    func write<T: Sendable>(
        _ work: @escaping @Sendable (any TicketStoreTransaction) throws -> T,
        completion: @escaping @Sendable (Result<T, any Error>) -> Void)

    /// Tickets, newest first.
    func listTickets(limit: Int, offset: Int) async throws -> [TicketSummary]

    /// One ticket with its articles (oldest first) and their attachment metadata, or nil if there is none.
    func ticket(number: Int) async throws -> TicketDetail?

    /// The raw message an article was stored from, or nil if the article has none.
    func rawMessage(articleID: Int64) async throws -> [UInt8]?

    /// Message records, newest first.
    func messageRecords(limit: Int, offset: Int) async throws -> [MessageRecord]
    /// One message record, or nil.
    func messageRecord(id: Int64) async throws -> MessageRecord?
    /// How many message records carry each disposition (the counters of the metrics endpoint).
    func dispositionCounts() async throws -> [MessageDisposition: Int]
    /// Bounce records, newest first; with `unmatchedOnly`, only the bounce list (no ticket found).
    func bounceRecords(unmatchedOnly: Bool, limit: Int) async throws -> [BounceRecord]
    /// Quarantined messages, newest first, without their raw bytes.
    func quarantinedMessages(limit: Int, offset: Int) async throws -> [QuarantineEntry]
    /// One quarantined message with its raw bytes, or nil.
    func quarantinedMessage(id: Int64) async throws -> QuarantineEntry?
    /// When the earliest pending outbound mail is due; nil when none is pending. A read: the outbound worker asks
    /// at every poll, and an idle queue must cost no commit on the writer that intake waits for.
    func nextOutboundMailDue() async throws -> Date?
}

extension TicketStore {
    /// Runs the `async` write in a task: stores without a callback path of their own get one.
    public func write<T: Sendable>(
        _ work: @escaping @Sendable (any TicketStoreTransaction) throws -> T,
        completion: @escaping @Sendable (Result<T, any Error>) -> Void
    ) {
        Task {
            do {
                completion(.success(try await write(work)))
            } catch {
                completion(.failure(error))
            }
        }
    }
}

/// The reads and writes the pipeline may perform inside `TicketStore.write`. Only valid during that call.
public protocol TicketStoreTransaction {
    /// The ticket a delivery of the same message (`key.identitySHA256`, `key.queue`) already went to, if any;
    /// for a message with a Message-ID, a key stored before schema v5 with the same Message-ID and body counts.
    func deliveredTicket(for key: DeliveryKey) throws -> Int?
    /// The ticket holding this Message-ID as a threading handle in `queue`, if any: the OLDEST article's, so
    /// that a later message reusing the ID cannot take the thread over.
    func ticketNumber(forArticleMessageID messageID: String, queue: String) throws -> Int?
    /// The articles holding this Message-ID as a threading handle, oldest first (at most 20).
    func messageIDHolders(_ messageID: String) throws -> [MessageIDHolder]
    /// Whether ticket `number` exists and belongs to `queue`.
    func ticketExists(number: Int, queue: String) throws -> Bool
    /// Finds or creates the contact for `address` (already lower-cased); fills in a missing name.
    func upsertContact(address: String, name: String?) throws -> Int64
    /// Stores the raw message; storing the same content again in the same write is a no-op. A spooled message
    /// is copied in chunks, never whole into memory.
    func storeRawMessage(sha256: String, message: RawMessage, receivedAt: Date) throws
    /// Creates a ticket and returns its number (sequential, starting at 1).
    func createTicket(_ ticket: NewTicket) throws -> Int
    /// Adds an article to an existing ticket (and marks the ticket updated); returns the article id.
    func addArticle(_ article: NewArticle) throws -> Int64
    /// Records attachment metadata on an article; the content is stored once per distinct SHA-256. A deferred
    /// attachment (`ParsedAttachment.deferred`) is decoded in chunks from `rawMessage`, the message it was parsed
    /// from.
    func storeAttachment(_ attachment: ParsedAttachment, articleID: Int64, rawMessage: RawMessage) throws
    /// Remembers that the delivery with `key` went to `ticket`, so a redelivery is recognised; with
    /// `registersMessageID`, the Message-ID also threads replies to `ticket`.
    func recordDelivery(_ key: DeliveryKey, ticket: Int, articleID: Int64, at: Date, registersMessageID: Bool) throws

    /// How a delivery of the same message (as `deliveredTicket(for:)` matches it) in `key.queue` was
    /// recorded when it made no ticket and no note: ignored, dropped, an unmatched bounce, unthreaded or
    /// over-budget automated mail, a refused sender. Nil when there was none.
    func recordedDisposition(sameContentAs key: DeliveryKey) throws -> MessageDisposition?
    /// Remembers that the delivery with `key` was only recorded, as `disposition`, so that a redelivery (a lost
    /// reply) is recorded as a duplicate instead of being handled, counted and listed again.
    func rememberRecorded(_ key: DeliveryKey, disposition: MessageDisposition, at: Date) throws
    /// The contact with this (lower-cased) address, if there is one.
    func contactID(address: String) throws -> Int64?
    /// Stores the one record of a message.
    func recordMessage(_ record: NewMessageRecord) throws
    /// Adds a system activity to a ticket.
    func addActivity(_ activity: NewActivity) throws
    /// Stores one bounce record.
    func recordBounce(_ bounce: NewBounceRecord) throws
    /// The ticket holding this Message-ID as a threading handle in any queue (the oldest article's): bounces
    /// name the original message, not a queue.
    func ticketNumber(forAnyArticleMessageID messageID: String) throws -> Int?
    /// Counts one more automated message from `sender` (a budget key) on the UTC day starting at `day`, and
    /// returns the count including this one.
    func countAutomatedMessage(sender: String, day: Date) throws -> Int
    /// Puts a message into quarantine; returns its id.
    func quarantine(_ entry: NewQuarantineEntry) throws -> Int64
    /// Marks a quarantined message as replayed, with what the replay did.
    func markReplayed(quarantineID: Int64, at: Date, result: String) throws
    /// Whether the quarantined message was already replayed (read inside the write, so two replays cannot
    /// both run it).
    func quarantineReplayed(id: Int64) throws -> Bool
    /// Status, requester address and last update of a ticket, for threading decisions.
    func ticketState(number: Int) throws -> TicketState?
    /// Whether `address` (lower-cased) is the requester of ticket `number`, sent an article to it, or was
    /// named in To/Cc of one of its articles.
    func isParticipant(address: String, ticket number: Int) throws -> Bool
    /// Changes a ticket's status (e.g. reopens it).
    func setStatus(_ status: String, ticket number: Int, at: Date) throws
    /// Applies an agent's `change` to ticket `number`: one activity (kind `changed`) per field that really
    /// changes, naming `actor`, and, when anything changed and the store records events, one `ticket.updated`
    /// event with the old and new values, in this same transaction. Returns the activities written (empty: no
    /// change), or nil when there is no such ticket.
    func changeTicket(number: Int, _ change: TicketChange, actor: String, at: Date) throws -> [ActivityDetail]?
    /// Puts an event in the transactional outbox (one row): it commits with the change it reports, or not at all,
    /// and a webhook worker delivers it after the commit. Returns the event's stable id.
    @discardableResult
    func recordEvent(_ event: NewOutboxEvent) throws -> String

    /// Queues a mail to send once this transaction commits; returns its id.
    func enqueueOutboundMail(_ mail: NewOutboundMail) throws -> Int64
    /// How many mails of `kind` were queued to `recipient` (lower-cased) since `since`: the rate limit.
    func outboundMailCount(recipient: String, kind: OutboundMailKind, since: Date) throws -> Int
    /// Queued mails due at `now` (pending, retry time passed), oldest first, at most `limit`.
    func dueOutboundMail(at now: Date, limit: Int) throws -> [OutboundMailItem]
    /// Records an attempt's outcome for queued mail `id`.
    func recordOutboundAttempt(id: Int64, outcome: OutboundMailOutcome) throws
    /// Whether mail of ours to `recipient` (lower-cased) was sent (or is being sent) since `since`: a bounce for it
    /// to our envelope sender is then ours even without our Message-ID.
    func outboundMailSent(to recipient: String, since: Date) throws -> Bool
    /// Flags `address` (lower-cased) as bouncing since `at`, for `reason`; creates its contact when needed.
    func markBouncing(address: String, reason: String, at: Date) throws
    /// The bouncing flag of `address` (lower-cased), nil when it is not bouncing.
    func bouncing(address: String) throws -> BouncingAddress?
    /// Clears the bouncing flag of `address` (lower-cased); returns whether it was set.
    @discardableResult
    func clearBouncing(address: String) throws -> Bool

    /// Sets typed fields on ticket `ticket` (a field of the same name is replaced).
    func setTicketFields(_ fields: [TicketField], ticket: Int, at: Date) throws
    /// Sets the account (customer) ticket `ticket` is about.
    func setAccount(_ account: String, ticket: Int) throws
    /// The newest open (not solved or closed) ticket of `queue` about `account` with exactly `subject`, if any:
    /// where a repeated alert threads.
    func openTicket(account: String, subject: String, queue: String) throws -> Int?
    /// The requester's address (lower-cased) of ticket `number`; nil for no such ticket or no requester.
    func requesterAddress(ticket number: Int) throws -> String?
    /// Records a command a message carried (applied, refused or invalid).
    func recordCommand(_ command: NewMailCommandRecord) throws
    /// How many commands from `sender` were recorded since `since`: the rate limit per sender.
    func commandCount(sender: String, since: Date) throws -> Int
}

/// An article whose Message-ID threads replies: which ticket and queue it belongs to, and who sent it.
public struct MessageIDHolder: Sendable, Hashable {
    public var ticket: Int
    public var queue: String
    /// The article's From address, lower-cased; nil when it had none.
    public var sender: String?

    public init(ticket: Int, queue: String, sender: String?) {
        self.ticket = ticket
        self.queue = queue
        self.sender = sender
    }
}

/// What threading needs to know about an existing ticket.
public struct TicketState: Sendable, Hashable {
    public var number: Int
    public var queue: String
    public var status: String
    public var updatedAt: Date

    public init(number: Int, queue: String, status: String, updatedAt: Date) {
        self.number = number
        self.queue = queue
        self.status = status
        self.updatedAt = updatedAt
    }
}

/// Identifies one delivery of one message to one queue: a retried delivery of the same bytes, and a copy of the
/// same message by another path or to another of our addresses (other trace fields), have the same
/// `identitySHA256` (see `MessageIdentity`); two different messages never do.
public struct DeliveryKey: Sendable, Hashable, Codable {
    /// The Message-ID, or `""` when the message has none.
    public var messageID: String
    /// Lower-case hex SHA-256 of the raw bytes, `""` where it was not computed.
    public var rawSHA256: String
    public var queue: String
    /// Lower-case hex SHA-256 of the message's identity: its identity header fields and normalised body
    /// (`MessageIdentity`); `""` when not computed, then the raw bytes' hash stands in.
    public var identitySHA256: String
    /// Lower-case hex SHA-256 of the normalised body alone (`BodyFingerprint`): matches keys stored before
    /// schema v5, which were Message-ID + body, and only for a message that has a Message-ID.
    public var bodySHA256: String

    public init(
        messageID: String, rawSHA256: String, queue: String, identitySHA256: String = "", bodySHA256: String = ""
    ) {
        self.messageID = messageID
        self.rawSHA256 = rawSHA256
        self.queue = queue
        self.identitySHA256 = identitySHA256
        self.bodySHA256 = bodySHA256
    }
}

/// A ticket to create. Its number is assigned by the store.
public struct NewTicket: Sendable {
    public var queue: String
    public var subject: String
    public var requesterID: Int64?
    public var source: IntakeSource
    public var createdAt: Date
    /// The queue's category, priority and type for new tickets.
    public var defaults = TicketDefaults()

    public init(queue: String, subject: String, requesterID: Int64?, source: IntakeSource, createdAt: Date) {
        self.queue = queue
        self.subject = subject
        self.requesterID = requesterID
        self.source = source
        self.createdAt = createdAt
    }
}

/// Whether an article came in from a customer or went out from an agent.
public enum ArticleDirection: String, Sendable, Codable, Hashable {
    case inbound, outbound
    /// Added by the pipeline for the record, not a conversation message: automated mail and bounces.
    case note
}

/// One message stored on a ticket.
public struct NewArticle: Sendable {
    public var ticketNumber: Int
    public var queue: String
    public var direction: ArticleDirection
    public var messageID: String?
    public var inReplyTo: [String]
    public var references: [String]
    public var subject: String
    public var from: MailAddress?
    public var to: [MailAddress]
    public var cc: [MailAddress]
    public var replyTo: [MailAddress]
    public var text: String
    public var html: String?
    /// Envelope sender; `""` for `<>`.
    public var envelopeSender: String
    /// The envelope recipients of this queue that the message was delivered to.
    public var envelopeRecipients: [String]
    public var source: IntakeSource
    public var sessionID: String?
    public var receivedAt: Date
    /// Key of the raw message, stored with `storeRawMessage` earlier in the same write.
    public var rawSHA256: String
    public var rawSize: Int
    /// True when `text` and `html` are exactly what `MessageParser` renders from the raw message: the store may
    /// then keep only the raw message and render them again on read, instead of writing the bytes twice.
    public var textDerivedFromRaw: Bool

    public init(
        ticketNumber: Int, queue: String, direction: ArticleDirection = .inbound, messageID: String?,
        inReplyTo: [String], references: [String], subject: String, from: MailAddress?, to: [MailAddress],
        cc: [MailAddress], replyTo: [MailAddress], text: String, html: String?, envelopeSender: String,
        envelopeRecipients: [String], source: IntakeSource, sessionID: String?, receivedAt: Date, rawSHA256: String,
        rawSize: Int, textDerivedFromRaw: Bool = false
    ) {
        self.textDerivedFromRaw = textDerivedFromRaw
        self.ticketNumber = ticketNumber
        self.queue = queue
        self.direction = direction
        self.messageID = messageID
        self.inReplyTo = inReplyTo
        self.references = references
        self.subject = subject
        self.from = from
        self.to = to
        self.cc = cc
        self.replyTo = replyTo
        self.text = text
        self.html = html
        self.envelopeSender = envelopeSender
        self.envelopeRecipients = envelopeRecipients
        self.source = source
        self.sessionID = sessionID
        self.receivedAt = receivedAt
        self.rawSHA256 = rawSHA256
        self.rawSize = rawSize
    }
}

/// A row of `tickets list`.
public struct TicketSummary: Sendable, Hashable, Codable {
    public var number: Int
    public var queue: String
    public var status: String
    public var subject: String
    /// The requester's address, if the message named one.
    public var requester: String?
    public var articleCount: Int
    public var createdAt: Date
    public var updatedAt: Date

    public init(
        number: Int, queue: String, status: String, subject: String, requester: String?, articleCount: Int,
        createdAt: Date, updatedAt: Date
    ) {
        self.number = number
        self.queue = queue
        self.status = status
        self.subject = subject
        self.requester = requester
        self.articleCount = articleCount
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

/// A ticket with everything `tickets show` prints.
public struct TicketDetail: Sendable, Hashable, Codable {
    public var number: Int
    public var queue: String
    public var status: String
    public var subject: String
    public var requester: MailAddress?
    public var source: IntakeSource
    public var createdAt: Date
    public var updatedAt: Date
    /// Oldest first.
    public var articles: [ArticleDetail]
    /// System activities (why it threaded, what was stripped, ...), oldest first.
    public var activities: [ActivityDetail]
    /// Category, priority and type the ticket was created with.
    public var defaults = TicketDefaults()
    /// Who works on it (set through the API); nil: nobody yet.
    public var assignee: String?
    /// The account (customer) an alert ticket is about; nil for others.
    public var account: String?
    /// Typed fields (structured requests, commands, XML transactions), by name.
    public var fields: [TicketField] = []

    public init(
        number: Int, queue: String, status: String, subject: String, requester: MailAddress?, source: IntakeSource,
        createdAt: Date, updatedAt: Date, articles: [ArticleDetail], activities: [ActivityDetail] = []
    ) {
        self.activities = activities
        self.number = number
        self.queue = queue
        self.status = status
        self.subject = subject
        self.requester = requester
        self.source = source
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.articles = articles
    }
}

/// One stored article, as read back.
public struct ArticleDetail: Sendable, Hashable, Codable {
    public var id: Int64
    public var direction: ArticleDirection
    public var messageID: String?
    public var inReplyTo: [String]
    public var references: [String]
    public var subject: String
    public var from: MailAddress?
    public var to: [MailAddress]
    public var cc: [MailAddress]
    public var replyTo: [MailAddress]
    public var text: String
    /// The reply's new part: `text` without quoted history and signature (`ParsedMessage.strippedText`).
    public var strippedText: String
    public var html: String?
    public var envelopeSender: String
    public var envelopeRecipients: [String]
    public var source: IntakeSource
    public var sessionID: String?
    public var receivedAt: Date
    public var rawSHA256: String
    public var rawSize: Int
    public var attachments: [AttachmentInfo]

    public init(
        id: Int64, direction: ArticleDirection, messageID: String?, inReplyTo: [String], references: [String],
        subject: String, from: MailAddress?, to: [MailAddress], cc: [MailAddress], replyTo: [MailAddress],
        text: String, html: String?, envelopeSender: String, envelopeRecipients: [String], source: IntakeSource,
        sessionID: String?, receivedAt: Date, rawSHA256: String, rawSize: Int, attachments: [AttachmentInfo],
        strippedText: String? = nil
    ) {
        self.strippedText = strippedText ?? text
        self.id = id
        self.direction = direction
        self.messageID = messageID
        self.inReplyTo = inReplyTo
        self.references = references
        self.subject = subject
        self.from = from
        self.to = to
        self.cc = cc
        self.replyTo = replyTo
        self.text = text
        self.html = html
        self.envelopeSender = envelopeSender
        self.envelopeRecipients = envelopeRecipients
        self.source = source
        self.sessionID = sessionID
        self.receivedAt = receivedAt
        self.rawSHA256 = rawSHA256
        self.rawSize = rawSize
        self.attachments = attachments
    }
}

/// Attachment metadata; the content itself is stored once per SHA-256.
public struct AttachmentInfo: Sendable, Hashable, Codable {
    public var filename: String?
    public var contentType: String
    public var size: Int
    public var sha256: String
    public var contentID: String?
    public var disposition: String?

    public init(
        filename: String?, contentType: String, size: Int, sha256: String, contentID: String?, disposition: String?
    ) {
        self.filename = filename
        self.contentType = contentType
        self.size = size
        self.sha256 = sha256
        self.contentID = contentID
        self.disposition = disposition
    }
}

/// Why the store could not do what was asked. Every case means "try again later" to the pipeline: the
/// message was not stored, and the MTA must keep it.
public struct TicketStoreError: Error, Sendable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        /// The store was closed; nothing more can be written.
        case closed
        /// Another process holds the database lock beyond the busy timeout.
        case busy
        /// The disk (or the database's size limit) is full.
        case full
        /// The database file cannot be written: read-only file, directory or mount.
        case readOnly
        /// An I/O error from the operating system, or the file vanished.
        case io
        /// The file is not a database or is damaged.
        case corrupt
        /// The database could not be opened or migrated.
        case open
        /// Any other database error.
        case other
    }

    public var kind: Kind
    /// What the store was doing, e.g. `commit of 12 writes`.
    public var operation: String
    /// The database file.
    public var path: String
    /// The underlying error's description.
    public var underlying: String

    public init(kind: Kind, operation: String, path: String, underlying: String) {
        self.kind = kind
        self.operation = operation
        self.path = path
        self.underlying = underlying
    }

    public var description: String {
        "ticket store \(kind.rawValue) error during \(operation) on \(path): \(underlying)"
    }
}
