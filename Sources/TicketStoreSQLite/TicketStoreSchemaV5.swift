import GRDB

extension TicketStoreSchema {
    /// v5: deduplication by the message's identity (`MessageIdentity`: From, To, Cc, Subject, Date, Message-ID
    /// and the normalised body) instead of Message-ID + body, and Message-IDs that thread only for their first
    /// holder.
    ///
    /// `key_format` says what `content_sha256` holds: 1 for rows written before v5 (the normalised body's hash),
    /// 2 for the identity hash. Old rows keep working: a redelivery of a message with a Message-ID still finds
    /// its pre-v5 row (same Message-ID and body: that old key identified one message), while a pre-v5 row without
    /// Message-ID, keyed by the body alone, is never taken as the same message again. `threads` says whether
    /// the row's Message-ID threads replies (0 when another sender or ticket held it first); every row written
    /// before v5 does, and the oldest holder wins.
    static func registerMessageIdentityKeys(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v5 (2026-12-05): identity keys for deduplication, first holder of a Message-ID") {
            db in
            try db.execute(
                sql: """
                    ALTER TABLE delivery_keys ADD COLUMN key_format INTEGER NOT NULL DEFAULT 1;
                    ALTER TABLE delivery_keys ADD COLUMN threads INTEGER NOT NULL DEFAULT 1;
                    ALTER TABLE recorded_keys ADD COLUMN key_format INTEGER NOT NULL DEFAULT 1;
                    """)
        }
    }
}
