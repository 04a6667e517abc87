import Foundation
import GRDB
import MailParser
import TicketPipeline

/// An agent's changes to a ticket (the API, mail commands), written in the caller's transaction with their
/// activities and outbox events.
extension SQLiteTicketTransaction {
    func changeTicket(number: Int, _ change: TicketChange, actor: String, at date: Date) throws -> [ActivityDetail]? {
        guard
            let row = try Row.fetchOne(
                db.cachedStatement(
                    sql: "SELECT status, priority, category, type, assignee, queue FROM tickets WHERE number = ?"),
                arguments: [number])
        else { return nil }
        var activities: [ActivityDetail] = []
        var changes = EventPayload()
        func apply(_ column: String, _ old: String?, _ new: String??) throws {
            guard let new, new != old else { return }
            try db.execute(sql: "UPDATE tickets SET \(column) = ? WHERE number = ?", arguments: [new, number])
            let text = "\(column): \(old ?? "(none)") → \(new ?? "(none)") (by \(actor))"
            try addActivity(NewActivity(ticketNumber: number, kind: "changed", text: text, createdAt: date))
            activities.append(ActivityDetail(kind: "changed", text: text, createdAt: date))
            var values = EventPayload()
            values.add("old", old)
            values.add("new", new)
            changes.add(column, object: values)
        }
        try apply("status", row[0], change.status.map { .some($0) })
        try apply("priority", row[1], change.priority)
        try apply("category", row[2], change.category)
        try apply("type", row[3], change.type)
        try apply("assignee", row[4], change.assignee)
        guard !activities.isEmpty else { return activities }
        try db.execute(
            sql: "UPDATE tickets SET updated_at = MAX(updated_at, ?) WHERE number = ?",
            arguments: [date.timeIntervalSince1970, number])
        if recordsEvents {
            var ticket = EventPayload()
            ticket.add("number", number)
            ticket.add("queue", row[5] as String)
            var payload = EventPayload()
            payload.add("ticket", object: ticket)
            payload.add("changes", object: changes)
            payload.add("actor", actor)
            try recordEvent(
                NewOutboxEvent(
                    type: .ticketUpdated, ticketNumber: number, articleID: nil, payload: payload.json, createdAt: date))
        }
        return activities
    }

    /// An `article.added` event for an article an agent wrote through the API (a note or a reply), when the store
    /// records events. The article's texts are rendered from the stored article when the event is sent.
    func recordAgentArticleEvent(
        ticket: Int, queue: String, articleID: Int64, direction: ArticleDirection, subject: String, author: String,
        messageID: String?, from: MailAddress?, at date: Date
    ) throws {
        guard recordsEvents else { return }
        var ticketObject = EventPayload()
        ticketObject.add("number", ticket)
        ticketObject.add("queue", queue)
        var article = EventPayload()
        article.add("id", articleID)
        article.add("direction", direction.rawValue)
        article.add("message_id", messageID)
        article.add("subject", subject)
        article.add("from", from)
        article.add("source", IntakeSource.api.rawValue)
        article.add("author", author)
        var payload = EventPayload()
        payload.add("ticket", object: ticketObject)
        payload.add("article", object: article)
        try recordEvent(
            NewOutboxEvent(
                type: .articleAdded, ticketNumber: ticket, articleID: articleID, payload: payload.json, createdAt: date)
        )
    }
}
