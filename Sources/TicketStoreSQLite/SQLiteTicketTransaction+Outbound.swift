import Foundation
import GRDB
import MailParser
import TicketPipeline

extension SQLiteTicketTransaction {
    func enqueueOutboundMail(_ mail: NewOutboundMail) throws -> Int64 {
        let statement = try db.cachedStatement(
            sql: """
                INSERT INTO outbound_mail(kind, ticket_number, queue, recipient, recipient_name, subject, in_reply_to,
                    references_list, body_text, body_html, next_attempt_at, created_at, shared_addresses, message_id_of)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """)
        let created = mail.createdAt.timeIntervalSince1970
        let shared = mail.sharedAddressing
        let values: [(any DatabaseValueConvertible)?] = [
            mail.kind.rawValue, mail.ticketNumber, mail.queue, MailAddressForm.normalized(mail.recipient.address),
            mail.recipient.name, mail.subject, mail.inReplyTo, mail.references.joined(separator: " "), mail.text,
            mail.html, created, created, shared.map { AddressColumn.encode(to: $0.to, cc: $0.cc, replyTo: []) },
            shared?.messageIDOf,
        ]
        try statement.execute(arguments: StatementArguments(values))
        return db.lastInsertedRowID
    }

    func outboundMailCount(recipient: String, kind: OutboundMailKind, since: Date) throws -> Int {
        let statement = try db.cachedStatement(
            sql: "SELECT count(*) FROM outbound_mail WHERE recipient = ? AND kind = ? AND created_at > ?")
        return try Int.fetchOne(
            statement, arguments: [recipient, kind.rawValue, since.timeIntervalSince1970]) ?? 0
    }

    func dueOutboundMail(at now: Date, limit: Int) throws -> [OutboundMailItem] {
        let statement = try db.cachedStatement(
            sql: """
                SELECT id, kind, ticket_number, queue, recipient, recipient_name, subject, in_reply_to,
                    references_list, body_text, created_at, attempts, body_html, shared_addresses, message_id_of
                FROM outbound_mail WHERE state = 'pending' AND next_attempt_at <= ? ORDER BY next_attempt_at, id LIMIT ?
                """)
        return try Row.fetchAll(statement, arguments: [now.timeIntervalSince1970, limit]).compactMap { row in
            guard let kind = OutboundMailKind(rawValue: row[1]) else { return nil }
            let references: String = row[8]
            var mail = NewOutboundMail(
                kind: kind, ticketNumber: row[2], queue: row[3],
                recipient: MailAddress(name: row[5], address: row[4]), subject: row[6], inReplyTo: row[7],
                references: references.split(separator: " ").map(String.init), text: row[9],
                createdAt: Date(timeIntervalSince1970: row[10]))
            mail.html = row[12]
            if let column = row[13] as String? {
                let roles = AddressColumn.decode(column)
                mail.sharedAddressing = NewOutboundMail.SharedAddressing(
                    to: roles["to"] ?? [], cc: roles["cc"] ?? [], messageIDOf: row[14])
            }
            return OutboundMailItem(id: row[0], mail: mail, attempts: row[11])
        }
    }

    func recordOutboundAttempt(id: Int64, outcome: OutboundMailOutcome) throws {
        let (sql, values): (String, [(any DatabaseValueConvertible)?])
        switch outcome {
        case .sent(let at, let response):
            sql = """
                UPDATE outbound_mail SET state = 'sent', attempts = attempts + 1, last_result = ?, finished_at = ?
                WHERE id = ?
                """
            values = [response, at.timeIntervalSince1970, id]
        case .deferred(let retryAt, let reason):
            sql = """
                UPDATE outbound_mail SET attempts = attempts + 1, last_result = ?, next_attempt_at = ? WHERE id = ?
                """
            values = [reason, retryAt.timeIntervalSince1970, id]
        case .failed(let at, let reason):
            sql = """
                UPDATE outbound_mail SET state = 'failed', attempts = attempts + 1, last_result = ?, finished_at = ?
                WHERE id = ?
                """
            values = [reason, at.timeIntervalSince1970, id]
        case .suppressed(let at, let reason):
            sql = """
                UPDATE outbound_mail SET state = 'suppressed', last_result = ?, finished_at = ? WHERE id = ?
                """
            values = [reason, at.timeIntervalSince1970, id]
        }
        try db.cachedStatement(sql: sql).execute(arguments: StatementArguments(values))
    }

    func outboundMailSent(to recipient: String, since: Date) throws -> Bool {
        // outbound_mail_by_recipient: one index range per recipient.
        let statement = try db.cachedStatement(
            sql: """
                SELECT 1 FROM outbound_mail WHERE recipient = ? AND created_at > ? AND state IN ('sent', 'pending')
                LIMIT 1
                """)
        return try Int.fetchOne(statement, arguments: [recipient, since.timeIntervalSince1970]) != nil
    }

    func markBouncing(address: String, reason: String, at: Date) throws {
        let statement = try db.cachedStatement(
            sql: """
                INSERT INTO contacts(address, created_at, bouncing_since, bounce_reason) VALUES (?, ?, ?, ?)
                ON CONFLICT(address) DO UPDATE SET bouncing_since = excluded.bouncing_since,
                    bounce_reason = excluded.bounce_reason
                """)
        let time = at.timeIntervalSince1970
        try statement.execute(arguments: [address, time, time, reason])
    }

    func bouncing(address: String) throws -> BouncingAddress? {
        let statement = try db.cachedStatement(
            sql: """
                SELECT bouncing_since, bounce_reason FROM contacts WHERE address = ? AND bouncing_since IS NOT NULL
                """)
        guard let row = try Row.fetchOne(statement, arguments: [address]) else { return nil }
        return BouncingAddress(
            address: address, since: Date(timeIntervalSince1970: row[0]), reason: row[1] ?? "bounced")
    }

    func clearBouncing(address: String) throws -> Bool {
        let statement = try db.cachedStatement(
            sql: """
                UPDATE contacts SET bouncing_since = NULL, bounce_reason = NULL
                WHERE address = ? AND bouncing_since IS NOT NULL
                """)
        try statement.execute(arguments: [address])
        return db.changesCount > 0
    }
}
