import GRDB

extension TicketStoreSchema {
    /// v4: deliveries that were only recorded (no ticket, no note) are remembered by the same key as
    /// `delivery_keys`, so that a redelivery after a lost reply is recorded as a duplicate rather than listed,
    /// counted (automated-mail budget) or added to the bounce list a second time.
    static func registerRecordedKeys(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v4 (2026-11-23): keys of deliveries that were only recorded") { db in
            try db.execute(
                sql: """
                    CREATE TABLE recorded_keys (
                        message_id TEXT NOT NULL,
                        content_sha256 TEXT NOT NULL,
                        queue TEXT NOT NULL,
                        disposition TEXT NOT NULL,
                        recorded_at REAL NOT NULL,
                        PRIMARY KEY (message_id, content_sha256, queue)
                    ) WITHOUT ROWID;
                    """)
        }
    }
}
