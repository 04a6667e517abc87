import Foundation
import Hummingbird
import TicketPipeline
import TicketStoreSQLite

/// `/api/v1/webhooks/deliveries`: each event's delivery to each endpoint, a page at a time (newest event first),
/// and sending a failed one (a dead letter) again. A delivery's id is `<event_id>.<endpoint>`.
struct WebhookRoutes: Sendable {
    let reader: any TicketDatabaseReading
    let store: SQLiteTicketStore

    /// One delivery as the API shows it; every field present, `null` when empty.
    struct Delivery: Encodable, Sendable {
        var record: WebhookDeliveryRecord

        enum CodingKeys: String, CodingKey {
            case id, eventId, type, ticketNumber, endpoint, state, attempts, nextAttemptAt, lastAttemptAt
            case lastStatus, lastError, createdAt
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(WebhookRoutes.deliveryID(record), forKey: .id)
            try container.encode(record.eventID, forKey: .eventId)
            try container.encode(record.type, forKey: .type)
            try container.encode(record.ticketNumber, forKey: .ticketNumber)
            try container.encode(record.endpoint, forKey: .endpoint)
            try container.encode(record.state.rawValue, forKey: .state)
            try container.encode(record.attempts, forKey: .attempts)
            try container.encode(record.nextAttemptAt, forKey: .nextAttemptAt)
            try container.encode(record.lastAttemptAt, forKey: .lastAttemptAt)
            try container.encode(record.lastStatus, forKey: .lastStatus)
            try container.encode(record.lastError, forKey: .lastError)
            try container.encode(record.createdAt, forKey: .createdAt)
        }
    }

    static func deliveryID(_ record: WebhookDeliveryRecord) -> String { record.eventID + "." + record.endpoint }

    func register(on router: Router<APIRequestContext>) {
        let deliveries = router.group("api/v1/webhooks/deliveries")
        deliveries.get { request, _ in try await list(request) }
        deliveries.post(":id/redeliver") { _, context in try await redeliver(context) }
    }

    private func list(_ request: Request) async throws -> Response {
        var state: WebhookDeliveryRecord.State?
        if let text = APIInput.query("state", request) {
            guard let parsed = WebhookDeliveryRecord.State(rawValue: text) else {
                throw ProblemDetails.badRequest("state must be failed, pending or delivered, got '\(text.prefix(40))'")
            }
            state = parsed
        }
        let limit = try APIInput.integer("limit", request, in: 1...200, default: 50)
        let cursor = try PageCursor.from(APIInput.query("cursor", request), kind: PageCursor.webhookDeliveries)
        let rows = try await reader.webhookDeliveryPage(
            state: state, before: cursor.map { ($0.last, $0.name ?? "") }, limit: limit + 1)
        let shown = rows.prefix(limit)
        let next =
            rows.count > limit
            ? shown.last.map {
                PageCursor(kind: PageCursor.webhookDeliveries, last: $0.sequence, name: $0.endpoint).encoded
            } : nil
        return try APIResponse.json(RecordRoutes.Listing(items: shown.map(Delivery.init), nextCursor: next))
    }

    /// A failed delivery pending again, due now: the daemon's worker sends it within its next poll.
    private func redeliver(_ context: APIRequestContext) async throws -> Response {
        // The router hands the path segment over as sent: an endpoint name with non-ASCII letters is percent-encoded.
        let raw = context.parameters.get("id") ?? ""
        let id = raw.removingPercentEncoding ?? raw
        let parts = id.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0].hasPrefix("evt_"), !parts[1].isEmpty,
            let delivery = try await reader.webhookDelivery(eventID: String(parts[0]), endpoint: String(parts[1]))
        else { throw ProblemDetails.notFound("no webhook delivery '\(id.prefix(200))'") }
        guard delivery.state == .failed,
            try await store.redeliverWebhook(eventID: delivery.eventID, endpoint: delivery.endpoint)
        else {
            throw ProblemDetails.make(
                "not-failed", .conflict,
                "webhook delivery \(id) is \(delivery.state.rawValue): only failed deliveries are sent again")
        }
        guard let pending = try await reader.webhookDelivery(eventID: delivery.eventID, endpoint: delivery.endpoint)
        else { throw ProblemDetails.notFound("webhook delivery \(id) is gone") }
        return try APIResponse.json(Delivery(record: pending))
    }
}
