import Foundation

/// What happened, as a webhook receiver reads it in the event's `type`.
public enum OutboxEventType: String, Sendable, Hashable, Codable, CaseIterable {
    /// A message opened a ticket (also an unreadable message's error ticket); carries the first article.
    case ticketCreated = "ticket.created"
    /// A message threaded into an existing ticket, as an article or a note (automated mail); an agent's reply or
    /// internal note through the API.
    case articleAdded = "article.added"
    /// An agent changed a ticket's fields (status, priority, category, type, assignee): old and new values.
    case ticketUpdated = "ticket.updated"
    /// A bounce or report was recorded, matched to a ticket or not.
    case bounceRecorded = "bounce.recorded"
    /// The pipeline could not handle a message; it waits in quarantine.
    case messageQuarantined = "message.quarantined"
    /// A polled mailbox went from healthy (or starting) to failing or needing attention.
    case mailboxUnhealthy = "mailbox.unhealthy"
}

/// One event to put in the transactional outbox, written in the same transaction as the change it reports
/// (`TicketStoreTransaction.recordEvent`): an event exists exactly when its change committed.
public struct NewOutboxEvent: Sendable, Hashable {
    public var type: OutboxEventType
    /// The ticket the event belongs to: events of one ticket are delivered in the order they were written.
    public var ticketNumber: Int?
    /// The article whose `text` and `stripped_text` the delivered event carries; they are rendered from the
    /// stored article when the event is sent, not copied into the outbox.
    public var articleID: Int64?
    /// The event's `data` object without the article's texts (`EventPayload`'s JSON text).
    public var payload: String
    public var createdAt: Date

    public init(type: OutboxEventType, ticketNumber: Int?, articleID: Int64?, payload: String, createdAt: Date) {
        self.type = type
        self.ticketNumber = ticketNumber
        self.articleID = articleID
        self.payload = payload
        self.createdAt = createdAt
    }
}
