import Foundation
import GRDB
import TicketPipeline

/// Reads of the pipeline's records (message records, bounces, quarantine, activities), on reader connections.
enum RecordReads {
    private static let messageColumns = """
        id, received_at, source, session_id, envelope_sender, envelope_recipients, message_id, subject,
        from_address, raw_sha256, raw_size, classification, disposition, ticket_number, queues, decisions
        """

    private static func messageRecord(_ row: Row) -> MessageRecord {
        let decisions: String = row[15]
        return MessageRecord(
            id: row[0], receivedAt: Date(timeIntervalSince1970: row[1]),
            source: IntakeSource(rawValue: row[2]) ?? .replay, sessionID: row[3], envelopeSender: row[4],
            envelopeRecipients: ListColumn.decode(row[5]), messageID: row[6], subject: row[7], fromAddress: row[8],
            rawSHA256: row[9], rawSize: row[10], classification: row[11],
            disposition: MessageDisposition(rawValue: row[12]) ?? .dropped, ticketNumber: row[13],
            queues: ListColumn.decode(row[14]),
            decisions: decisions.split(separator: "\n", omittingEmptySubsequences: true).map(String.init))
    }

    static func messageRecords(_ db: Database, limit: Int, offset: Int) throws -> [MessageRecord] {
        try Row.fetchAll(
            db, sql: "SELECT \(messageColumns) FROM message_records ORDER BY id DESC LIMIT ? OFFSET ?",
            arguments: [max(0, limit), max(0, offset)]
        ).map(messageRecord)
    }

    /// Newest first, below `beforeID` (the API's pages): a range read on the primary key.
    static func messageRecords(_ db: Database, beforeID: Int64?, limit: Int) throws -> [MessageRecord] {
        try Row.fetchAll(
            db, sql: "SELECT \(messageColumns) FROM message_records WHERE id < ? ORDER BY id DESC LIMIT ?",
            arguments: [beforeID ?? Int64.max, max(0, limit)]
        ).map(messageRecord)
    }

    static func messageRecord(_ db: Database, id: Int64) throws -> MessageRecord? {
        try Row.fetchOne(db, sql: "SELECT \(messageColumns) FROM message_records WHERE id = ?", arguments: [id])
            .map(messageRecord)
    }

    static func dispositionCounts(_ db: Database) throws -> [MessageDisposition: Int] {
        var counts: [MessageDisposition: Int] = [:]
        for row in try Row.fetchAll(
            db, sql: "SELECT disposition, COUNT(*) FROM message_records GROUP BY disposition")
        {
            let name: String = row[0]
            if let disposition = MessageDisposition(rawValue: name) { counts[disposition] = row[1] }
        }
        return counts
    }

    static func bounceRecords(
        _ db: Database, unmatchedOnly: Bool, beforeID: Int64? = nil, limit: Int
    ) throws -> [BounceRecord] {
        try Row.fetchAll(
            db,
            sql: """
                SELECT id, received_at, kind, rule, original_message_id, ticket_number, recipient, status,
                    diagnostic, summary
                FROM bounces WHERE id < ? \(unmatchedOnly ? "AND ticket_number IS NULL" : "") ORDER BY id DESC LIMIT ?
                """, arguments: [beforeID ?? Int64.max, max(0, limit)]
        ).map { row in
            BounceRecord(
                id: row[0], receivedAt: Date(timeIntervalSince1970: row[1]), kind: row[2], rule: row[3],
                originalMessageID: row[4], ticketNumber: row[5], recipient: row[6], status: row[7],
                diagnostic: row[8], summary: row[9])
        }
    }

    private static func quarantineEntry(_ row: Row, withRaw: Bool) -> QuarantineEntry {
        let replayedAt: Double? = row[8]
        let raw: Data? = withRaw ? row[10] : nil
        return QuarantineEntry(
            id: row[0], receivedAt: Date(timeIntervalSince1970: row[1]),
            source: IntakeSource(rawValue: row[2]) ?? .replay, sessionID: row[3], envelopeSender: row[4],
            envelopeRecipients: ListColumn.decode(row[5]), size: row[6], error: row[7],
            replayedAt: replayedAt.map(Date.init(timeIntervalSince1970:)), replayResult: row[9],
            raw: raw.map { [UInt8]($0) } ?? [])
    }

    static func quarantinedMessages(_ db: Database, limit: Int, offset: Int) throws -> [QuarantineEntry] {
        try Row.fetchAll(
            db,
            sql: """
                SELECT id, received_at, source, session_id, envelope_sender, envelope_recipients, size, error,
                    replayed_at, replay_result
                FROM quarantine ORDER BY id DESC LIMIT ? OFFSET ?
                """, arguments: [max(0, limit), max(0, offset)]
        ).map { quarantineEntry($0, withRaw: false) }
    }

    /// Newest first, below `beforeID`, without their raw bytes (the API's pages).
    static func quarantinedMessages(_ db: Database, beforeID: Int64?, limit: Int) throws -> [QuarantineEntry] {
        try Row.fetchAll(
            db,
            sql: """
                SELECT id, received_at, source, session_id, envelope_sender, envelope_recipients, size, error,
                    replayed_at, replay_result
                FROM quarantine WHERE id < ? ORDER BY id DESC LIMIT ?
                """, arguments: [beforeID ?? Int64.max, max(0, limit)]
        ).map { quarantineEntry($0, withRaw: false) }
    }

    static func quarantinedMessage(_ db: Database, id: Int64) throws -> QuarantineEntry? {
        try Row.fetchOne(
            db,
            sql: """
                SELECT id, received_at, source, session_id, envelope_sender, envelope_recipients, size, error,
                    replayed_at, replay_result, raw
                FROM quarantine WHERE id = ?
                """, arguments: [id]
        ).map { quarantineEntry($0, withRaw: true) }
    }

    static func ticketDefaults(_ db: Database, ticket: Int) throws -> TicketDefaults {
        guard
            let row = try Row.fetchOne(
                db, sql: "SELECT category, priority, type FROM tickets WHERE number = ?", arguments: [ticket])
        else { return TicketDefaults() }
        return TicketDefaults(category: row[0], priority: row[1], type: row[2])
    }

    static func activities(_ db: Database, ticket: Int) throws -> [ActivityDetail] {
        try Row.fetchAll(
            db, sql: "SELECT kind, text, created_at FROM activities WHERE ticket_number = ? ORDER BY id",
            arguments: [ticket]
        ).map { row in ActivityDetail(kind: row[0], text: row[1], createdAt: Date(timeIntervalSince1970: row[2])) }
    }
}
