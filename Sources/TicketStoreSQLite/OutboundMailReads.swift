import Foundation
import GRDB
import TicketPipeline

extension TicketDatabaseReading {
    /// The outbound mail queue, newest first; `state` keeps only pending, sent, failed or suppressed mail.
    public func outboundMailRecords(state: String? = nil, limit: Int) async throws -> [OutboundMailRecord] {
        try await read("list outbound mail") { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT id, kind, ticket_number, queue, recipient, subject, state, attempts, last_result,
                        created_at, finished_at
                    FROM outbound_mail WHERE ? IS NULL OR state = ? ORDER BY id DESC LIMIT ?
                    """, arguments: [state, state, max(0, limit)]
            ).map { row in
                let finished: Double? = row[10]
                return OutboundMailRecord(
                    id: row[0], kind: row[1], ticketNumber: row[2], queue: row[3], recipient: row[4], subject: row[5],
                    state: row[6], attempts: row[7], lastResult: row[8], createdAt: Date(timeIntervalSince1970: row[9]),
                    finishedAt: finished.map(Date.init(timeIntervalSince1970:)))
            }
        }
    }

    /// Addresses our mail bounced from (outbound mail to them is suppressed), most recent first (the same moment:
    /// the newer contact first), `limit` of them after `position` (where the previous page ended). One range of the
    /// partial index `contacts_bouncing`: O(limit), however many contacts there are.
    public func bouncingAddresses(
        limit: Int, after position: BouncingAddressPage.Position? = nil
    ) async throws -> BouncingAddressPage {
        try await read("list bouncing addresses") { db in
            var sql = """
                SELECT address, bouncing_since, bounce_reason, id FROM contacts WHERE bouncing_since IS NOT NULL
                """
            var arguments = StatementArguments()
            if let position {
                sql += " AND (bouncing_since < ? OR (bouncing_since = ? AND id < ?))"
                arguments += [position.since, position.since, position.contactID]
            }
            sql += " ORDER BY bouncing_since DESC, id DESC LIMIT ?"
            arguments += [max(0, limit) + 1]
            let rows = try Row.fetchAll(db, sql: sql, arguments: arguments)
            let shown = rows.prefix(max(0, limit))
            return BouncingAddressPage(
                items: shown.map { row in
                    BouncingAddress(
                        address: row[0], since: Date(timeIntervalSince1970: row[1]), reason: row[2] ?? "bounced")
                },
                next: rows.count > shown.count ? shown.last.map { .init(since: $0[1], contactID: $0[3]) } : nil)
        }
    }
}

extension SQLiteTicketStore {
    /// One step of the index `outbound_mail_due` (state, next_attempt_at).
    public func nextOutboundMailDue() async throws -> Date? {
        try await read("look at the outbound queue") { db in
            try Double.fetchOne(
                db, sql: "SELECT MIN(next_attempt_at) FROM outbound_mail WHERE state = 'pending'"
            ).map(Date.init(timeIntervalSince1970:))
        }
    }
}
