import GRDB

extension TicketStoreSchema {
    /// v12: an outbound mail's HTML alternative (an agent's reply written with `html` through the API); NULL for
    /// plain text only, and for what the queue's templates render when the worker sends it.
    static func registerOutboundHTML(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v12-outbound-html (2026-12-05): outbound HTML bodies") { db in
            try db.execute(sql: "ALTER TABLE outbound_mail ADD COLUMN body_html TEXT")
        }
    }
}
