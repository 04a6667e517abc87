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
                SELECT t.number, t.queue, t.status, t.subject, c.address,
                    (SELECT COUNT(*) FROM articles a WHERE a.ticket_number = t.number), t.created_at, t.updated_at
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

    /// A ticket with its articles, each rendered (`RenderedArticle`); an article rendered from its raw message is
    /// taken from `renderedArticles` when kept there, else its raw message alone is loaded, rendered and kept: the
    /// raw messages are read one at a time, never the whole ticket's at once. O(articles) plus O(raw) per article
    /// not kept.
    static func detail(
        _ db: Database, number: Int, renderedArticles: RenderedArticleCache?
    ) throws -> TicketDetail? {
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
                SELECT a.id, a.direction, a.message_id, a.in_reply_to_ids, a.reference_ids, a.subject, a.from_name,
                    a.from_address, a.text, a.html, a.envelope_sender, a.envelope_recipients, a.source, a.session_id,
                    a.received_at, a.raw_sha256, a.raw_size, a.addresses, a.raw_message_id
                FROM articles a WHERE a.ticket_number = ? ORDER BY a.id
                """, arguments: [number])

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

        let articles = try articleRows.map { row -> ArticleDetail in
            let id: Int64 = row[0]
            let fromAddress: String? = row[7]
            let addresses = AddressColumn.decode(row[17])
            let rendered = try render(
                db, article: id, storedText: row[8], html: row[9], rawSHA256: row[15], rawMessage: row[18],
                cache: renderedArticles)
            return ArticleDetail(
                id: id, direction: ArticleDirection(rawValue: row[1]) ?? .inbound, messageID: row[2],
                inReplyTo: ListColumn.decode(row[3]), references: ListColumn.decode(row[4]), subject: row[5],
                from: fromAddress.map { MailAddress(name: row[6], address: $0) },
                to: addresses["to"] ?? [], cc: addresses["cc"] ?? [], replyTo: addresses["reply-to"] ?? [],
                text: rendered.text, html: rendered.html, envelopeSender: row[10],
                envelopeRecipients: ListColumn.decode(row[11]), source: IntakeSource(rawValue: row[12]) ?? .replay,
                sessionID: row[13], receivedAt: Date(timeIntervalSince1970: row[14]), rawSHA256: rendered.rawSHA256,
                rawSize: row[16], attachments: attachments[id] ?? [], strippedText: rendered.strippedText)
        }

        let requesterAddress: String? = ticket[5]
        return TicketDetail(
            number: ticket[0], queue: ticket[1], status: ticket[2], subject: ticket[3],
            requester: requesterAddress.map { MailAddress(name: ticket[4], address: $0) },
            source: IntakeSource(rawValue: ticket[6]) ?? .replay, createdAt: Date(timeIntervalSince1970: ticket[7]),
            updatedAt: Date(timeIntervalSince1970: ticket[8]), articles: articles)
    }

    /// How article `id` reads. Stored text with a known raw hash, or without a raw message (notes, API replies), is
    /// rendered from the row; otherwise (ordinary mail, stored once as its raw message, hashed only on demand) the
    /// kept rendering, or its raw message is loaded, rendered and kept. O(text), or O(raw) when not kept.
    static func render(
        _ db: Database, article id: Int64, storedText: String?, html: String?, rawSHA256: String,
        rawMessage: Int64?, cache: RenderedArticleCache?
    ) throws -> RenderedArticle {
        if let storedText, !rawSHA256.isEmpty || rawMessage == nil {
            return RenderedArticle(storedText: storedText, html: html, rawSHA256: rawSHA256)
        }
        if let kept = cache?.article(id) { return kept }
        let raw =
            try rawMessage.flatMap {
                try Data.fetchOne(db, sql: "SELECT data FROM raw_messages WHERE id = ?", arguments: [$0])
            }.map { [UInt8]($0) } ?? []
        let rendered =
            if let storedText {
                RenderedArticle(storedText: storedText, html: html, rawSHA256: raw.isEmpty ? "" : sha256Hex(raw))
            } else {
                RenderedArticle(raw: raw)
            }
        cache?.keep(rendered, for: id)
        return rendered
    }
}
