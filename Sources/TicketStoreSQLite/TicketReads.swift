import Foundation
import GRDB
import MailParser
import TicketPipeline

/// Read queries for the CLI and API; they run on reader connections, never blocking the writer.
enum TicketReads {
    static func summaries(_ db: Database, limit: Int, offset: Int) throws -> [TicketSummary] {
        try Row.fetchAll(
            db,
            sql: """
                SELECT t.number, t.queue, t.status, t.subject, c.address, t.article_count, t.created_at,
                    t.updated_at
                FROM tickets t LEFT JOIN contacts c ON c.id = t.requester_id
                ORDER BY t.number DESC LIMIT ? OFFSET ?
                """, arguments: [max(0, limit), max(0, offset)]
        ).map { row in
            TicketSummary(
                number: row[0], queue: row[1], status: row[2], subject: row[3], requester: row[4],
                articleCount: row[5], createdAt: Date(timeIntervalSince1970: row[6]),
                updatedAt: Date(timeIntervalSince1970: row[7]))
        }
    }

    static func detail(_ db: Database, number: Int) throws -> TicketDetail? {
        guard
            let ticket = try Row.fetchOne(
                db,
                sql: """
                    SELECT t.number, t.queue, t.status, t.subject, c.name, c.address, t.source, t.created_at,
                        t.updated_at
                    FROM tickets t LEFT JOIN contacts c ON c.id = t.requester_id WHERE t.number = ?
                    """, arguments: [number])
        else { return nil }

        let articleRows = try Row.fetchAll(
            db,
            sql: """
                SELECT id, direction, message_id, in_reply_to_ids, reference_ids, subject, from_name, from_address,
                    text, html, envelope_sender, envelope_recipients, source, session_id, received_at, raw_sha256,
                    raw_size
                FROM articles WHERE ticket_number = ? ORDER BY id
                """, arguments: [number])

        var addresses: [Int64: [String: [MailAddress]]] = [:]
        for row in try Row.fetchAll(
            db,
            sql: """
                SELECT a.article_id, a.role, a.name, a.address FROM article_addresses a
                JOIN articles ar ON ar.id = a.article_id
                WHERE ar.ticket_number = ? ORDER BY a.article_id, a.role, a.position
                """, arguments: [number])
        {
            addresses[row[0], default: [:]][row[1], default: []].append(MailAddress(name: row[2], address: row[3]))
        }

        var attachments: [Int64: [AttachmentInfo]] = [:]
        for row in try Row.fetchAll(
            db,
            sql: """
                SELECT a.article_id, a.filename, a.content_type, a.size, a.sha256, a.content_id, a.disposition
                FROM attachments a JOIN articles ar ON ar.id = a.article_id
                WHERE ar.ticket_number = ? ORDER BY a.id
                """, arguments: [number])
        {
            attachments[row[0], default: []].append(
                AttachmentInfo(
                    filename: row[1], contentType: row[2], size: row[3], sha256: row[4], contentID: row[5],
                    disposition: row[6]))
        }

        let articles = articleRows.map { row -> ArticleDetail in
            let id: Int64 = row[0]
            let fromAddress: String? = row[7]
            return ArticleDetail(
                id: id, direction: ArticleDirection(rawValue: row[1]) ?? .inbound, messageID: row[2],
                inReplyTo: ListColumn.decode(row[3]), references: ListColumn.decode(row[4]), subject: row[5],
                from: fromAddress.map { MailAddress(name: row[6], address: $0) },
                to: addresses[id]?["to"] ?? [], cc: addresses[id]?["cc"] ?? [],
                replyTo: addresses[id]?["reply-to"] ?? [], text: row[8], html: row[9], envelopeSender: row[10],
                envelopeRecipients: ListColumn.decode(row[11]), source: IntakeSource(rawValue: row[12]) ?? .replay,
                sessionID: row[13], receivedAt: Date(timeIntervalSince1970: row[14]), rawSHA256: row[15],
                rawSize: row[16], attachments: attachments[id] ?? [])
        }

        let requesterAddress: String? = ticket[5]
        return TicketDetail(
            number: ticket[0], queue: ticket[1], status: ticket[2], subject: ticket[3],
            requester: requesterAddress.map { MailAddress(name: ticket[4], address: $0) },
            source: IntakeSource(rawValue: ticket[6]) ?? .replay, createdAt: Date(timeIntervalSince1970: ticket[7]),
            updatedAt: Date(timeIntervalSince1970: ticket[8]), articles: articles)
    }
}
