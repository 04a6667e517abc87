import GRDB

extension TicketStoreSchema {
    /// v6: the mailbox poller's state. `mailbox_items` holds what was done with each polled message (its IMAP UID
    /// under the folder's UIDVALIDITY, or its POP3 UIDL), `mailbox_status` each mailbox's health for
    /// `postdesk mailboxes`.
    static func registerMailboxState(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v6 (2026-12-05): mailbox poller state") { db in
            try db.execute(
                sql: """
                    CREATE TABLE mailbox_items (
                        mailbox TEXT NOT NULL,
                        folder TEXT NOT NULL,
                        validity INTEGER NOT NULL,
                        item TEXT NOT NULL,
                        state TEXT NOT NULL,
                        updated_at REAL NOT NULL,
                        PRIMARY KEY (mailbox, folder, validity, item)
                    ) WITHOUT ROWID;
                    CREATE TABLE mailbox_status (
                        mailbox TEXT PRIMARY KEY NOT NULL,
                        status_json TEXT NOT NULL,
                        updated_at REAL NOT NULL
                    ) WITHOUT ROWID;
                    """)
        }
    }
}
