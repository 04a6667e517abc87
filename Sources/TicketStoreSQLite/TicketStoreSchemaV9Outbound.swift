import GRDB

extension TicketStoreSchema {
    /// v9: the outbound mail queue. A row is written in the transaction of the change that causes the mail (a new
    /// ticket's acknowledgement) and updated by the sending worker: `pending` until sent, `sent`, or `failed`.
    static func registerOutbound(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v9-outbound (2026-12-05): outbound mail") { db in
            try db.execute(
                sql: """
                    CREATE TABLE outbound_mail (
                        id INTEGER PRIMARY KEY,
                        kind TEXT NOT NULL,
                        ticket_number INTEGER NOT NULL REFERENCES tickets(number),
                        queue TEXT NOT NULL,
                        recipient TEXT NOT NULL,
                        recipient_name TEXT,
                        subject TEXT NOT NULL,
                        in_reply_to TEXT,
                        references_list TEXT NOT NULL,
                        body_text TEXT,
                        state TEXT NOT NULL DEFAULT 'pending',
                        attempts INTEGER NOT NULL DEFAULT 0,
                        next_attempt_at REAL NOT NULL,
                        last_result TEXT,
                        created_at REAL NOT NULL,
                        finished_at REAL
                    );
                    CREATE INDEX outbound_mail_due ON outbound_mail(state, next_attempt_at);
                    CREATE INDEX outbound_mail_by_recipient ON outbound_mail(recipient, kind, created_at);
                    """)
        }
    }
}
