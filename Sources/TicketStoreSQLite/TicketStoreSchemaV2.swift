import GRDB

extension TicketStoreSchema {
    /// v2: what the pipeline records besides tickets — one record per message, system activities on tickets,
    /// bounces (those without a ticket form the bounce list), automated-mail counts per sender and day, and the
    /// quarantine. Only `message_records` is written for every ordinary message; it has no secondary index so
    /// that the insert touches one page, and the per-disposition counters are a `GROUP BY` over it.
    static func registerPipelineRecords(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration(
            "v2 (2026-11-23): message records, activities, bounces, automated sender counts, quarantine"
        ) { db in
            try db.execute(
                sql: """
                    CREATE TABLE message_records (
                        id INTEGER PRIMARY KEY,
                        received_at REAL NOT NULL,
                        source TEXT NOT NULL,
                        session_id TEXT,
                        envelope_sender TEXT NOT NULL,
                        envelope_recipients TEXT NOT NULL, -- newline-separated
                        message_id TEXT,
                        subject TEXT,
                        from_address TEXT,
                        raw_sha256 TEXT NOT NULL,          -- not a reference: dropped mail's bytes are not kept
                        raw_size INTEGER NOT NULL,
                        classification TEXT NOT NULL,
                        disposition TEXT NOT NULL,
                        ticket_number INTEGER,
                        queues TEXT NOT NULL,              -- newline-separated
                        decisions TEXT NOT NULL            -- one decision per line
                    );
                    CREATE TABLE activities (
                        id INTEGER PRIMARY KEY,
                        ticket_number INTEGER NOT NULL REFERENCES tickets(number),
                        kind TEXT NOT NULL,
                        text TEXT NOT NULL,
                        created_at REAL NOT NULL
                    );
                    CREATE INDEX activities_by_ticket ON activities(ticket_number, id);
                    CREATE TABLE bounces (
                        id INTEGER PRIMARY KEY,
                        received_at REAL NOT NULL,
                        kind TEXT NOT NULL,
                        rule TEXT NOT NULL,
                        original_message_id TEXT,
                        ticket_number INTEGER REFERENCES tickets(number), -- NULL: the bounce list
                        recipient TEXT,
                        status TEXT,
                        diagnostic TEXT,
                        summary TEXT NOT NULL,
                        raw_sha256 TEXT NOT NULL REFERENCES raw_messages(sha256)
                    );
                    CREATE TABLE automated_sender_counts (
                        sender TEXT NOT NULL,
                        day REAL NOT NULL,                 -- start of the UTC day, Unix time
                        count INTEGER NOT NULL,
                        PRIMARY KEY (sender, day)
                    ) WITHOUT ROWID;
                    -- Deduplication by content (Message-ID + normalised-body hash). Messages with a Message-ID
                    -- are found through articles_by_message_id; only those without one need this partial
                    -- index, so an ordinary message costs no extra index write. Its condition is written
                    -- `length(message_id) = 0`, not `message_id = ''`: with the latter, every statement comparing
                    -- message_id to a bound parameter (the redelivery lookup) is re-prepared on each run, because
                    -- SQLite re-plans whenever the bound value might make the partial index usable.
                    ALTER TABLE delivery_keys ADD COLUMN content_sha256 TEXT;
                    CREATE INDEX delivery_keys_by_content_without_message_id
                        ON delivery_keys(queue, content_sha256) WHERE length(message_id) = 0;
                    -- A queue's defaults for new tickets.
                    ALTER TABLE tickets ADD COLUMN category TEXT;
                    ALTER TABLE tickets ADD COLUMN priority TEXT;
                    ALTER TABLE tickets ADD COLUMN type TEXT;
                    CREATE TABLE quarantine (
                        id INTEGER PRIMARY KEY,
                        received_at REAL NOT NULL,
                        source TEXT NOT NULL,
                        session_id TEXT,
                        envelope_sender TEXT NOT NULL,
                        envelope_recipients TEXT NOT NULL, -- newline-separated
                        size INTEGER NOT NULL,
                        raw BLOB NOT NULL,
                        error TEXT NOT NULL,
                        replayed_at REAL,
                        replay_result TEXT
                    );
                    """)
        }
    }
}
