import Foundation
import GRDB
import TicketPipeline

/// The HTTP API's view of webhook deliveries: a page at a time, one by its event and endpoint.
extension TicketDatabaseReading {
    /// Deliveries in `state` (every state with nil), newest event first and, within an event, endpoints in
    /// descending name order, continuing after `before` (the last delivery of the previous page). Each page sorts
    /// the rows in `state` below that position: deliveries are few (one per event and endpoint, delivered ones
    /// pruned with their events after 7 days).
    public func webhookDeliveryPage(
        state: WebhookDeliveryRecord.State?, before: (sequence: Int64, endpoint: String)?, limit: Int
    ) async throws -> [WebhookDeliveryRecord] {
        try await read("list webhook deliveries") { db in
            var conditions: [String] = []
            var arguments = StatementArguments()
            if let state {
                conditions.append("d.state = ?")
                arguments += [state.rawValue]
            }
            if let before {
                conditions.append("(d.outbox_id < ? OR (d.outbox_id = ? AND d.endpoint < ?))")
                arguments += [before.sequence, before.sequence, before.endpoint]
            }
            return try WebhookReads.deliveries(
                db, where: conditions.isEmpty ? "1" : conditions.joined(separator: " AND "),
                order: "d.outbox_id DESC, d.endpoint DESC", arguments: arguments, limit: max(1, limit))
        }
    }

    /// The delivery of event `eventID` to endpoint `endpoint`, or nil.
    public func webhookDelivery(eventID: String, endpoint: String) async throws -> WebhookDeliveryRecord? {
        try await read("read webhook delivery \(eventID) to \(endpoint)") { db in
            try WebhookReads.deliveries(
                db, where: "o.event_id = ? AND d.endpoint = ?", order: "d.outbox_id", arguments: [eventID, endpoint],
                limit: 1
            ).first
        }
    }
}

extension SQLiteTicketStore {
    /// Makes the failed delivery of event `eventID` to `endpoint` pending again, due at `time`, its attempts reset.
    /// Returns false when there is no such failed delivery (none, or it is pending or delivered).
    public func redeliverWebhook(eventID: String, endpoint: String, at time: Date = Date()) async throws -> Bool {
        try await writeDatabase { db in
            try db.execute(
                sql: """
                    UPDATE webhook_deliveries SET state = 'pending', attempts = 0, next_attempt_at = ?
                    WHERE state = 'failed' AND endpoint = ? AND outbox_id = (SELECT id FROM outbox WHERE event_id = ?)
                    """, arguments: [time.timeIntervalSince1970, endpoint, eventID])
            return db.changesCount == 1
        }
    }
}
