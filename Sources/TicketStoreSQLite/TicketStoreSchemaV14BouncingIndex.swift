import GRDB

extension TicketStoreSchema {
    /// v14: the bouncing contacts in list order (most recent first), so that a page of them is one index range and
    /// not a scan of every contact.
    static func registerBouncingIndex(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v14-bouncing-index (2026-12-05): bouncing contacts in list order") { db in
            try db.execute(
                sql: """
                    CREATE INDEX contacts_bouncing ON contacts(bouncing_since DESC, id DESC)
                    WHERE bouncing_since IS NOT NULL
                    """)
        }
    }
}
