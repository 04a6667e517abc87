import Foundation
import GRDB
import MailParser
import TicketPipeline

/// The pipeline's view of one write, backed by the writer connection. Every statement is a cached prepared
/// statement: the writer is the serialized part of intake, so it must not re-parse SQL for each message.
struct SQLiteTicketTransaction: TicketStoreTransaction {
    let db: Database

    func deliveredTicket(for key: DeliveryKey) throws -> Int? {
        let statement = try db.cachedStatement(
            sql: """
                SELECT d.ticket_number FROM raw_messages r
                JOIN delivery_keys d ON d.raw_message_id = r.id AND d.queue = ? AND d.message_id = ?
                WHERE r.sha256 = ?
                """)
        return try Int.fetchOne(statement, arguments: [key.queue, key.messageID, key.rawSHA256])
    }

    func ticketNumber(forArticleMessageID messageID: String, queue: String) throws -> Int? {
        let statement = try db.cachedStatement(
            sql: "SELECT ticket_number FROM articles WHERE message_id = ? AND queue = ? ORDER BY id DESC LIMIT 1")
        return try Int.fetchOne(statement, arguments: [messageID, queue])
    }

    func ticketExists(number: Int, queue: String) throws -> Bool {
        let statement = try db.cachedStatement(sql: "SELECT 1 FROM tickets WHERE number = ? AND queue = ?")
        return try Bool.fetchOne(statement, arguments: [number, queue]) != nil
    }

    func upsertContact(address: String, name: String?) throws -> Int64 {
        let name = name.flatMap { $0.isEmpty ? nil : $0 }
        // Read first: most mail comes from known contacts, and a read dirties no page.
        let lookup = try db.cachedStatement(sql: "SELECT id, name IS NULL FROM contacts WHERE address = ?")
        if let row = try Row.fetchOne(lookup, arguments: [address]) {
            let id: Int64 = row[0]
            let nameMissing: Bool = row[1]
            if nameMissing, let name {
                let update = try db.cachedStatement(sql: "UPDATE contacts SET name = ? WHERE id = ?")
                try update.execute(arguments: [name, id])
            }
            return id
        }
        let insert = try db.cachedStatement(
            sql: "INSERT INTO contacts(address, name, created_at) VALUES (?, ?, ?)")
        try insert.execute(arguments: [address, name, Date().timeIntervalSince1970])
        return db.lastInsertedRowID
    }

    func storeRawMessage(sha256: String, bytes: [UInt8], receivedAt: Date) throws {
        let statement = try db.cachedStatement(
            sql: "INSERT INTO raw_messages(sha256, size, data, received_at) VALUES (?, ?, ?, ?) "
                + "ON CONFLICT(sha256) DO NOTHING")
        try statement.execute(arguments: [sha256, bytes.count, Data(bytes), receivedAt.timeIntervalSince1970])
    }

    func createTicket(_ ticket: NewTicket) throws -> Int {
        let statement = try db.cachedStatement(
            sql: """
                INSERT INTO tickets(queue, subject, requester_id, source, created_at, updated_at, category, priority,
                    type)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """)
        let time = ticket.createdAt.timeIntervalSince1970
        try statement.execute(
            arguments: [
                ticket.queue, ticket.subject, ticket.requesterID, ticket.source.rawValue, time, time,
                ticket.defaults.category, ticket.defaults.priority, ticket.defaults.type,
            ])
        return Int(db.lastInsertedRowID)
    }

    func addArticle(_ article: NewArticle) throws -> Int64 {
        let insert = try db.cachedStatement(
            sql: """
                INSERT INTO articles(ticket_number, queue, direction, message_id, in_reply_to_ids, reference_ids,
                    subject, from_name, from_address, text, html, envelope_sender, envelope_recipients, source,
                    session_id, received_at, raw_sha256, raw_size)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """)
        let received = article.receivedAt.timeIntervalSince1970
        let values: [(any DatabaseValueConvertible)?] = [
            article.ticketNumber, article.queue, article.direction.rawValue, article.messageID,
            ListColumn.encode(article.inReplyTo), ListColumn.encode(article.references), article.subject,
            article.from?.name, article.from?.address, article.text, article.html, article.envelopeSender,
            ListColumn.encode(article.envelopeRecipients), article.source.rawValue, article.sessionID, received,
            article.rawSHA256, article.rawSize,
        ]
        try insert.execute(arguments: StatementArguments(values))
        let articleID = db.lastInsertedRowID

        let addresses = try db.cachedStatement(
            sql: "INSERT INTO article_addresses(article_id, role, position, name, address) VALUES (?, ?, ?, ?, ?)")
        for (role, list) in [("to", article.to), ("cc", article.cc), ("reply-to", article.replyTo)] {
            for (position, address) in list.enumerated() {
                try addresses.execute(arguments: [articleID, role, position, address.name, address.address])
            }
        }

        let touch = try db.cachedStatement(
            sql: "UPDATE tickets SET updated_at = MAX(updated_at, ?), article_count = article_count + 1 "
                + "WHERE number = ?")
        try touch.execute(arguments: [received, article.ticketNumber])
        return articleID
    }

    func storeAttachment(_ attachment: ParsedAttachment, articleID: Int64) throws {
        let blob = try db.cachedStatement(
            sql: "INSERT INTO blobs(sha256, size, data) VALUES (?, ?, ?) ON CONFLICT(sha256) DO NOTHING")
        try blob.execute(arguments: [attachment.sha256, attachment.data.count, Data(attachment.data)])
        let metadata = try db.cachedStatement(
            sql: """
                INSERT INTO attachments(article_id, sha256, filename, content_type, size, content_id, disposition)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                """)
        try metadata.execute(
            arguments: [
                articleID, attachment.sha256, attachment.filename, attachment.contentType, attachment.data.count,
                attachment.contentID, attachment.disposition,
            ])
    }

    func recordDelivery(_ key: DeliveryKey, ticket: Int, articleID: Int64, at time: Date) throws {
        let statement = try db.cachedStatement(
            sql: """
                INSERT INTO delivery_keys(raw_message_id, queue, message_id, ticket_number, article_id, delivered_at,
                    content_sha256)
                SELECT id, ?, ?, ?, ?, ?, ? FROM raw_messages WHERE sha256 = ?
                """)
        try statement.execute(
            arguments: [
                key.queue, key.messageID, ticket, articleID, time.timeIntervalSince1970,
                key.contentSHA256.isEmpty ? nil : key.contentSHA256, key.rawSHA256,
            ])
        guard db.changesCount == 1 else {
            throw DatabaseError(
                resultCode: .SQLITE_CONSTRAINT, message: "delivery recorded before its raw message was stored")
        }
    }
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
