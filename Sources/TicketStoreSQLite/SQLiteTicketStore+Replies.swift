import Foundation
import GRDB
import MailParser
import TicketPipeline

extension SQLiteTicketStore {
    /// Writes `reply` in one transaction: the outbound article (author on its activity), one mail to the requester
    /// with the Cc participants (those of the thread, then `reply.cc`) in Cc, queued as a copy per recipient
    /// (threaded under the ticket's last inbound message, References the whole thread), the status change
    /// (`changeTicket`: its activity and `ticket.updated`), and `article.added` when events are recorded. Nil when
    /// there is no such ticket; `AgentReply.Refusal` when the ticket has no requester address. Reads the ticket's
    /// articles once: O(articles) on the writer.
    public func addAgentReply(_ reply: AgentReply, sender: AgentReply.Sender) async throws -> AgentReply.Written? {
        try await write { transaction in
            guard let transaction = transaction as? SQLiteTicketTransaction else {
                throw TicketStoreError(kind: .other, operation: "add reply", path: "", underlying: "not SQLite")
            }
            return try transaction.addAgentReply(reply, sender: sender)
        }
    }
}

extension SQLiteTicketTransaction {
    /// At most this many Message-IDs in References: the first and the latest (RFC 5322 allows trimming).
    static let maximumReferences = 20
    /// At most this many Cc participants get a copy of a reply.
    static let maximumCcParticipants = 20

    func addAgentReply(_ reply: AgentReply, sender: AgentReply.Sender) throws -> AgentReply.Written? {
        let number = reply.ticketNumber
        guard
            let ticket = try Row.fetchOne(
                db,
                sql: """
                    SELECT t.queue, t.subject, c.name, c.address
                    FROM tickets t LEFT JOIN contacts c ON c.id = t.requester_id WHERE t.number = ?
                    """, arguments: [number])
        else { return nil }
        let queue: String = ticket[0]
        let subject: String = ticket[1]
        guard let requesterAddress = ticket[3] as String?, !requesterAddress.isEmpty else {
            throw AgentReply.Refusal(ticketNumber: number, reason: "the ticket has no requester address to answer")
        }
        let requester = MailAddress(name: ticket[2], address: requesterAddress)
        let from = sender.from(queue)
        let thread = try Self.thread(db, ticket: number)
        var seen: Set<String> = [
            MailAddressForm.normalized(requester.address), MailAddressForm.normalized(from.address),
        ]
        var cc: [MailAddress] = []
        for address in thread.participants + reply.cc where cc.count < Self.maximumCcParticipants {
            let key = MailAddressForm.normalized(address.address)
            guard !sender.isOwnAddress(key), seen.insert(key).inserted else { continue }
            cc.append(address)
        }
        let recipients = [requester] + cc
        let mailSubject = Self.replySubject(subject)
        let mailIDs = try enqueueReply(
            ticket: number, queue: queue, to: requester, cc: cc, subject: mailSubject, text: reply.text,
            html: reply.html, inReplyTo: thread.inReplyTo, references: thread.references, at: reply.date)
        // Every copy carries the Message-ID signed with the requester's copy's id: it stands for the article.
        let messageID = sender.messageIDs.messageID(ticket: number, article: mailIDs[0])
        let articleID = try addArticle(
            NewArticle(
                ticketNumber: number, queue: queue, direction: .outbound, messageID: messageID,
                inReplyTo: thread.inReplyTo.map { [$0] } ?? [], references: thread.references, subject: mailSubject,
                from: from, to: [requester], cc: cc, replyTo: [], text: reply.text, html: reply.html,
                envelopeSender: from.address, envelopeRecipients: recipients.map(\.address), source: .api,
                sessionID: nil, receivedAt: reply.date, rawSHA256: "", rawSize: 0))
        try addActivity(
            NewActivity(
                ticketNumber: number, kind: "reply",
                text: "reply \(articleID) by \(reply.author) queued to "
                    + recipients.map(\.address).joined(separator: ", "),
                createdAt: reply.date))
        try recordAgentArticleEvent(
            ticket: number, queue: queue, articleID: articleID, direction: .outbound, subject: mailSubject,
            author: reply.author, messageID: messageID, from: from, at: reply.date)
        if let status = reply.status {
            _ = try changeTicket(number: number, TicketChange(status: status), actor: reply.author, at: reply.date)
        }
        return AgentReply.Written(
            articleID: articleID, messageID: messageID, recipients: recipients, outboundMailIDs: mailIDs)
    }

    /// `Re: ` before the ticket's subject, unless it already starts with a reply prefix; the worker adds the tag.
    static func replySubject(_ subject: String) -> String {
        let trimmed = subject.trimmingCharacters(in: .whitespaces)
        if trimmed.lowercased().hasPrefix("re:") { return trimmed }
        return trimmed.isEmpty ? "Re: (no subject)" : "Re: " + trimmed
    }

    /// The ticket's conversation for a reply: the Message-ID it answers (the latest inbound message's, else the
    /// latest of any article), References (every article's Message-ID, oldest first, the first and the latest
    /// `maximumReferences` - 1 kept), and the participants: everyone the conversation's messages, the customers'
    /// and our replies, were addressed to or copied (To and Cc, in order, duplicates kept: the caller filters), so
    /// that an address an agent copied once stays copied. Notes (automated mail, bounces) are not conversation.
    /// One pass over the ticket's articles.
    static func thread(
        _ db: Database, ticket number: Int
    ) throws -> (inReplyTo: String?, references: [String], participants: [MailAddress]) {
        var ids: [String] = []
        var known: Set<String> = []
        var lastInbound: String?
        var participants: [MailAddress] = []
        let rows = try Row.fetchCursor(
            db, sql: "SELECT message_id, direction, addresses FROM articles WHERE ticket_number = ? ORDER BY id",
            arguments: [number])
        while let row = try rows.next() {
            let direction: String = row[1]
            let messageID: String? = row[0]
            if let messageID, !messageID.isEmpty, known.insert(messageID).inserted {
                ids.append(messageID)
                if direction == ArticleDirection.inbound.rawValue { lastInbound = messageID }
            }
            if direction != ArticleDirection.note.rawValue, let column = row[2] as String? {
                let roles = AddressColumn.decode(column)
                participants += (roles["to"] ?? []) + (roles["cc"] ?? [])
            }
        }
        let references =
            ids.count > maximumReferences ? [ids[0]] + ids.suffix(maximumReferences - 1) : ids
        return (lastInbound ?? ids.last, references, participants)
    }
}
