import Foundation
import GRDB
import MailParser
import MessageSpool
import TicketPipeline

/// The pipeline's view of one write, backed by the writer connection. Every statement is a cached prepared
/// statement: the writer is the serialized part of intake, so it must not re-parse SQL for each message.
struct SQLiteTicketTransaction: TicketStoreTransaction {
    let db: Database
    /// Whether the store's own changes (`changeTicket`, API notes and replies) put outbox events: the same switch
    /// as the pipeline's `PipelineSettings.recordsEvents` (see `SQLiteTicketStore.recordsEvents`).
    let recordsEvents: Bool
    /// What this write created so far, which later calls of the same write build on.
    private let created = CreatedRows()

    init(db: Database, recordsEvents: Bool = false) {
        self.db = db
        self.recordsEvents = recordsEvents
    }

    func deliveredTicket(for key: DeliveryKey) throws -> Int? {
        if !key.messageID.isEmpty, !key.bodySHA256.isEmpty {
            let statement = try WriterStatement(db, Self.deliveredWithLegacySQL)
            statement.bind(1, key.messageID)
            statement.bind(2, key.queue)
            statement.bind(3, key.storedIdentitySHA256)
            statement.bind(4, key.bodySHA256)
            return try statement.fetchInteger().map { Int($0) }
        }
        let statement = try WriterStatement(db, Self.deliveredSQL)
        statement.bind(1, key.messageID)
        statement.bind(2, key.storedIdentitySHA256)
        statement.bind(3, key.queue)
        return try statement.fetchInteger().map { Int($0) }
    }

    /// The identity key alone (rows of schema v5 and later).
    static let deliveredSQL = """
        SELECT ticket_number FROM delivery_keys
        WHERE message_id = ? AND content_sha256 = ? AND queue = ? AND key_format = 2
        """
    /// The identity key, or a pre-v5 row with the same Message-ID and body: one index range (the Message-ID).
    static let deliveredWithLegacySQL = """
        SELECT ticket_number FROM delivery_keys
        WHERE message_id = ?1 AND queue = ?2
            AND ((content_sha256 = ?3 AND key_format = 2) OR (content_sha256 = ?4 AND key_format = 1))
        LIMIT 1
        """

    func ticketNumber(forArticleMessageID messageID: String, queue: String) throws -> Int? {
        let statement = try WriterStatement(db, Self.threadingHandleSQL)
        statement.bind(1, messageID)
        statement.bind(2, queue)
        return try statement.fetchInteger().map { Int($0) }
    }

    /// The oldest article holding the Message-ID as a threading handle: a later message reusing it (an
    /// attacker's, or a resend) never takes the thread over.
    static let threadingHandleSQL = """
        SELECT ticket_number FROM delivery_keys WHERE message_id = ? AND queue = ? AND threads = 1
        ORDER BY article_id LIMIT 1
        """

    func messageIDHolders(_ messageID: String) throws -> [MessageIDHolder] {
        // Almost every Message-ID is new: one indexed probe on the writer answers that without decoding rows.
        let probe = try WriterStatement(db, Self.anyHolderSQL)
        probe.bind(1, messageID)
        guard try probe.fetchInteger() != nil else { return [] }
        let statement = try db.cachedStatement(sql: Self.holdersSQL)
        return try Row.fetchAll(statement, arguments: [messageID]).map { row in
            MessageIDHolder(ticket: row[0], queue: row[1], sender: (row[2] as String?)?.lowercased())
        }
    }

    static let anyHolderSQL = "SELECT 1 FROM delivery_keys WHERE message_id = ? AND threads = 1 LIMIT 1"

    static let holdersSQL = """
        SELECT d.ticket_number, d.queue, a.from_address FROM delivery_keys d JOIN articles a ON a.id = d.article_id
        WHERE d.message_id = ? AND d.threads = 1 ORDER BY d.article_id LIMIT 20
        """

    func ticketExists(number: Int, queue: String) throws -> Bool {
        let statement = try WriterStatement(db, Self.ticketExistsSQL)
        statement.bind(1, number)
        statement.bind(2, queue)
        return try statement.fetchInteger() != nil
    }

    static let ticketExistsSQL = "SELECT 1 FROM tickets WHERE number = ? AND queue = ?"

    func upsertContact(address: String, name: String?) throws -> Int64 {
        let name = name.flatMap { $0.isEmpty ? nil : $0 }
        // Read first: most mail comes from known contacts, and a read dirties no page.
        let lookup = try WriterStatement(db, "SELECT id, name IS NULL FROM contacts WHERE address = ?")
        lookup.bind(1, address)
        if let (id, nameMissing) = try lookup.fetchIntegerPair() {
            if nameMissing != 0, let name {
                let update = try WriterStatement(db, "UPDATE contacts SET name = ? WHERE id = ?")
                update.bind(1, name)
                update.bind(2, id)
                try update.execute()
            }
            return id
        }
        let insert = try WriterStatement(db, "INSERT INTO contacts(address, name, created_at) VALUES (?, ?, ?)")
        insert.bind(1, address)
        insert.bind(2, name)
        insert.bind(3, Date().timeIntervalSince1970)
        try insert.execute()
        return db.lastInsertedRowID
    }

