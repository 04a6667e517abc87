import GRDB

extension TicketStoreSchema {
    /// v10: mail that commands (issue 15). `ticket_fields` holds a ticket's typed fields (from structured requests,
    /// variable commands and XML transactions); `tickets.account` the customer an alert is about; `mail_commands`
    /// one row per command a message carried, applied or refused, which is both the audit trail and what the rate
    /// limit per sender counts. `outbound_mail.ticket_number` becomes optional: an XML transaction's response and a
    /// forwarded alert may concern no ticket.
    static func registerMailCommands(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v10-commands (2026-12-05): mail commands") { db in
            try db.execute(
                sql: """
                    CREATE TABLE ticket_fields (
                        ticket_number INTEGER NOT NULL REFERENCES tickets(number),
                        name TEXT NOT NULL,
                        kind TEXT NOT NULL,                 -- text, long_text, number, date, choice
                        value TEXT NOT NULL,                -- the canonical form of its kind
                        updated_at REAL NOT NULL,
                        PRIMARY KEY (ticket_number, name)
                    ) WITHOUT ROWID;
                    ALTER TABLE tickets ADD COLUMN account TEXT;
                    CREATE INDEX tickets_open_by_account ON tickets(account, queue, subject)
                        WHERE account IS NOT NULL AND status NOT IN ('solved', 'closed');
                    CREATE TABLE mail_commands (
                        id INTEGER PRIMARY KEY,
                        received_at REAL NOT NULL,
                        sender TEXT NOT NULL,               -- lower-cased From address, '' for none
                        kind TEXT NOT NULL,                 -- alert, xml, structured-request, variable-command
                        operation TEXT NOT NULL,            -- create, update, solve, ... or the alert rule
                        ticket_number INTEGER,
                        outcome TEXT NOT NULL,              -- applied, refused, invalid
                        detail TEXT NOT NULL,               -- which rule or command applied and why
                        raw_sha256 TEXT NOT NULL
                    );
                    CREATE INDEX mail_commands_by_sender ON mail_commands(sender, received_at);
                    CREATE TABLE outbound_mail_v10 (
                        id INTEGER PRIMARY KEY,
                        kind TEXT NOT NULL,
                        ticket_number INTEGER REFERENCES tickets(number),
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
                    INSERT INTO outbound_mail_v10 SELECT * FROM outbound_mail;
                    DROP TABLE outbound_mail;
                    ALTER TABLE outbound_mail_v10 RENAME TO outbound_mail;
                    CREATE INDEX outbound_mail_due ON outbound_mail(state, next_attempt_at);
                    CREATE INDEX outbound_mail_by_recipient ON outbound_mail(recipient, kind, created_at);
                    """)
        }
    }
}
