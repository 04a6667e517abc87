import Foundation

/// The delivery of one outbox event to one webhook endpoint, as the store keeps it.
public struct WebhookDeliveryRecord: Sendable, Hashable, Codable {
    public enum State: String, Sendable, Hashable, Codable {
        /// Not delivered yet: due at `nextAttemptAt`.
        case pending
        /// The receiver answered 2xx.
        case delivered
        /// Retries exhausted (a dead letter): listed by `webhooks failed`, sent again by `webhooks redeliver`.
        case failed
    }

    public var endpoint: String
    /// The outbox row id of the event.
    public var sequence: Int64
    public var eventID: String
    public var type: String
    public var ticketNumber: Int?
    public var state: State
    public var attempts: Int
    public var nextAttemptAt: Date
    public var lastAttemptAt: Date?
    /// The receiver's last HTTP status; nil when it gave none (connection refused, timeout).
    public var lastStatus: Int?
    public var lastError: String?
    public var createdAt: Date

    public init(
        endpoint: String, sequence: Int64, eventID: String, type: String, ticketNumber: Int?, state: State,
        attempts: Int, nextAttemptAt: Date, lastAttemptAt: Date?, lastStatus: Int?, lastError: String?,
        createdAt: Date
    ) {
        self.endpoint = endpoint
        self.sequence = sequence
        self.eventID = eventID
        self.type = type
        self.ticketNumber = ticketNumber
        self.state = state
        self.attempts = attempts
        self.nextAttemptAt = nextAttemptAt
        self.lastAttemptAt = lastAttemptAt
        self.lastStatus = lastStatus
        self.lastError = lastError
        self.createdAt = createdAt
    }
}

/// What one delivery attempt ended in.
public enum WebhookAttemptOutcome: Sendable, Hashable {
    /// 2xx: done.
    case delivered(status: Int)
    /// Try again at `next`.
    case retry(next: Date, status: Int?, error: String)
    /// Give up: a dead letter.
    case failed(status: Int?, error: String)
}

/// A configured endpoint as the outbox sees it: its name and the event types it receives (nil: all).
public struct WebhookSubscription: Sendable, Hashable {
    public var endpoint: String
    public var events: Set<String>?

    public init(endpoint: String, events: Set<String>?) {
        self.endpoint = endpoint
        self.events = events
    }
}

/// The webhook worker's view of the outbox in the ticket store (the same database, written on the same writer).
public protocol WebhookOutboxStore: Sendable {
    /// Creates the pending deliveries of events written since the last call, for each subscription. An endpoint
    /// seen for the first time starts after the newest event, unless no endpoint was ever seen before (then the
    /// subscriptions of this call receive every event already in the outbox: those written since webhooks were
    /// configured). Returns how many deliveries were created.
    func fanOutEvents(to subscriptions: [WebhookSubscription], at time: Date) async throws -> Int
    /// Pending deliveries to `endpoints` due at `time`, oldest event first, at most `limit`: a delivery waits while
    /// an earlier event of the same ticket is pending for the same endpoint (order per ticket).
    func dueWebhookDeliveries(at time: Date, limit: Int, endpoints: [String]) async throws -> [WebhookDeliveryRecord]
    /// The earliest `next_attempt_at` of a pending delivery, if any.
    func nextWebhookAttempt() async throws -> Date?
    func outboxEvent(sequence: Int64) async throws -> OutboxEventRecord?
    /// The article's `text` and `stripped_text` (the new part of a reply), rendered as intake stored them.
    func articleTexts(articleID: Int64) async throws -> (text: String, strippedText: String)?
    /// Records one attempt's outcome.
    func recordWebhookAttempt(
        endpoint: String, sequence: Int64, outcome: WebhookAttemptOutcome, at time: Date) async throws
    /// Removes events older than `time` that every configured endpoint (`endpoints`) has delivered; an endpoint
    /// no longer configured holds back only the events it still owes. Returns how many.
    func pruneOutbox(before time: Date, endpoints: [String]) async throws -> Int
}
