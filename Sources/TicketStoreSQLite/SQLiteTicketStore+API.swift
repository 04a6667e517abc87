import Foundation
import GRDB
import TicketPipeline

/// The HTTP API's reads: on reader connections (the daemon's pool, or the CLI's read-only reader).
extension TicketDatabaseReading {
    /// One page of tickets matching `query`, newest first. The filters are plain comparisons on `tickets`; the
    /// page continues below `query.beforeNumber` on the table's primary key, so each page costs the rows it
    /// skips over for the filters plus `limit`, never an OFFSET over everything before it.
    public func ticketPage(_ query: TicketListQuery) async throws -> TicketPage {
        try await read("list tickets") { db in
            var conditions: [String] = []
            var arguments = StatementArguments()
            if let queue = query.queue {
                conditions.append("t.queue = ?")
                arguments += [queue]
            }
            if let status = query.status {
                conditions.append("t.status = ?")
                arguments += [status]
            }
            if let requester = query.requester {
                conditions.append("c.address = ?")
                arguments += [requester.lowercased()]
            }
            if let updatedSince = query.updatedSince {
                conditions.append("t.updated_at >= ?")
                arguments += [updatedSince.timeIntervalSince1970]
            }
            if let before = query.beforeNumber {
                conditions.append("t.number < ?")
                arguments += [before]
            }
            let limit = max(1, query.limit)
            arguments += [limit + 1]
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT t.number, t.queue, t.status, t.subject, c.name, c.address, t.category, t.priority, t.type,
                        t.assignee, (SELECT COUNT(*) FROM articles a WHERE a.ticket_number = t.number),
                        t.created_at, t.updated_at
                    FROM tickets t LEFT JOIN contacts c ON c.id = t.requester_id
                    \(conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND "))
                    ORDER BY t.number DESC LIMIT ?
                    """, arguments: arguments)
            let tickets = rows.prefix(limit).map { row in
                TicketListing(
                    number: row[0], queue: row[1], status: row[2], subject: row[3], requesterName: row[4],
                    requesterAddress: row[5], category: row[6], priority: row[7], type: row[8], assignee: row[9],
                    articleCount: row[10], createdAt: Date(timeIntervalSince1970: row[11]),
                    updatedAt: Date(timeIntervalSince1970: row[12]))
            }
            return TicketPage(tickets: Array(tickets), hasMore: rows.count > limit)
        }
    }

    /// Whether ticket `number` exists (one primary-key lookup).
    public func hasTicket(number: Int) async throws -> Bool {
        try await read("find ticket \(number)") { db in
            try Bool.fetchOne(db, sql: "SELECT 1 FROM tickets WHERE number = ?", arguments: [number]) ?? false
        }
    }

    /// The raw message of article `article` of ticket `ticket`; nil when the article is not on that ticket or
    /// was not stored from a message (a note).
    public func rawMessage(ticket: Int, article: Int64) async throws -> [UInt8]? {
        try await read("read raw message of article \(article)") { db in
            try Data.fetchOne(
                db,
                sql: """
                    SELECT r.data FROM articles a JOIN raw_messages r ON r.id = a.raw_message_id
                    WHERE a.id = ? AND a.ticket_number = ?
                    """, arguments: [article, ticket]
            ).map { [UInt8]($0) }
        }
    }

    /// An attachment of article `article` of ticket `ticket` by its SHA-256, with its content; nil when that
    /// article has no such attachment.
    public func attachment(
        ticket: Int, article: Int64, sha256: String
    ) async throws -> (info: AttachmentInfo, content: [UInt8])? {
        try await read("read attachment \(sha256) of article \(article)") { db in
            guard
                let row = try Row.fetchOne(
                    db,
                    sql: """
                        SELECT a.filename, a.content_type, a.size, a.sha256, a.content_id, a.disposition, b.data
                        FROM attachments a JOIN articles ar ON ar.id = a.article_id
                            JOIN blobs b ON b.sha256 = a.sha256
                        WHERE a.article_id = ? AND ar.ticket_number = ? AND a.sha256 = ? LIMIT 1
                        """, arguments: [article, ticket, sha256])
            else { return nil }
            let data: Data = row[6]
            return (
                AttachmentInfo(
                    filename: row[0], contentType: row[1], size: row[2], sha256: row[3], contentID: row[4],
                    disposition: row[5]),
                [UInt8](data)
            )
        }
    }

    /// Message records below `beforeID`, newest first (the API's pages).
    public func messageRecords(beforeID: Int64?, limit: Int) async throws -> [MessageRecord] {
        try await read("list message records") { db in
            try RecordReads.messageRecords(db, beforeID: beforeID, limit: limit)
        }
    }

    /// Bounce records below `beforeID`, newest first; with `unmatchedOnly`, only the bounce list.
    public func bounceRecords(unmatchedOnly: Bool, beforeID: Int64?, limit: Int) async throws -> [BounceRecord] {
        try await read("list bounces") { db in
            try RecordReads.bounceRecords(db, unmatchedOnly: unmatchedOnly, beforeID: beforeID, limit: limit)
        }
    }

    /// Quarantined messages below `beforeID`, newest first, without their raw bytes.
    public func quarantinedMessages(beforeID: Int64?, limit: Int) async throws -> [QuarantineEntry] {
        try await read("list quarantine") { db in
            try RecordReads.quarantinedMessages(db, beforeID: beforeID, limit: limit)
        }
    }

    /// Every API token, active and revoked, oldest first.
    public func apiTokens() async throws -> [APITokenRecord] {
        try await read("list API tokens") { db in
            try Row.fetchAll(
                db, sql: "SELECT name, hash, scope, created_at, last_used_at, revoked_at FROM api_tokens ORDER BY id"
            ).map { row in
                let lastUsed: Double? = row[4]
                let revoked: Double? = row[5]
                return APITokenRecord(
                    name: row[0], hash: row[1], scope: row[2], createdAt: Date(timeIntervalSince1970: row[3]),
                    lastUsedAt: lastUsed.map(Date.init(timeIntervalSince1970:)),
                    revokedAt: revoked.map(Date.init(timeIntervalSince1970:)))
            }
        }
    }
}

/// The HTTP API's writes and `postdesk tokens`: all on the store's single writer.
extension SQLiteTicketStore {
    /// Stores a new token's hash under `name`; a name is never reused, even after a revocation.
    public func createAPIToken(name: String, hash: String, scope: String, at date: Date) async throws {
        try await writeDatabase { db in
            if try Bool.fetchOne(db, sql: "SELECT 1 FROM api_tokens WHERE name = ?", arguments: [name]) == true {
                throw APITokenError(kind: .duplicateName, name: name)
            }
            try db.execute(
                sql: "INSERT INTO api_tokens(name, hash, scope, created_at) VALUES (?, ?, ?, ?)",
                arguments: [name, hash, scope, date.timeIntervalSince1970])
        }
    }

    /// Revokes the token `name`: from the next request on, it is refused.
    public func revokeAPIToken(name: String, at date: Date) async throws {
        try await writeDatabase { db in
            guard
                let row = try Row.fetchOne(
                    db, sql: "SELECT revoked_at FROM api_tokens WHERE name = ?", arguments: [name])
            else { throw APITokenError(kind: .unknownName, name: name) }
            let revoked: Double? = row[0]
            if revoked != nil { throw APITokenError(kind: .alreadyRevoked, name: name) }
            try db.execute(
                sql: "UPDATE api_tokens SET revoked_at = ? WHERE name = ?",
                arguments: [date.timeIntervalSince1970, name])
        }
    }

    /// Notes when the token `name` was last used (callers throttle this: it is a commit).
    public func markAPITokenUsed(name: String, at date: Date) async throws {
        try await writeDatabase { db in
            try db.execute(
                sql: "UPDATE api_tokens SET last_used_at = ? WHERE name = ?",
                arguments: [date.timeIntervalSince1970, name])
        }
    }

    /// Applies `change` to ticket `number` in a transaction of its own (`TicketStoreTransaction.changeTicket`:
    /// activities, and a `ticket.updated` event when events are recorded). Returns the activities written (empty
    /// when nothing changed), or nil when there is no such ticket.
    public func changeTicket(
        number: Int, _ change: TicketChange, actor: String, at date: Date
    ) async throws -> [ActivityDetail]? {
        try await write { transaction in
            try transaction.changeTicket(number: number, change, actor: actor, at: date)
        }
    }

    /// Adds an internal note (an article with direction `note`, source `api`) to ticket `number`, an activity
    /// naming `author`, and an `article.added` event when events are recorded. Returns the article's id, or nil
    /// when there is no such ticket.
    public func addInternalNote(number: Int, text: String, author: String, at date: Date) async throws -> Int64? {
        try await write { transaction in
            guard let transaction = transaction as? SQLiteTicketTransaction else {
                throw TicketStoreError(kind: .other, operation: "add note", path: "", underlying: "not SQLite")
            }
            guard
                let row = try Row.fetchOne(
                    transaction.db, sql: "SELECT queue, subject FROM tickets WHERE number = ?", arguments: [number])
            else { return nil }
            let articleID = try transaction.addArticle(
                NewArticle(
                    ticketNumber: number, queue: row[0], direction: .note, messageID: nil, inReplyTo: [],
                    references: [], subject: row[1], from: nil, to: [], cc: [], replyTo: [], text: text, html: nil,
                    envelopeSender: "", envelopeRecipients: [], source: .api, sessionID: nil, receivedAt: date,
                    rawSHA256: "", rawSize: 0))
            // The note has no sender address: who wrote it is on record here.
            try transaction.addActivity(
                NewActivity(
                    ticketNumber: number, kind: "note", text: "internal note \(articleID) added by \(author)",
                    createdAt: date))
            try transaction.recordAgentArticleEvent(
                ticket: number, queue: row[0], articleID: articleID, direction: .note, subject: row[1],
                author: author, messageID: nil, from: nil, at: date)
            return articleID
        }
    }

    /// Why writes are refused, once an I/O error was latched (see `WALDurability`); nil while the store writes.
    public var writeFailure: TicketStoreError? { durability.failure }
}
