import Foundation

/// An event as the outbox holds it.
public struct OutboxEventRecord: Sendable, Hashable {
    /// The outbox row id: the order events were written in.
    public var sequence: Int64
    /// The stable id receivers deduplicate by (`webhook-id`).
    public var eventID: String
    public var type: String
    public var ticketNumber: Int?
    public var articleID: Int64?
    /// The event's `data` without the article's texts (JSON object text).
    public var payload: String
    public var createdAt: Date

    public init(
        sequence: Int64, eventID: String, type: String, ticketNumber: Int?, articleID: Int64?, payload: String,
        createdAt: Date
    ) {
        self.sequence = sequence
        self.eventID = eventID
        self.type = type
        self.ticketNumber = ticketNumber
        self.articleID = articleID
        self.payload = payload
        self.createdAt = createdAt
    }
}
