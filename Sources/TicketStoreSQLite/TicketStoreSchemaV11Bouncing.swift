import GRDB

extension TicketStoreSchema {
    /// v10: a contact our own mail bounced from is flagged, with when and why, until a later delivery to it succeeds
    /// or an operator clears it (`postdesk contacts unbounce`); outbound mail to it is suppressed meanwhile.
    static func registerBouncingContacts(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v11-bouncing (2026-12-05): bouncing contacts") { db in
            try db.execute(
                sql: """
                    ALTER TABLE contacts ADD COLUMN bouncing_since REAL;
                    ALTER TABLE contacts ADD COLUMN bounce_reason TEXT;
                    """)
        }
    }
}
