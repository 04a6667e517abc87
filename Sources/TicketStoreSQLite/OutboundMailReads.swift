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

    /// Addresses our mail bounced from (outbound mail to them is suppressed), most recent first.
    public func bouncingAddresses(limit: Int) async throws -> [BouncingAddress] {
        try await read("list bouncing addresses") { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT address, bouncing_since, bounce_reason FROM contacts WHERE bouncing_since IS NOT NULL
                    ORDER BY bouncing_since DESC LIMIT ?
                    """, arguments: [max(0, limit)]
            ).map { row in
                BouncingAddress(
                    address: row[0], since: Date(timeIntervalSince1970: row[1]), reason: row[2] ?? "bounced")
            }
        }
    }
}
