import Foundation
import GRDB
import MailCommands
import TicketPipeline

extension SQLiteTicketTransaction {
    func setTicketFields(_ fields: [TicketField], ticket: Int, at date: Date) throws {
        let statement = try db.cachedStatement(
            sql: """
                INSERT INTO ticket_fields(ticket_number, name, kind, value, updated_at) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT(ticket_number, name) DO UPDATE SET kind = excluded.kind, value = excluded.value,
                    updated_at = excluded.updated_at
                """)
        for field in fields {
            try statement.execute(
                arguments: [ticket, field.name, field.kind.rawValue, field.value, date.timeIntervalSince1970])
        }
    }

    func setAccount(_ account: String, ticket: Int) throws {
        let statement = try db.cachedStatement(sql: "UPDATE tickets SET account = ? WHERE number = ?")
        try statement.execute(arguments: [account, ticket])
    }

    func openTicket(account: String, subject: String, queue: String) throws -> Int? {
        // The partial index tickets_open_by_account holds exactly the open tickets with an account.
        let statement = try db.cachedStatement(
            sql: """
                SELECT number FROM tickets
                WHERE account = ? AND queue = ? AND subject = ? AND status NOT IN ('solved', 'closed')
                ORDER BY number DESC LIMIT 1
                """)
        return try Int.fetchOne(statement, arguments: [account, queue, subject])
    }

    func requesterAddress(ticket number: Int) throws -> String? {
        let statement = try db.cachedStatement(
            sql: "SELECT c.address FROM tickets t JOIN contacts c ON c.id = t.requester_id WHERE t.number = ?")
        return try String.fetchOne(statement, arguments: [number])
    }

    func recordCommand(_ command: NewMailCommandRecord) throws {
        let statement = try db.cachedStatement(
            sql: """
                INSERT INTO mail_commands(received_at, sender, kind, operation, ticket_number, outcome, detail,
                    raw_sha256)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """)
        try statement.execute(
            arguments: [
                command.receivedAt.timeIntervalSince1970, command.sender, command.kind, command.operation,
                command.ticketNumber, command.outcome.rawValue, command.detail, command.rawSHA256,
            ])
    }

    func commandCount(sender: String, since: Date) throws -> Int {
        let statement = try db.cachedStatement(
            sql: "SELECT count(*) FROM mail_commands WHERE sender = ? AND received_at > ?")
        return try Int.fetchOne(statement, arguments: [sender, since.timeIntervalSince1970]) ?? 0
    }
}
