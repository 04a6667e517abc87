import Foundation
import GRDB
import TicketPipeline

/// The pipeline's record keeping: message records, activities, bounces, budgets, quarantine, and the ticket
/// lookups threading needs. Cached statements, like the rest of the writer's work.
extension SQLiteTicketTransaction {
    func deliveredTicket(sameContentAs key: DeliveryKey) throws -> Int? {
        guard !key.contentSHA256.isEmpty else { return nil }
        if key.messageID.isEmpty {
            let statement = try db.cachedStatement(
                sql: """
                    SELECT ticket_number FROM delivery_keys
                    WHERE length(message_id) = 0 AND queue = ? AND content_sha256 = ? LIMIT 1
                    """)
            return try Int.fetchOne(statement, arguments: [key.queue, key.contentSHA256])
        }
        // Every stored copy of this Message-ID in the queue (articles_by_message_id), then its delivery key
        // through the raw message (primary keys only).
        let statement = try db.cachedStatement(
            sql: """
                SELECT d.ticket_number FROM articles a
                JOIN raw_messages r ON r.sha256 = a.raw_sha256
                JOIN delivery_keys d ON d.raw_message_id = r.id AND d.queue = a.queue AND d.message_id = a.message_id
                WHERE a.message_id = ? AND a.queue = ? AND d.content_sha256 = ? LIMIT 1
                """)
        return try Int.fetchOne(statement, arguments: [key.messageID, key.queue, key.contentSHA256])
    }

    func contactID(address: String) throws -> Int64? {
        let statement = try db.cachedStatement(sql: "SELECT id FROM contacts WHERE address = ?")
        return try Int64.fetchOne(statement, arguments: [address])
    }

    func recordMessage(_ record: NewMessageRecord) throws {
        let statement = try db.cachedStatement(
            sql: """
                INSERT INTO message_records(received_at, source, session_id, envelope_sender, envelope_recipients,
                    message_id, subject, from_address, raw_sha256, raw_size, classification, disposition,
                    ticket_number, queues, decisions)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """)
        let values: [(any DatabaseValueConvertible)?] = [
            record.receivedAt.timeIntervalSince1970, record.source.rawValue, record.sessionID,
            record.envelopeSender, ListColumn.encode(record.envelopeRecipients), record.messageID, record.subject,
            record.fromAddress, record.rawSHA256, record.rawSize, record.classification,
            record.disposition.rawValue, record.ticketNumber, ListColumn.encode(record.queues), record.decisions,
        ]
        try statement.execute(arguments: StatementArguments(values))
    }

    func addActivity(_ activity: NewActivity) throws {
        let statement = try db.cachedStatement(
            sql: "INSERT INTO activities(ticket_number, kind, text, created_at) VALUES (?, ?, ?, ?)")
        try statement.execute(
            arguments: [activity.ticketNumber, activity.kind, activity.text, activity.createdAt.timeIntervalSince1970])
    }

    func recordBounce(_ bounce: NewBounceRecord) throws {
        let statement = try db.cachedStatement(
            sql: """
                INSERT INTO bounces(received_at, kind, rule, original_message_id, ticket_number, recipient, status,
                    diagnostic, summary, raw_sha256)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """)
        let values: [(any DatabaseValueConvertible)?] = [
            bounce.receivedAt.timeIntervalSince1970, bounce.kind, bounce.rule, bounce.originalMessageID,
            bounce.ticketNumber, bounce.recipient, bounce.status, bounce.diagnostic, bounce.summary,
            bounce.rawSHA256,
        ]
        try statement.execute(arguments: StatementArguments(values))
    }

    func ticketNumber(forAnyArticleMessageID messageID: String) throws -> Int? {
        // Served by articles_by_message_id (message_id is its first column).
        let statement = try db.cachedStatement(
            sql: "SELECT ticket_number FROM articles WHERE message_id = ? ORDER BY id DESC LIMIT 1")
        return try Int.fetchOne(statement, arguments: [messageID])
    }

    func countAutomatedMessage(sender: String, day: Date) throws -> Int {
        let statement = try db.cachedStatement(
            sql: """
                INSERT INTO automated_sender_counts(sender, day, count) VALUES (?, ?, 1)
                ON CONFLICT(sender, day) DO UPDATE SET count = count + 1
                RETURNING count
                """)
        return try Int.fetchOne(statement, arguments: [sender, day.timeIntervalSince1970]) ?? 1
    }

    func quarantine(_ entry: NewQuarantineEntry) throws -> Int64 {
        let statement = try db.cachedStatement(
            sql: """
                INSERT INTO quarantine(received_at, source, session_id, envelope_sender, envelope_recipients, size,
                    raw, error)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """)
        let values: [(any DatabaseValueConvertible)?] = [
            entry.receivedAt.timeIntervalSince1970, entry.source.rawValue, entry.sessionID, entry.envelopeSender,
            ListColumn.encode(entry.envelopeRecipients), entry.raw.count, Data(entry.raw), entry.error,
        ]
        try statement.execute(arguments: StatementArguments(values))
        return db.lastInsertedRowID
    }

    func markReplayed(quarantineID: Int64, at time: Date, result: String) throws {
        let statement = try db.cachedStatement(
            sql: "UPDATE quarantine SET replayed_at = ?, replay_result = ? WHERE id = ?")
        try statement.execute(arguments: [time.timeIntervalSince1970, result, quarantineID])
    }

    func quarantineReplayed(id: Int64) throws -> Bool {
        let statement = try db.cachedStatement(sql: "SELECT replayed_at IS NOT NULL FROM quarantine WHERE id = ?")
        return try Bool.fetchOne(statement, arguments: [id]) ?? false
    }

    func ticketState(number: Int) throws -> TicketState? {
        let statement = try db.cachedStatement(sql: "SELECT queue, status, updated_at FROM tickets WHERE number = ?")
        guard let row = try Row.fetchOne(statement, arguments: [number]) else { return nil }
        return TicketState(
            number: number, queue: row[0], status: row[1], updatedAt: Date(timeIntervalSince1970: row[2]))
    }

    func isParticipant(address: String, ticket number: Int) throws -> Bool {
        let statement = try db.cachedStatement(
            sql: """
                SELECT EXISTS (SELECT 1 FROM tickets t JOIN contacts c ON c.id = t.requester_id
                        WHERE t.number = ?1 AND c.address = ?2)
                    OR EXISTS (SELECT 1 FROM articles WHERE ticket_number = ?1 AND lower(from_address) = ?2)
                    OR EXISTS (SELECT 1 FROM articles a JOIN article_addresses x ON x.article_id = a.id
                        WHERE a.ticket_number = ?1 AND x.role IN ('to', 'cc') AND lower(x.address) = ?2)
                """)
        return try Bool.fetchOne(statement, arguments: [number, address]) ?? false
    }

    func setStatus(_ status: String, ticket number: Int, at time: Date) throws {
        let statement = try db.cachedStatement(
            sql: "UPDATE tickets SET status = ?, updated_at = MAX(updated_at, ?) WHERE number = ?")
        try statement.execute(arguments: [status, time.timeIntervalSince1970, number])
    }
}
