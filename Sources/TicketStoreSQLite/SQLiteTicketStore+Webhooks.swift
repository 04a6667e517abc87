import Foundation
import GRDB
import MailParser
import TicketPipeline

/// The webhook worker's side of the outbox: fan-out, due deliveries, attempts. Rare next to intake, so plain
/// GRDB statements on the store's writer.
extension SQLiteTicketStore: WebhookOutboxStore {
    public func fanOutEvents(to subscriptions: [WebhookSubscription], at time: Date) async throws -> Int {
        // Asked every poll: a read answers "nothing new" without a write, whose commit would fsync on the writer
        // that intake waits for.
        let endpoints = subscriptions.map(\.endpoint)
        let behind = try await read("check webhook fan-out") { db -> Bool in
            let newest = try Int64.fetchOne(db, sql: "SELECT COALESCE(MAX(id), 0) FROM outbox") ?? 0
            var cursors: [String: Int64] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT name, last_outbox_id FROM webhook_endpoints") {
                cursors[row[0]] = row[1]
            }
            return endpoints.contains { cursors[$0].map { $0 < newest } ?? true }
        }
        guard behind else { return 0 }
        return try await writeDatabase { db in
            let newest = try Int64.fetchOne(db, sql: "SELECT COALESCE(MAX(id), 0) FROM outbox") ?? 0
            // Every endpoint of the first configuration with webhooks (not only the first of them) receives what
            // the outbox holds; one added later starts after it.
            let firstEver = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM webhook_endpoints") == 0
            var created = 0
            for subscription in subscriptions {
                var cursor = try Int64.fetchOne(
                    db, sql: "SELECT last_outbox_id FROM webhook_endpoints WHERE name = ?",
                    arguments: [subscription.endpoint])
                if cursor == nil {
                    let start = firstEver ? 0 : newest
                    try db.execute(
                        sql: "INSERT INTO webhook_endpoints(name, last_outbox_id, created_at) VALUES (?, ?, ?)",
                        arguments: [subscription.endpoint, start, time.timeIntervalSince1970])
                    cursor = start
                }
                guard let cursor, cursor < newest else { continue }
                var sql = """
                    INSERT INTO webhook_deliveries(endpoint, outbox_id, ticket_number, state, attempts, next_attempt_at)
                    SELECT ?, id, ticket_number, 'pending', 0, ? FROM outbox WHERE id > ? AND id <= ?
                    """
                var arguments: StatementArguments = [
                    subscription.endpoint, time.timeIntervalSince1970, cursor, newest,
                ]
                if let events = subscription.events {
                    let sorted = events.sorted()
                    sql += " AND type IN (" + sorted.map { _ in "?" }.joined(separator: ",") + ")"
                    arguments += StatementArguments(sorted)
                }
                try db.execute(sql: sql + " ON CONFLICT DO NOTHING", arguments: arguments)
                created += db.changesCount
                try db.execute(
                    sql: "UPDATE webhook_endpoints SET last_outbox_id = ? WHERE name = ?",
                    arguments: [newest, subscription.endpoint])
            }
            return created
        }
    }

    public func dueWebhookDeliveries(
        at time: Date, limit: Int, endpoints: [String]
    ) async throws -> [WebhookDeliveryRecord] {
        guard !endpoints.isEmpty else { return [] }
        let names = endpoints.map { _ in "?" }.joined(separator: ",")
        return try await read("read due webhook deliveries") { db in
            try WebhookReads.deliveries(
                db,
                where: """
                    d.state = 'pending' AND d.next_attempt_at <= ? AND d.endpoint IN (\(names))
                    AND (d.ticket_number IS NULL OR NOT EXISTS (
                        SELECT 1 FROM webhook_deliveries e
                        WHERE e.endpoint = d.endpoint AND e.ticket_number = d.ticket_number AND e.state = 'pending'
                            AND e.outbox_id < d.outbox_id))
                    """,
                order: "d.outbox_id",
                arguments: StatementArguments([time.timeIntervalSince1970]) + StatementArguments(endpoints),
                limit: limit)
        }
    }

    public func nextWebhookAttempt() async throws -> Date? {
        try await read("read next webhook attempt") { db in
            try Double.fetchOne(
                db, sql: "SELECT MIN(next_attempt_at) FROM webhook_deliveries WHERE state = 'pending'"
            ).map { Date(timeIntervalSince1970: $0) }
        }
    }

    public func outboxEvent(sequence: Int64) async throws -> OutboxEventRecord? {
        try await read("read outbox event \(sequence)") { db in
            try WebhookReads.events(db, where: "id = ?", arguments: [sequence], limit: 1).first
        }
    }

    public func articleTexts(articleID: Int64) async throws -> (text: String, strippedText: String)? {
        let cache = renderedArticles
        let rendered = try await read("read article \(articleID)") { db -> RenderedArticle? in
            guard
                let row = try Row.fetchOne(
                    db, sql: "SELECT text, html, raw_sha256, raw_message_id FROM articles WHERE id = ?",
                    arguments: [articleID])
            else { return nil }
            return try TicketReads.render(
                db, article: articleID, storedText: row[0], html: row[1], rawSHA256: row[2], rawMessage: row[3],
                cache: cache)
        }
        return rendered.map { ($0.text, $0.strippedText) }
    }

    public func recordWebhookAttempt(
        endpoint: String, sequence: Int64, outcome: WebhookAttemptOutcome, at time: Date
    ) async throws {
        let now = time.timeIntervalSince1970
        let (sql, arguments): (String, StatementArguments)
        switch outcome {
        case .delivered(let status):
            sql = """
                UPDATE webhook_deliveries SET state = 'delivered', attempts = attempts + 1, last_attempt_at = ?,
                    last_status = ?, last_error = NULL, delivered_at = ?
                WHERE endpoint = ? AND outbox_id = ?
                """
            arguments = [now, status, now, endpoint, sequence]
        case .retry(let next, let status, let error):
            sql = """
                UPDATE webhook_deliveries SET attempts = attempts + 1, last_attempt_at = ?, last_status = ?,
                    last_error = ?, next_attempt_at = ?
                WHERE endpoint = ? AND outbox_id = ? AND state = 'pending'
                """
            arguments = [now, status, error, next.timeIntervalSince1970, endpoint, sequence]
        case .failed(let status, let error):
            sql = """
                UPDATE webhook_deliveries SET state = 'failed', attempts = attempts + 1, last_attempt_at = ?,
                    last_status = ?, last_error = ?
                WHERE endpoint = ? AND outbox_id = ? AND state = 'pending'
                """
            arguments = [now, status, error, endpoint, sequence]
        }
        try await writeDatabase { db in try db.execute(sql: sql, arguments: arguments) }
    }

    /// Makes failed deliveries pending again, due now, with their attempts reset: all of them, or those of
    /// one event (`eventID`). Returns how many.
    public func redeliverWebhooks(eventID: String?, at time: Date = Date()) async throws -> Int {
        try await writeDatabase { db in
            var sql = """
                UPDATE webhook_deliveries SET state = 'pending', attempts = 0, next_attempt_at = ?
                WHERE state = 'failed'
                """
            var arguments: StatementArguments = [time.timeIntervalSince1970]
            if let eventID {
                sql += " AND outbox_id = (SELECT id FROM outbox WHERE event_id = ?)"
                arguments += [eventID]
            }
            try db.execute(sql: sql, arguments: arguments)
            return db.changesCount
        }
    }

    /// Deletes events older than `time` that no endpoint still owes (every delivery delivered, none pending or
    /// failed, every configured endpoint's cursor past them: the cursor of an endpoint removed from the
    /// configuration would otherwise keep every later event for ever). Returns how many.
    public func pruneOutbox(before time: Date, endpoints: [String]) async throws -> Int {
        let names = endpoints.map { _ in "?" }.joined(separator: ",")
        return try await writeDatabase { db in
            try db.execute(
                sql: """
                    DELETE FROM outbox WHERE created_at < ?
                        AND id <= (SELECT COALESCE(MIN(last_outbox_id), 9223372036854775807) FROM webhook_endpoints
                            WHERE name IN (\(names)))
                        AND NOT EXISTS (
                            SELECT 1 FROM webhook_deliveries d WHERE d.outbox_id = outbox.id AND d.state <> 'delivered')
                    """, arguments: StatementArguments([time.timeIntervalSince1970]) + StatementArguments(endpoints))
            return db.changesCount
        }
    }
}

