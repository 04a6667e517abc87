import Foundation
import GRDB
import MessageSpool
import TicketPipeline

/// The pipeline's record keeping: message records, activities, bounces, budgets, quarantine, and the ticket
/// lookups threading needs. Cached statements, like the rest of the writer's work.
extension SQLiteTicketTransaction {
    func recordedDisposition(sameContentAs key: DeliveryKey) throws -> MessageDisposition? {
        guard !key.identitySHA256.isEmpty else { return nil }
        let statement: WriterStatement
        if !key.messageID.isEmpty, !key.bodySHA256.isEmpty {
            statement = try WriterStatement(
                db,
                """
                SELECT disposition FROM recorded_keys
                WHERE message_id = ?1 AND queue = ?2
                    AND ((content_sha256 = ?3 AND key_format = 2) OR (content_sha256 = ?4 AND key_format = 1))
                LIMIT 1
                """)
            statement.bind(1, key.messageID)
            statement.bind(2, key.queue)
            statement.bind(3, key.identitySHA256)
            statement.bind(4, key.bodySHA256)
        } else {
            statement = try WriterStatement(
                db,
                """
                SELECT disposition FROM recorded_keys
                WHERE message_id = ? AND content_sha256 = ? AND queue = ? AND key_format = 2
                """)
            statement.bind(1, key.messageID)
            statement.bind(2, key.identitySHA256)
            statement.bind(3, key.queue)
        }
        return try statement.fetchText().flatMap(MessageDisposition.init(rawValue:))
    }

    func rememberRecorded(_ key: DeliveryKey, disposition: MessageDisposition, at time: Date) throws {
        guard !key.identitySHA256.isEmpty else { return }
        let statement = try WriterStatement(
            db,
            """
            INSERT INTO recorded_keys(message_id, content_sha256, queue, disposition, recorded_at, key_format)
            VALUES (?, ?, ?, ?, ?, 2) ON CONFLICT DO NOTHING
            """)
        statement.bind(1, key.messageID)
        statement.bind(2, key.identitySHA256)
        statement.bind(3, key.queue)
        statement.bind(4, disposition.rawValue)
        statement.bind(5, time.timeIntervalSince1970)
        try statement.execute()
    }

    func contactID(address: String) throws -> Int64? {
        let statement = try db.cachedStatement(sql: "SELECT id FROM contacts WHERE address = ?")
        return try Int64.fetchOne(statement, arguments: [address])
    }

    func recordMessage(_ record: NewMessageRecord) throws {
        // Written for every message: bound directly, like the other statements of the hot path.
        let statement = try WriterStatement(
            db,
            """
            INSERT INTO message_records(received_at, source, session_id, envelope_sender, envelope_recipients,
                message_id, subject, from_address, raw_sha256, raw_size, classification, disposition,
                ticket_number, queues, decisions)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """)
        statement.bind(1, record.receivedAt.timeIntervalSince1970)
        statement.bind(2, record.source.rawValue)
        statement.bind(3, record.sessionID)
        statement.bind(4, record.envelopeSender)
        statement.bind(5, ListColumn.encode(record.envelopeRecipients))
        statement.bind(6, record.messageID)
        statement.bind(7, record.subject)
        statement.bind(8, record.fromAddress)
        statement.bind(9, record.rawSHA256)
        statement.bind(10, record.rawSize)
        statement.bind(11, record.classification)
        statement.bind(12, record.disposition.rawValue)
        statement.bind(13, record.ticketNumber.map { Int64($0) })
        statement.bind(14, ListColumn.encode(record.queues))
        statement.bind(15, record.decisions)
        try statement.execute()
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
        // A prefix of delivery_keys' primary key (message_id comes first); the oldest holder, as for threading.
        let statement = try WriterStatement(
            db,
            "SELECT ticket_number FROM delivery_keys WHERE message_id = ? AND threads = 1 ORDER BY article_id LIMIT 1"
        )
        statement.bind(1, messageID)
        return try statement.fetchInteger().map { Int($0) }
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
                    error, raw)
                VALUES (?, ?, ?, ?, ?, ?, ?, zeroblob(?))
                """)
        // The raw bytes go in as a zero blob filled in chunks: a quarantined message may be a spooled 100 MB one.
        let values: [(any DatabaseValueConvertible)?] = [
            entry.receivedAt.timeIntervalSince1970, entry.source.rawValue, entry.sessionID, entry.envelopeSender,
            ListColumn.encode(entry.envelopeRecipients), entry.raw.count, entry.error, entry.raw.count,
        ]
        try statement.execute(arguments: StatementArguments(values))
        let row = db.lastInsertedRowID
        try IncrementalBlob.copy(entry.raw, into: db, table: "quarantine", column: "raw", row: row)
        return row
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
        let direct = try db.cachedStatement(sql: Self.participantSQL)
        if try Bool.fetchOne(direct, arguments: [number, address]) ?? false { return true }
        // Everyone an article of the ticket was addressed to (To or Cc). Asked for at most a few tickets per
        // message (capped references and subject tags), so reading the ticket's address columns is cheap enough.
        let addressed = try db.cachedStatement(sql: Self.addressedSQL)
        for column in try String.fetchAll(addressed, arguments: [number]) {
            let roles = AddressColumn.decode(column)
            let recipients = (roles["to"] ?? []) + (roles["cc"] ?? [])
            if recipients.contains(where: { $0.address.lowercased() == address }) { return true }
        }
        return false
    }

    /// The requester, or the sender of an article, of one ticket: the tickets' and contacts' primary keys and
    /// `articles_by_ticket`.
    static let participantSQL = """
        SELECT EXISTS (SELECT 1 FROM tickets t JOIN contacts c ON c.id = t.requester_id
                WHERE t.number = ?1 AND c.address = ?2)
            OR EXISTS (SELECT 1 FROM articles WHERE ticket_number = ?1 AND lower(from_address) = ?2)
        """
    static let addressedSQL = "SELECT addresses FROM articles WHERE ticket_number = ?"

    /// Every statement threading runs on the writer, for the test that checks each is an index search.
    static var threadingSQL: [String] {
        [
            ticketExistsSQL, threadingHandleSQL, holdersSQL, participantSQL, addressedSQL, deliveredSQL,
            deliveredWithLegacySQL,
        ]
    }

    func setStatus(_ status: String, ticket number: Int, at time: Date) throws {
        let statement = try db.cachedStatement(
            sql: "UPDATE tickets SET status = ?, updated_at = MAX(updated_at, ?) WHERE number = ?")
        try statement.execute(arguments: [status, time.timeIntervalSince1970, number])
    }
}
