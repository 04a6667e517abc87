import Foundation
import MailCommands
import MailParser
import XMLTransactions

/// The XML API by mail (seed 001), inside the store's transaction. A transaction is all or nothing: every
/// operation is checked first (tickets exist in this queue, values valid), and only a transaction without an
/// error is applied. A wrong password, or XML that cannot be read, is recorded and never processed, and nothing
/// is answered: an answer would let anyone make us mail any address. An authenticated transaction is answered
/// at its `ResponseAddress` (never the sender's address), with the configured and the transaction's blind copies.
extension DeliveryPlan {
    func commitXMLTransaction(
        _ parsed: Result<XMLTransaction, XMLTransactionError>, policy: MailCommandPolicy, delivery: QueueDelivery,
        key: DeliveryKey, state: inout CommitState, in transaction: any TicketStoreTransaction
    ) throws -> (RecipientOutcome.Result, MessageDisposition, Int?) {
        let queue = delivery.queue.name
        try storeRaw(&state, in: transaction)
        func refused(
            _ outcome: NewMailCommandRecord.Outcome, _ detail: String
        ) throws -> (RecipientOutcome.Result, MessageDisposition, Int?) {
            try record(outcome, kind: "xml", operation: "transaction", ticket: nil, detail: detail, in: transaction)
            state.lines.append("\(queue) xml/\(outcome.rawValue): \(detail)")
            return (.recorded(.commandRefused), .commandRefused, nil)
        }
        let document: XMLTransaction
        switch parsed {
        case .failure(let error): return try refused(.invalid, "XML transaction not read: \(error)")
        case .success(let value): document = value
        }
        guard let settings = policy.xml, document.passwordMatches(expected: settings.password) else {
            return try refused(.refused, "XML transaction refused: wrong password")
        }
        if let refusal = try gate(policy, delivery: delivery, in: transaction) {
            let response = XMLTransactionResponse(
                externalReference: document.externalReference, refusalCode: "not-allowed", message: refusal)
            try respond(document, response, ticket: nil, settings: settings, delivery: delivery, in: transaction)
            return try refused(.refused, "XML transaction refused: \(refusal)")
        }
        let failures = try document.operations.compactMap { try check($0, queue: queue, in: transaction) }
        if !failures.isEmpty {
            let response = XMLTransactionResponse(externalReference: document.externalReference, results: failures)
            try respond(document, response, ticket: nil, settings: settings, delivery: delivery, in: transaction)
            let errors = failures.compactMap { result -> String? in
                if case .failed(_, _, let message) = result.outcome { return message }
                return nil
            }
            return try refused(.invalid, "XML transaction not applied: \(errors.joined(separator: "; "))")
        }
        let reference = document.externalReference.map { " (external reference \($0))" } ?? ""
        var first: (ticket: Int, articleID: Int64, created: Bool)?
        var results: [XMLOperationResult] = []
        var touched: [Int] = []
        for operation in document.operations {
            let (ticket, articleID, created) = try apply(
                operation, reference: reference, delivery: delivery, in: transaction)
            if first == nil { first = (ticket, articleID, created) }
            results.append(.succeeded(operation.kind, ticket: ticket))
            touched.append(ticket)
        }
        let response = XMLTransactionResponse(externalReference: document.externalReference, results: results)
        try respond(document, response, ticket: first?.ticket, settings: settings, delivery: delivery, in: transaction)
        let tickets = touched.map { "#\($0)" }.joined(separator: ", ")
        let detail = "XML transaction\(reference): \(document.operations.count) operations applied to \(tickets)"
        try record(
            .applied, kind: "xml", operation: "transaction", ticket: first?.ticket, detail: detail, in: transaction)
        state.lines.append("\(queue) xml/applied: \(detail)")
        guard let first else { return try refused(.invalid, "XML transaction without operations") }
        try recordDelivery(key, ticket: first.ticket, articleID: first.articleID, state: &state, in: transaction)
        return first.created
            ? (.created(ticket: first.ticket), .created, first.ticket)
            : (.appended(ticket: first.ticket), .appended, first.ticket)
    }

    /// Why one operation cannot be applied, or nil when it can.
    private func check(
        _ operation: XMLOperation, queue: String, in transaction: any TicketStoreTransaction
    ) throws -> XMLOperationResult? {
        let kind = operation.kind
        if let number = operation.ticket {
            guard let ticket = try transaction.ticketState(number: number), ticket.queue == queue else {
                return .failed(
                    kind, ticket: number, code: "ticket-not-found",
                    message: "ticket #\(number) does not exist in queue \(queue)")
            }
        }
        switch operation {
        case .createTicket(let create):
            if let named = create.queue, named.lowercased() != queue.lowercased() {
                return .failed(
                    kind, code: "wrong-queue", message: "queue \(named) is not \(queue), the queue this mail reached")
            }
        case .changeTicket(let change):
            if let status = change.status, !TicketChange.statuses.contains(status) {
                return .failed(
                    kind, ticket: change.ticket, code: "invalid-value",
                    message:
                        "status '\(status)' is not one of \(TicketChange.statuses.sorted().joined(separator: ", "))")
            }
        case .addArticle:
            break
        }
        return nil
    }