extension TicketDatabaseReading {
    /// Outbox events, oldest first (for tests and diagnostics).
    public func outboxEvents(limit: Int = 1000) async throws -> [OutboxEventRecord] {
        try await read("list outbox events") { db in
            try WebhookReads.events(db, where: "1", arguments: [], limit: limit)
        }
    }

    /// Webhook deliveries in `state` (all states with nil), oldest event first.
    public func webhookDeliveries(
        state: WebhookDeliveryRecord.State?, limit: Int = 1000
    ) async throws -> [WebhookDeliveryRecord] {
        try await read("list webhook deliveries") { db in
            if let state {
                return try WebhookReads.deliveries(
                    db, where: "d.state = ?", order: "d.outbox_id, d.endpoint", arguments: [state.rawValue],
                    limit: limit)
            }
            return try WebhookReads.deliveries(
                db, where: "1", order: "d.outbox_id, d.endpoint", arguments: [], limit: limit)
        }
    }
}

/// The row decoding of the outbox tables, shared by the store and the read-only reader.
enum WebhookReads {
    static func events(
        _ db: Database, where condition: String, arguments: StatementArguments, limit: Int
    ) throws -> [OutboxEventRecord] {
        try Row.fetchAll(
            db,
            sql: """
                SELECT id, event_id, type, ticket_number, article_id, payload, created_at FROM outbox
                WHERE \(condition) ORDER BY id LIMIT \(limit)
                """, arguments: arguments
        ).map { row in
            OutboxEventRecord(
                sequence: row[0], eventID: row[1], type: row[2], ticketNumber: row[3], articleID: row[4],
                payload: row[5], createdAt: Date(timeIntervalSince1970: row[6]))
        }
    }

    static func deliveries(
        _ db: Database, where condition: String, order: String, arguments: StatementArguments, limit: Int
    ) throws -> [WebhookDeliveryRecord] {
        try Row.fetchAll(
            db,
            sql: """
                SELECT d.endpoint, d.outbox_id, o.event_id, o.type, d.ticket_number, d.state, d.attempts,
                    d.next_attempt_at, d.last_attempt_at, d.last_status, d.last_error, o.created_at
                FROM webhook_deliveries d JOIN outbox o ON o.id = d.outbox_id
                WHERE \(condition) ORDER BY \(order) LIMIT \(limit)
                """, arguments: arguments
        ).map { row in
            let lastAttempt: Double? = row[8]
            return WebhookDeliveryRecord(
                endpoint: row[0], sequence: row[1], eventID: row[2], type: row[3], ticketNumber: row[4],
                state: WebhookDeliveryRecord.State(rawValue: row[5]) ?? .pending, attempts: row[6],
                nextAttemptAt: Date(timeIntervalSince1970: row[7]),
                lastAttemptAt: lastAttempt.map { Date(timeIntervalSince1970: $0) }, lastStatus: row[9],
                lastError: row[10], createdAt: Date(timeIntervalSince1970: row[11]))
        }
    }
}
