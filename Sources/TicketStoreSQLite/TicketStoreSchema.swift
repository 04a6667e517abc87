import GRDB

/// The database schema, as an ordered list of migrations. Migrations already applied are skipped, so opening
/// an existing database is idempotent; a released migration is never edited, only followed by a new one.
enum TicketStoreSchema {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration(
            "v1 (2026-11-23): tickets, articles, raw messages, contacts, attachments, delivery keys"
        ) { db in
            try db.execute(
                sql: """
                    CREATE TABLE contacts (
                        id INTEGER PRIMARY KEY,
                        address TEXT NOT NULL UNIQUE,     -- lower-cased addr-spec
                        name TEXT,
                        created_at REAL NOT NULL          -- Unix time, seconds
                    );
                    -- AUTOINCREMENT: a ticket number a customer has seen must never be handed out again,
                    -- or replies would thread into the wrong ticket.
                    CREATE TABLE tickets (
                        number INTEGER PRIMARY KEY AUTOINCREMENT,
                        queue TEXT NOT NULL,
                        status TEXT NOT NULL DEFAULT 'new',
                        subject TEXT NOT NULL,
                        requester_id INTEGER REFERENCES contacts(id),
                        source TEXT NOT NULL,
                        article_count INTEGER NOT NULL DEFAULT 0,
                        created_at REAL NOT NULL,
                        updated_at REAL NOT NULL
                    );
                    CREATE TABLE raw_messages (
                        id INTEGER PRIMARY KEY,
                        sha256 TEXT NOT NULL UNIQUE,
                        size INTEGER NOT NULL,
                        data BLOB NOT NULL,
                        received_at REAL NOT NULL
                    );
                    CREATE TABLE articles (
                        id INTEGER PRIMARY KEY,
                        ticket_number INTEGER NOT NULL REFERENCES tickets(number),
                        queue TEXT NOT NULL,              -- copied from the ticket so threading is one index probe
                        direction TEXT NOT NULL,
                        message_id TEXT,
                        in_reply_to_ids TEXT NOT NULL,    -- newline-separated Message-IDs
                        reference_ids TEXT NOT NULL,      -- newline-separated Message-IDs, oldest first
                        subject TEXT NOT NULL,
                        from_name TEXT,
                        from_address TEXT,
                        text TEXT NOT NULL,
                        html TEXT,
                        envelope_sender TEXT NOT NULL,
                        envelope_recipients TEXT NOT NULL, -- newline-separated
                        source TEXT NOT NULL,
                        session_id TEXT,
                        received_at REAL NOT NULL,
                        raw_sha256 TEXT NOT NULL REFERENCES raw_messages(sha256),
                        raw_size INTEGER NOT NULL
                    );
                    CREATE INDEX articles_by_message_id ON articles(message_id, queue);
                    CREATE INDEX articles_by_ticket ON articles(ticket_number, id);
                    -- To, Cc and Reply-To, one row per address: queryable, and cheaper to write than JSON.
                    CREATE TABLE article_addresses (
                        article_id INTEGER NOT NULL REFERENCES articles(id),
                        role TEXT NOT NULL,               -- to, cc, reply-to
                        position INTEGER NOT NULL,
                        name TEXT,
                        address TEXT NOT NULL,
                        PRIMARY KEY (article_id, role, position)
                    ) WITHOUT ROWID;
                    CREATE TABLE blobs (
                        id INTEGER PRIMARY KEY,
                        sha256 TEXT NOT NULL UNIQUE,
                        size INTEGER NOT NULL,
                        data BLOB NOT NULL
                    );
                    CREATE TABLE attachments (
                        id INTEGER PRIMARY KEY,
                        article_id INTEGER NOT NULL REFERENCES articles(id),
                        sha256 TEXT NOT NULL REFERENCES blobs(sha256),
                        filename TEXT,
                        content_type TEXT NOT NULL,
                        size INTEGER NOT NULL,
                        content_id TEXT,
                        disposition TEXT
                    );
                    CREATE INDEX attachments_by_article ON attachments(article_id);
                    -- Idempotency: Message-ID ('' if none) + SHA-256 of the raw bytes (through the raw
                    -- message's id) + queue. Keyed by the ever-growing raw id rather than the hash, inserts land on
                    -- the last page instead of a random one: one page less to write per message.
                    CREATE TABLE delivery_keys (
                        raw_message_id INTEGER NOT NULL REFERENCES raw_messages(id),
                        queue TEXT NOT NULL,
                        message_id TEXT NOT NULL,
                        ticket_number INTEGER NOT NULL REFERENCES tickets(number),
                        article_id INTEGER NOT NULL REFERENCES articles(id),
                        delivered_at REAL NOT NULL,
                        PRIMARY KEY (raw_message_id, queue, message_id)
                    ) WITHOUT ROWID;
                    """)
        }
        registerPipelineRecords(&migrator)
        return migrator
    }
}