    func storeRawMessage(sha256: String, message: RawMessage, receivedAt: Date) throws {
        if created.rawMessages[sha256] != nil { return }
        let statement = try WriterStatement(
            db, "INSERT INTO raw_messages(sha256, size, data, received_at) VALUES (?, ?, ?, ?)")
        let inChunks = message.isSpooled || message.count > IncrementalBlob.inlineLimit
        statement.bind(1, sha256)
        statement.bind(2, message.count)
        if inChunks {
            statement.bind(3, zeroBlobOf: message.count)
        } else {
            message.withUnsafeBytes { statement.bind(3, bytes: $0) }
        }
        statement.bind(4, receivedAt.timeIntervalSince1970)
        try statement.execute()
        let row = db.lastInsertedRowID
        if inChunks { try IncrementalBlob.copy(message, into: db, table: "raw_messages", column: "data", row: row) }
        created.rawMessages[sha256] = row
    }

    func createTicket(_ ticket: NewTicket) throws -> Int {
        let statement = try WriterStatement(
            db,
            """
            INSERT INTO tickets(queue, subject, requester_id, source, created_at, updated_at, category, priority, type)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
            """)
        let time = ticket.createdAt.timeIntervalSince1970
        statement.bind(1, ticket.queue)
        statement.bind(2, ticket.subject)
        statement.bind(3, ticket.requesterID)
        statement.bind(4, ticket.source.rawValue)
        statement.bind(5, time)
        statement.bind(6, time)
        statement.bind(7, ticket.defaults.category)
        statement.bind(8, ticket.defaults.priority)
        statement.bind(9, ticket.defaults.type)
        try statement.execute()
        let number = Int(db.lastInsertedRowID)
        created.tickets.insert(number)
        return number
    }

    func addArticle(_ article: NewArticle) throws -> Int64 {
        let rawMessageID = created.rawMessages[article.rawSHA256]
        if rawMessageID == nil && article.textDerivedFromRaw {
            throw TicketStoreError(
                kind: .other, operation: "add article to ticket \(article.ticketNumber)", path: "",
                underlying: "its text is to be rendered from a raw message not stored in this write")
        }
        let insert = try WriterStatement(
            db,
            """
            INSERT INTO articles(ticket_number, queue, direction, message_id, in_reply_to_ids, reference_ids,
                subject, from_name, from_address, addresses, text, html, envelope_sender, envelope_recipients,
                source, session_id, received_at, raw_message_id, raw_sha256, raw_size)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """)
        let received = article.receivedAt.timeIntervalSince1970
        insert.bind(1, article.ticketNumber)
        insert.bind(2, article.queue)
        insert.bind(3, article.direction.rawValue)
        insert.bind(4, article.messageID)
        insert.bind(5, ListColumn.encode(article.inReplyTo))
        insert.bind(6, ListColumn.encode(article.references))
        insert.bind(7, article.subject)
        insert.bind(8, article.from?.name)
        insert.bind(9, article.from?.address)
        insert.bind(10, AddressColumn.encode(to: article.to, cc: article.cc, replyTo: article.replyTo))
        insert.bind(11, article.textDerivedFromRaw ? nil : article.text)
        insert.bind(12, article.textDerivedFromRaw ? nil : article.html)
        insert.bind(13, article.envelopeSender)
        insert.bind(14, ListColumn.encode(article.envelopeRecipients))
        insert.bind(15, article.source.rawValue)
        insert.bind(16, article.sessionID)
        insert.bind(17, received)
        insert.bind(18, rawMessageID)
        insert.bind(19, article.rawSHA256)
        insert.bind(20, article.rawSize)
        try insert.execute()
        let articleID = db.lastInsertedRowID

        // A ticket created in this write already carries this time; only a reply changes it.
        if !created.tickets.contains(article.ticketNumber) {
            let touch = try WriterStatement(db, "UPDATE tickets SET updated_at = MAX(updated_at, ?) WHERE number = ?")
            touch.bind(1, received)
            touch.bind(2, article.ticketNumber)
            try touch.execute()
        }
        return articleID
    }

    func storeAttachment(_ attachment: ParsedAttachment, articleID: Int64, rawMessage: RawMessage) throws {
        let blob = try WriterStatement(
            db, "INSERT INTO blobs(sha256, size, data) VALUES (?, ?, ?) ON CONFLICT(sha256) DO NOTHING")
        blob.bind(1, attachment.sha256)
        blob.bind(2, attachment.size)
        if let deferred = attachment.deferred {
            blob.bind(3, zeroBlobOf: attachment.size)
            try blob.execute()
            // Content already stored under this hash is not decoded again.
            if db.changesCount > 0 {
                try fillDeferred(deferred, of: attachment, from: rawMessage, row: db.lastInsertedRowID)
            }
        } else {
            blob.bind(3, bytes: attachment.data)
            try blob.execute()
        }
        let metadata = try db.cachedStatement(
            sql: """
                INSERT INTO attachments(article_id, sha256, filename, content_type, size, content_id, disposition)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                """)
        try metadata.execute(
            arguments: [
                articleID, attachment.sha256, attachment.filename, attachment.contentType, attachment.size,
                attachment.contentID, attachment.disposition,
            ])
    }

