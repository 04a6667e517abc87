import GRDB

extension TicketStoreSchema {
    /// v7: the HTTP API. `api_tokens` holds only the SHA-256 of each bearer token (the token itself is printed
    /// once by `postdesk tokens create`); a revoked token keeps its row, so its name cannot be reused by mistake
    /// and `tokens list` shows when it was revoked. Tickets get an assignee, which only the API sets.
    static func registerAPITokens(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v7-api (2026-12-05): API tokens") { db in
            try db.execute(
                sql: """
                    CREATE TABLE api_tokens (
                        id INTEGER PRIMARY KEY,
                        name TEXT NOT NULL UNIQUE,
                        hash TEXT NOT NULL UNIQUE,        -- hex SHA-256 of the token
                        scope TEXT NOT NULL,              -- read | write
                        created_at REAL NOT NULL,
                        last_used_at REAL,
                        revoked_at REAL
                    );
                    ALTER TABLE tickets ADD COLUMN assignee TEXT;
                    """)
        }
    }
}
