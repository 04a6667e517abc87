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
                        created_at REAL NOT NULL,
                        updated_at REAL NOT NULL          -- last article or change
                    );
                    -- Not content-addressed: a message is stored once per delivery transaction (shared by every
                    -- queue it reaches there); a UNIQUE index on the hash would cost one random page write per
                    -- message on the serialized writer, to save space only when a later, separate delivery brings
                    -- the same bytes to another queue.
                    CREATE TABLE raw_messages (
                        id INTEGER PRIMARY KEY,
                        sha256 TEXT NOT NULL,             -- of `data`, to verify it
                        size INTEGER NOT NULL,
                        data BLOB NOT NULL,
                        received_at REAL NOT NULL
                    );
                    CREATE TABLE articles (
                        id INTEGER PRIMARY KEY,
                        ticket_number INTEGER NOT NULL REFERENCES tickets(number),
                        queue TEXT NOT NULL,
                        direction TEXT NOT NULL,
                        message_id TEXT,
                        in_reply_to_ids TEXT NOT NULL,    -- newline-separated Message-IDs
                        reference_ids TEXT NOT NULL,      -- newline-separated Message-IDs, oldest first
                        subject TEXT NOT NULL,
                        from_name TEXT,
                        from_address TEXT,
                        addresses TEXT NOT NULL,          -- To, Cc, Reply-To: one "role TAB name TAB address" per line
                        -- NULL: the text is what the parser renders from the raw message, and is rendered on read
                        -- rather than stored a second time; set for articles that have no such source (notes).
                        text TEXT,
                        html TEXT,
                        envelope_sender TEXT NOT NULL,
                        envelope_recipients TEXT NOT NULL, -- newline-separated
                        source TEXT NOT NULL,
                        session_id TEXT,
                        received_at REAL NOT NULL,
                        raw_message_id INTEGER REFERENCES raw_messages(id),
                        raw_sha256 TEXT NOT NULL,
                        raw_size INTEGER NOT NULL
                    );
                    CREATE INDEX articles_by_ticket ON articles(ticket_number, id);
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
                    -- One row per message stored in a queue, keyed by Message-ID ('' if none), then content hash,
                    -- then queue. It serves both lookups on the hot path with ONE index: idempotency (the whole
                    -- key) and threading (an In-Reply-To/References Message-ID + queue). A Message-ID is random,
                    -- so each insert dirties one random page; a second index on articles(message_id) would cost
                    -- another.
                    CREATE TABLE delivery_keys (
                        message_id TEXT NOT NULL,
                        content_sha256 TEXT NOT NULL,
                        queue TEXT NOT NULL,
                        ticket_number INTEGER NOT NULL REFERENCES tickets(number),
                        article_id INTEGER NOT NULL REFERENCES articles(id),
                        delivered_at REAL NOT NULL,
                        PRIMARY KEY (message_id, content_sha256, queue)
                    ) WITHOUT ROWID;
                    """)
        }
        registerPipelineRecords(&migrator)
        registerBlobsLast(&migrator)
        registerRecordedKeys(&migrator)
        registerMessageIdentityKeys(&migrator)
        registerMailboxState(&migrator)
        registerAPITokens(&migrator)
        registerOutbox(&migrator)
        registerOutbound(&migrator)
        registerMailCommands(&migrator)
        registerBouncingContacts(&migrator)
        registerOutboundHTML(&migrator)
        registerSharedAddressing(&migrator)
        registerBouncingIndex(&migrator)
        return migrator
    }
}
