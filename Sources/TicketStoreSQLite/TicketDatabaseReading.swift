import Foundation
import GRDB
import MailCommands
import TicketPipeline

/// The read queries of a ticket database, shared by the daemon's store (`SQLiteTicketStore`, over its pool) and
/// the command line's read-only `SQLiteTicketReader`: one implementation of each query.
public protocol TicketDatabaseReading: Sendable {
    /// Runs `body` in a read transaction; a failure becomes a `TicketStoreError` naming `operation`.
    func read<T: Sendable>(_ operation: String, _ body: @escaping @Sendable (Database) throws -> T) async throws -> T
    /// Where articles rendered from their raw messages are kept between reads; nil renders them at every read.
    var renderedArticles: RenderedArticleCache? { get }
}

extension TicketDatabaseReading {
    /// None: a short-lived reader (the command line) reads a ticket once.
    public var renderedArticles: RenderedArticleCache? { nil }

    public func listTickets(limit: Int, offset: Int) async throws -> [TicketSummary] {
        try await read("list tickets") { db in try TicketReads.summaries(db, limit: limit, offset: offset) }
    }

    public func ticket(number: Int) async throws -> TicketDetail? {
        let cache = renderedArticles
        return try await read("read ticket \(number)") { db in
            var detail = try TicketReads.detail(db, number: number, renderedArticles: cache)
            detail?.activities = try RecordReads.activities(db, ticket: number)
            detail?.defaults = try RecordReads.ticketDefaults(db, ticket: number)
            if let row = try Row.fetchOne(
                db, sql: "SELECT assignee, account FROM tickets WHERE number = ?", arguments: [number])
            {
                detail?.assignee = row[0]
                detail?.account = row[1]
            }
            detail?.fields = try Row.fetchAll(
                db, sql: "SELECT name, kind, value FROM ticket_fields WHERE ticket_number = ? ORDER BY name",
                arguments: [number]
            ).map { TicketField(name: $0[0], kind: TicketFieldKind(rawValue: $0[1]) ?? .text, value: $0[2]) }
            return detail
        }
    }

    public func messageRecords(limit: Int, offset: Int) async throws -> [MessageRecord] {
        try await read("list message records") { db in
            try RecordReads.messageRecords(db, limit: limit, offset: offset)
        }
    }

    public func messageRecord(id: Int64) async throws -> MessageRecord? {
        try await read("read message record \(id)") { db in try RecordReads.messageRecord(db, id: id) }
    }

    public func dispositionCounts() async throws -> [MessageDisposition: Int] {
        try await read("count dispositions") { db in try RecordReads.dispositionCounts(db) }
    }

    public func bounceRecords(unmatchedOnly: Bool, limit: Int) async throws -> [BounceRecord] {
        try await read("list bounces") { db in
            try RecordReads.bounceRecords(db, unmatchedOnly: unmatchedOnly, limit: limit)
        }
    }

    public func quarantinedMessages(limit: Int, offset: Int) async throws -> [QuarantineEntry] {
        try await read("list quarantine") { db in
            try RecordReads.quarantinedMessages(db, limit: limit, offset: offset)
        }
    }

    public func quarantinedMessage(id: Int64) async throws -> QuarantineEntry? {
        try await read("read quarantine entry \(id)") { db in try RecordReads.quarantinedMessage(db, id: id) }
    }

    /// The commands mail carried (applied, refused, invalid), newest first; only `sender`'s when given.
    public func mailCommandRecords(limit: Int, offset: Int, sender: String? = nil) async throws -> [MailCommandRecord] {
        try await read("list mail commands") { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT \(Self.mailCommandColumns) FROM mail_commands
                    WHERE ?1 IS NULL OR sender = ?1 ORDER BY id DESC LIMIT ?2 OFFSET ?3
                    """, arguments: [sender, max(0, limit), max(0, offset)]
            ).map(Self.mailCommandRecord)
        }
    }

    /// The same, below `beforeID` (the API's pages): a range read on the primary key.
    public func mailCommandRecords(beforeID: Int64?, limit: Int, sender: String? = nil) async throws
        -> [MailCommandRecord]
    {
        try await read("list mail commands") { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT \(Self.mailCommandColumns) FROM mail_commands
                    WHERE id < ?1 AND (?2 IS NULL OR sender = ?2) ORDER BY id DESC LIMIT ?3
                    """, arguments: [beforeID ?? Int64.max, sender, max(0, limit)]
            ).map(Self.mailCommandRecord)
        }
    }

    private static var mailCommandColumns: String {
        "id, received_at, sender, kind, operation, ticket_number, outcome, detail"
    }

    private static func mailCommandRecord(_ row: Row) -> MailCommandRecord {
        MailCommandRecord(
            id: row[0], receivedAt: Date(timeIntervalSince1970: row[1]), sender: row[2], kind: row[3],
            operation: row[4], ticketNumber: row[5],
            outcome: NewMailCommandRecord.Outcome(rawValue: row[6]) ?? .invalid, detail: row[7])
    }
}
