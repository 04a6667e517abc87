import GRDB

extension TicketStoreSchema {
    /// v3: the message bytes move to the last column of `raw_messages` and `quarantine`. A large message is
    /// inserted as a zero blob and filled in place (`IncrementalBlob`); SQLite keeps a zero blob unexpanded only
    /// when it ends the record, so in the middle it would allocate the message's whole size, twice.
    static func registerBlobsLast(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v3 (2026-11-23): message bytes in the last column, written in place") { db in
            try db.execute(
                sql: """
                    CREATE TABLE raw_messages_v3 (
                        id INTEGER PRIMARY KEY,
                        sha256 TEXT NOT NULL,             -- of `data`, to verify it
                        size INTEGER NOT NULL,
                        received_at REAL NOT NULL,
                        data BLOB NOT NULL                -- last: see IncrementalBlob
                    );
                    INSERT INTO raw_messages_v3(id, sha256, size, received_at, data)
                        SELECT id, sha256, size, received_at, data FROM raw_messages;
                    DROP TABLE raw_messages;
                    ALTER TABLE raw_messages_v3 RENAME TO raw_messages;
                    CREATE TABLE quarantine_v3 (
                        id INTEGER PRIMARY KEY,
                        received_at REAL NOT NULL,
                        source TEXT NOT NULL,
                        session_id TEXT,
                        envelope_sender TEXT NOT NULL,
                        envelope_recipients TEXT NOT NULL, -- newline-separated
                        size INTEGER NOT NULL,
                        error TEXT NOT NULL,
                        replayed_at REAL,
                        replay_result TEXT,
                        raw BLOB NOT NULL                 -- last: see IncrementalBlob
                    );
                    INSERT INTO quarantine_v3(id, received_at, source, session_id, envelope_sender,
                            envelope_recipients, size, error, replayed_at, replay_result, raw)
                        SELECT id, received_at, source, session_id, envelope_sender, envelope_recipients, size, error,
                            replayed_at, replay_result, raw
                        FROM quarantine;
                    DROP TABLE quarantine;
                    ALTER TABLE quarantine_v3 RENAME TO quarantine;
                    """)
        }
    }
}