    /// Applies one checked operation; returns its ticket, the article it wrote, and whether it opened the ticket.
    private func apply(
        _ operation: XMLOperation, reference: String, delivery: QueueDelivery,
        in transaction: any TicketStoreTransaction
    ) throws -> (Int, Int64, Bool) {
        let queue = delivery.queue.name
        let at = message.receivedAt
        switch operation {
        case .createTicket(let create):
            let address = MailAddressForm.normalized(create.requester.address)
            let requesterID = try transaction.upsertContact(address: address, name: create.requester.name)
            var ticket = NewTicket(
                queue: queue, subject: create.subject, requesterID: requesterID, source: message.source, createdAt: at)
            ticket.defaults = delivery.queue.policy.ticketDefaults
            if let value = create.priority { ticket.defaults.priority = value }
            if let value = create.category { ticket.defaults.category = value }
            if let value = create.type { ticket.defaults.type = value }
            let number = try transaction.createTicket(ticket)
            let articleID = try transaction.addArticle(
                xmlArticle(
                    ticket: number, queue: queue, subject: create.subject, text: create.text,
                    from: MailAddress(name: create.requester.name, address: address), direction: .inbound,
                    delivery: delivery))
            if !create.fields.isEmpty {
                try transaction.setTicketFields(create.fields, ticket: number, at: at)
            }
            try transaction.addActivity(
                NewActivity(
                    ticketNumber: number, kind: "xml",
                    text: "created by an XML transaction from "
                        + "\(participantAddress)\(reference)", createdAt: at))
            if recordsEvents {
                try transaction.recordEvent(
                    xmlArticleEvent(.ticketCreated, ticket: number, queue: queue, articleID: articleID))
            }
            return (number, articleID, true)
        case .addArticle(let add):
            let subject = parsed.subject ?? ""
            let articleID = try transaction.addArticle(
                xmlArticle(
                    ticket: add.ticket, queue: queue, subject: subject, text: add.text, from: nil,
                    direction: add.isInternal ? .note : .inbound, delivery: delivery))
            try transaction.addActivity(
                NewActivity(
                    ticketNumber: add.ticket, kind: "xml",
                    text: "\(add.isInternal ? "internal note" : "article") added by an XML transaction from "
                        + "\(participantAddress)\(reference)", createdAt: at))
            if recordsEvents {
                try transaction.recordEvent(
                    xmlArticleEvent(.articleAdded, ticket: add.ticket, queue: queue, articleID: articleID))
            }
            return (add.ticket, articleID, false)
        case .changeTicket(let change):
            let ticketChange = TicketChange(
                status: change.status, priority: change.priority.map { .some($0) },
                category: change.category.map { .some($0) }, type: change.type.map { .some($0) },
                assignee: change.assignee.map { .some($0) })
            let activities =
                try transaction.changeTicket(
                    number: change.ticket, ticketChange, actor: "XML transaction from \(participantAddress)", at: at)
                ?? []
            if !change.fields.isEmpty {
                try transaction.setTicketFields(change.fields, ticket: change.ticket, at: at)
            }
            let summary =
                (activities.map(\.text) + change.fields.map { "\($0.name) = \($0.value)" }).joined(separator: "\n")
            // The transaction's trace on the ticket, and the article its delivery record points at.
            let articleID = try transaction.addArticle(
                xmlArticle(
                    ticket: change.ticket, queue: queue, subject: parsed.subject ?? "",
                    text: "Changed by an XML transaction\(reference):\n" + (summary.isEmpty ? "(no change)" : summary),
                    from: nil, direction: .note, delivery: delivery))
            return (change.ticket, articleID, false)
        }
    }

    /// An article whose text comes from the transaction, not from the mail; it keeps the mail's raw message.
    private func xmlArticle(
        ticket: Int, queue: String, subject: String, text: String, from: MailAddress?, direction: ArticleDirection,
        delivery: QueueDelivery
    ) -> NewArticle {
        var article = NewArticle(
            ticketNumber: ticket, queue: queue, direction: direction, messageID: nil, inReplyTo: [], references: [],
            subject: subject, from: from, to: [], cc: [], replyTo: [], text: text, html: nil,
            envelopeSender: message.sender, envelopeRecipients: delivery.recipients, source: message.source,
            sessionID: message.sessionID, receivedAt: message.receivedAt, rawSHA256: rawSHA256,
            rawSize: message.raw.count)
        article.textDerivedFromRaw = false
        return article
    }

    private func xmlArticleEvent(
        _ type: OutboxEventType, ticket: Int, queue: String, articleID: Int64
    ) -> NewOutboxEvent {
        var ticketObject = EventPayload()
        ticketObject.add("number", ticket)
        ticketObject.add("queue", queue)
        var articleObject = EventPayload()
        articleObject.add("id", articleID)
        var payload = EventPayload()
        payload.add("ticket", object: ticketObject)
        payload.add("article", object: articleObject)
        return NewOutboxEvent(
            type: type, ticketNumber: ticket, articleID: articleID, payload: payload.json,
            createdAt: message.receivedAt)
    }

    /// Queues the response document to the transaction's `ResponseAddress` and blind copies (each its own
    /// mail: a blind copy is a recipient the others do not see).
    private func respond(
        _ document: XMLTransaction, _ response: XMLTransactionResponse, ticket: Int?, settings: XMLCommandSettings,
        delivery: QueueDelivery, in transaction: any TicketStoreTransaction
    ) throws {
        guard delivery.queue.policy.repliesToCommands else { return }
        let text = response.rendered()
        let recipients = [document.responseAddress, document.responseBcc, settings.responseBCC].compactMap { $0 }
        var seen = Set<String>()
        for address in recipients where seen.insert(MailAddressForm.normalized(address)).inserted {
            try reply(
                ticket: ticket, delivery: delivery, text: text, to: MailAddress(name: nil, address: address),
                in: transaction)
        }
    }
}