    /// Decodes a deferred attachment from its raw message straight into its zero blob.
    private func fillDeferred(
        _ deferred: DeferredContent, of attachment: ParsedAttachment, from rawMessage: RawMessage, row: Int64
    ) throws {
        try IncrementalBlob.fill(db, table: "blobs", column: "data", row: row) { blob in
            var offset = 0
            let relief = rawMessage.scanRelief
            try rawMessage.withUnsafeBytes { message in
                try deferred.decode(from: message, relief: relief) { chunk in
                    try blob.write(chunk, at: offset)
                    offset += chunk.count
                }
            }
            guard offset == blob.size else {
                throw DatabaseError(
                    resultCode: .SQLITE_MISMATCH,
                    message:
                        "attachment \(attachment.filename ?? attachment.sha256) decoded to \(offset) octets, "
                        + "measured \(blob.size) when parsed")
            }
        }
    }

    func recordDelivery(
        _ key: DeliveryKey, ticket: Int, articleID: Int64, at time: Date, registersMessageID: Bool
    ) throws {
        let statement = try WriterStatement(
            db,
            """
            INSERT INTO delivery_keys(message_id, content_sha256, queue, ticket_number, article_id, delivered_at,
                key_format, threads)
            VALUES (?, ?, ?, ?, ?, ?, 2, ?)
            """)
        statement.bind(1, key.messageID)
        statement.bind(2, key.storedIdentitySHA256)
        statement.bind(3, key.queue)
        statement.bind(4, ticket)
        statement.bind(5, articleID)
        statement.bind(6, time.timeIntervalSince1970)
        statement.bind(7, registersMessageID ? 1 : 0)
        try statement.execute()
    }
}

extension DeliveryKey {
    /// The hash `delivery_keys.content_sha256` holds for a key of format 2: the identity hash when known, else
    /// the raw bytes'.
    var storedIdentitySHA256: String { identitySHA256.isEmpty ? rawSHA256 : identitySHA256 }
}

/// Rows one write created, keyed the way its later calls ask for them. A class, so the transaction value the
/// pipeline holds can stay a struct and still remember across calls.
private final class CreatedRows {
    /// Raw message row ids by SHA-256: a message reaching several queues is stored once.
    var rawMessages: [String: Int64] = [:]
    var tickets: Set<Int> = []
}

/// Lists of Message-IDs and envelope addresses are stored newline-separated: neither can contain a line break
/// (SMTP commands and header tokens are single lines), and it avoids JSON on the writer's hot path.
enum ListColumn {
    static func encode(_ items: [String]) -> String {
        items.joined(separator: "\n")
    }

    static func decode(_ column: String?) -> [String] {
        guard let column, !column.isEmpty else { return [] }
        return column.split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
    }
}

/// To, Cc and Reply-To of an article in one column: a line per address, "role TAB name TAB address". Cheaper on
/// the writer than a row per address; tabs and line breaks inside names (decoded encoded-words can hold them) are
/// written as spaces.
enum AddressColumn {
    static func encode(to: [MailAddress], cc: [MailAddress], replyTo: [MailAddress]) -> String {
        var lines: [String] = []
        lines.reserveCapacity(to.count + cc.count + replyTo.count)
        for (role, list) in [("to", to), ("cc", cc), ("reply-to", replyTo)] {
            for address in list {
                lines.append(role + "\t" + clean(address.name ?? "") + "\t" + clean(address.address))
            }
        }
        return lines.joined(separator: "\n")
    }

    /// Addresses by role, in their original order; an empty name reads back as nil.
    static func decode(_ column: String) -> [String: [MailAddress]] {
        var roles: [String: [MailAddress]] = [:]
        for line in column.split(separator: "\n", omittingEmptySubsequences: true) {
            let fields = line.split(separator: "\t", maxSplits: 2, omittingEmptySubsequences: false)
            guard fields.count == 3 else { continue }
            roles[String(fields[0]), default: []].append(
                MailAddress(name: fields[1].isEmpty ? nil : String(fields[1]), address: String(fields[2])))
        }
        return roles
    }

    private static func clean(_ text: String) -> String {
        guard text.utf8.contains(where: { $0 == 9 || $0 == 10 || $0 == 13 }) else { return text }
        return String(text.map { $0 == "\t" || $0 == "\n" || $0 == "\r" || $0 == "\r\n" ? " " : $0 })
    }
}
