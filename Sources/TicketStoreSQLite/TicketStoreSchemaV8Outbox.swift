import GRDB

extension TicketStoreSchema {
    /// v8: the transactional outbox. `outbox` holds every event, written in the transaction of the change it
    /// reports; `webhook_endpoints` remembers how far each configured endpoint's deliveries were fanned out;
    /// `webhook_deliveries` is one row per event and endpoint with its delivery state, so a restart resumes.
    static func registerOutbox(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v8-outbox (2026-12-05): transactional outbox") { db in
            try db.execute(
                sql: """
                    -- AUTOINCREMENT: ids only grow, even after old events are pruned, so an endpoint's cursor
                    -- (webhook_endpoints.last_outbox_id) never skips a new event that reused an id.
                    CREATE TABLE outbox (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        event_id TEXT NOT NULL UNIQUE,      -- evt_ + time + random: receivers deduplicate by it
                        type TEXT NOT NULL,                 -- ticket.created, article.added, ...
                        ticket_number INTEGER,              -- events of one ticket are delivered in id order
                        article_id INTEGER,                 -- its text is rendered when the event is sent
                        payload TEXT NOT NULL,              -- the event's data (JSON), without the article text
                        created_at REAL NOT NULL
                    );
                    CREATE TABLE webhook_endpoints (
                        name TEXT PRIMARY KEY NOT NULL,
                        last_outbox_id INTEGER NOT NULL,    -- events up to this id have their delivery rows
                        created_at REAL NOT NULL
                    ) WITHOUT ROWID;
                    CREATE TABLE webhook_deliveries (
                        endpoint TEXT NOT NULL,
                        outbox_id INTEGER NOT NULL REFERENCES outbox(id) ON DELETE CASCADE,
                        ticket_number INTEGER,
                        state TEXT NOT NULL,                -- pending, delivered, failed
                        attempts INTEGER NOT NULL DEFAULT 0,
                        next_attempt_at REAL NOT NULL,
                        last_attempt_at REAL,
                        last_status INTEGER,                -- the receiver's HTTP status, NULL without an answer
                        last_error TEXT,
                        delivered_at REAL,
                        PRIMARY KEY (endpoint, outbox_id)
                    ) WITHOUT ROWID;
                    CREATE INDEX webhook_deliveries_due ON webhook_deliveries(state, next_attempt_at);
                    CREATE INDEX webhook_deliveries_pending_by_ticket
                        ON webhook_deliveries(endpoint, ticket_number, outbox_id) WHERE state = 'pending';
                    """)
        }
    }
}
