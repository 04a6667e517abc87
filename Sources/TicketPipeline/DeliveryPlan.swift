import Foundation
import Logging
import MailClassification
import MailCommands
import MailParser

/// Everything decided about a message before the store's writer runs; `commit` does only store calls and the
/// decisions that need what the store holds (redelivery, threading, budgets, ticket status).
struct DeliveryPlan: Sendable {
    let message: InboundMessage
    let parsed: ParsedMessage
    /// The raw message's SHA-256, or "" where it was not needed (see `TicketIntake.prepare`).
    let rawSHA256: String
    /// The message's identity hash (`MessageIdentity`): the deduplication key, per queue.
    let identitySHA256: String
    /// The normalised body's hash, for keys stored before schema v5 (Message-ID + body).
    let bodySHA256: String
    let deliveries: [QueueDelivery]
    let threading: ThreadMatcher
    let signer: MessageIDSigner?
    /// The classifier's verdict for the first queue (`accepted`, `bounce`, ...).
    let classification: String
    /// The classification decisions, one per line, encoded before the writer runs.
    let decisions: String
    /// Articles' texts are `MessageParser`'s rendering of the raw message, which the store may keep alone.
    let textDerivedFromRaw: Bool
    /// Write outbox events with the changes (`PipelineSettings.recordsEvents`).
    let recordsEvents: Bool
    /// The article members of an event that come from the message alone (`message_id`, `subject`, `from`,
    /// `source`), encoded before the writer runs so that it only adds the ids; empty without events.
    var articleEventFields: EventPayload

    static let closedStatuses: Set<String> = ["closed", "solved"]

    /// The address the message is from: the first From address, else the envelope sender; nil for `<>`
    /// without From.
    var sender: MailAddress? {
        if let from = parsed.from.first, !from.address.isEmpty { return from }
        return message.sender.isEmpty ? nil : MailAddress(name: nil, address: message.sender)
    }

    /// The requester of a new ticket under `policy`: the original sender of a message an agent forwarded,
    /// else Reply-To when the queue says so, else the sender. The note says which rule chose it.
    func requester(_ policy: QueuePolicy) -> (address: MailAddress?, note: String?) {
        if let sender, !policy.agentAddresses.isEmpty,
            policy.agentAddresses.contains(where: { $0.lowercased() == sender.address.lowercased() }),
            let original = ForwardedMessage.originalSender(of: parsed)
        {
            return (
                original, "forwarded by agent \(sender.address): requester is the original sender \(original.address)"
            )
        }
        if policy.replyToAsRequester, let replyTo = parsed.replyTo.first, !replyTo.address.isEmpty {
            return (replyTo, "requester taken from Reply-To: \(replyTo.address)")
        }
        return (sender, nil)
    }

    /// Whether the delivery can end in a record alone (no ticket, no note): only those are looked up among the
    /// recorded deliveries, so that ordinary mail pays no extra lookup, and only their raw bytes may go unstored.
    static func mayEndRecorded(_ delivery: QueueDelivery) -> Bool {
        switch delivery.action {
        case .record, .bounce, .automated, .command: return true
        case .errorTicket: return false
        case .ticket:
            switch delivery.queue.policy.unknownSenders {
            case .redirect, .reject: return true
            case .createContact, .fallbackContact: return false
            }
        }
    }

    /// What one commit decided and wrote, gathered for the message record.
    struct CommitState {
        var rawStored = false
        var createdContactID: Int64??
        var bounce: (result: RecipientOutcome.Result, disposition: MessageDisposition, ticket: Int?)?
        var lines: [String] = []
        var disposition: MessageDisposition?
        var ticket: Int?
    }

    /// Runs inside the store's transaction: per queue, a redelivery is recognised, else the planned action is
    /// carried out; then the one message record is written.
    func commit(in transaction: any TicketStoreTransaction) throws -> [String: RecipientOutcome.Result] {
        var results: [String: RecipientOutcome.Result] = [:]
        var state = CommitState()
        for delivery in deliveries {
            let queue = delivery.queue.name
            let key = DeliveryKey(
                messageID: parsed.messageID ?? "", rawSHA256: rawSHA256, queue: queue, identitySHA256: identitySHA256,
                bodySHA256: bodySHA256)
            let result: RecipientOutcome.Result
            let disposition: MessageDisposition
            var ticket: Int?
            // The same raw bytes have the same identity: the key covers a plain redelivery too.
            if let delivered = try transaction.deliveredTicket(for: key) {
                (result, disposition, ticket) = (.duplicate(ticket: delivered), .duplicate, delivered)
            } else if Self.mayEndRecorded(delivery),
                let earlier = try transaction.recordedDisposition(sameContentAs: key)
            {
                (result, disposition) = (.recorded(.duplicate), .duplicate)
                state.lines.append("\(queue): redelivery of a message recorded as \(earlier.rawValue)")
            } else {
                switch delivery.action {
                case .record(let recorded, _):
                    (result, disposition) = (.recorded(recorded), recorded)
                case .bounce(let report):
                    if let earlier = state.bounce {
                        (result, disposition, ticket) = earlier
                    } else {
                        (result, disposition, ticket) = try commitBounce(
                            report, delivery: delivery, key: key, state: &state, in: transaction)
                        state.bounce = (result, disposition, ticket)
                    }
                case .automated(let senderKey, let fromKey, let budget, let day):
                    (result, disposition, ticket) = try commitAutomated(
                        delivery: delivery, key: key, sender: (senderKey, fromKey), budget: budget, day: day,
                        state: &state, in: transaction)
                case .errorTicket(let reason):
                    let number = try commitErrorTicket(
                        reason: reason, delivery: delivery, key: key, state: &state, in: transaction)
                    (result, disposition, ticket) = (.created(ticket: number), .errorTicket, number)
                case .ticket:
                    (result, disposition, ticket) = try commitTicket(
                        delivery: delivery, key: key, state: &state, in: transaction)
                case .command(let command):
                    (result, disposition, ticket) = try commitCommand(
                        command, delivery: delivery, key: key, state: &state, in: transaction)
                }
            }
            if case .recorded(let recorded) = result, recorded != .duplicate, recorded != .quarantined {
                try transaction.rememberRecorded(key, disposition: recorded, at: message.receivedAt)
            }
            results[queue] = result
            if state.disposition == nil {
                state.disposition = disposition
                state.ticket = ticket
            }
            state.lines.append("\(queue): \(disposition.rawValue)" + (ticket.map { " #\($0)" } ?? ""))
        }
        try transaction.recordMessage(
            NewMessageRecord(
                receivedAt: message.receivedAt, source: message.source, sessionID: message.sessionID,
                envelopeSender: message.sender, envelopeRecipients: message.recipients, messageID: parsed.messageID,
                subject: parsed.subject, fromAddress: sender?.address, rawSHA256: rawSHA256,
                rawSize: message.raw.count, classification: classification,
                disposition: state.disposition ?? .dropped, ticketNumber: state.ticket,
                queues: deliveries.map(\.queue.name),
                decisions: decisions.isEmpty
                    ? state.lines.joined(separator: "\n") : decisions + "\n" + state.lines.joined(separator: "\n")))
        return results
    }

    func storeRaw(_ state: inout CommitState, in transaction: any TicketStoreTransaction) throws {
        guard !state.rawStored else { return }
        try transaction.storeRawMessage(sha256: rawSHA256, message: message.raw, receivedAt: message.receivedAt)
        state.rawStored = true
    }

    // MARK: ordinary mail

    /// Threads the message into a ticket or opens one (ordinary mail, and the regular part of commands and
    /// alerts, which `options` adjust).
    func commitTicket(
        delivery: QueueDelivery, key: DeliveryKey, options: TicketOptions = TicketOptions(),
        state: inout CommitState, in transaction: any TicketStoreTransaction
    ) throws -> (RecipientOutcome.Result, MessageDisposition, Int?) {
        let queue = delivery.queue.name
        let policy = delivery.queue.policy
        var match: ThreadMatch?
        var refused: ThreadMatch?
        var target: Int?
        var activities: [(ticket: Int?, kind: String, text: String)] = options.activities.map {
            (nil, $0.kind, $0.text)
        }
        var linkTo: (ticket: Int, reason: String)?
        switch options.target {
        case .threaded:
            (match, refused) = try threading.match(
                delivery.clues, queue: queue, sender: participantAddress, signer: signer, in: transaction)
        case .new:
            break
        case .existing(let number, let reason):
            target = number
            activities.append((number, "threaded", reason))
        }
        if let match {
            target = match.ticket
            if let ticketState = try transaction.ticketState(number: match.ticket),
                Self.closedStatuses.contains(ticketState.status)
            {
                switch policy.closedTicketReplies {
                case .add:
                    activities.append(
                        (match.ticket, "threaded", match.reason + "; the ticket stays \(ticketState.status)"))
                case .reopenWithin(let days):
                    if message.receivedAt.timeIntervalSince(ticketState.updatedAt) <= Double(days) * 86_400 {
                        try transaction.setStatus("open", ticket: match.ticket, at: message.receivedAt)
                        activities.append(
                            (
                                match.ticket, "reopened",
                                match.reason + "; reopened: the ticket was \(ticketState.status) "
                                    + "less than \(days) days ago"
                            ))
                    } else {
                        target = nil
                        linkTo = (
                            match.ticket,
                            "reply to #\(match.ticket), \(ticketState.status) more than \(days) days ago: new ticket"
                        )
                    }
                case .alwaysNew:
                    target = nil
                    linkTo = (match.ticket, "reply to #\(match.ticket), which is \(ticketState.status): new ticket")
                }
            } else {
                activities.append((match.ticket, "threaded", match.reason))
            }
        } else if let refused {
            let evidence =
                refused.evidence == .subjectTag
                ? "subject tag #\(refused.ticket)" : "reference to <\(refused.messageID ?? "")> of #\(refused.ticket)"
            linkTo = (
                refused.ticket,
                "\(evidence) from \(sender?.address ?? "<>"), who is neither the requester nor a "
                    + "participant of #\(refused.ticket): not threaded, new ticket"
            )
        }

        try storeRaw(&state, in: transaction)
        let number: Int
        var requesterAddress: MailAddress?
        if let target {
            number = target
        } else {
            var requesterID: Int64?
            switch try resolveRequester(policy, override: options.requester, state: &state, in: transaction) {
            case .contact(let id, let address, let note):
                requesterID = id
                requesterAddress = address
                if let note { activities.append((nil, "requester", note)) }
            case .refused(let disposition, let reason):
                state.lines.append("\(queue) requester/\(disposition.rawValue): \(reason)")
                return (.recorded(disposition), disposition, nil)
            }
            var ticket = NewTicket(
                queue: queue, subject: parsed.subject ?? "", requesterID: requesterID, source: message.source,
                createdAt: message.receivedAt)
            ticket.defaults = policy.ticketDefaults
            if let type = options.type { ticket.defaults.type = type }
            number = try transaction.createTicket(ticket)
            if let account = options.account { try transaction.setAccount(account, ticket: number) }
            for note in delivery.routingNotes { activities.append((nil, note.kind, note.text)) }
            if let linkTo {
                activities.append((nil, "linked", "linked to #\(linkTo.ticket): \(linkTo.reason)"))
                activities.append((linkTo.ticket, "linked", "new ticket #\(number) opened: \(linkTo.reason)"))
            }
        }
        let articleID = try transaction.addArticle(article(ticket: number, queue: queue, delivery: delivery))
        for attachment in delivery.keptAttachments {
            try transaction.storeAttachment(attachment, articleID: articleID, rawMessage: message.raw)
        }
        if !options.fields.isEmpty {
            try transaction.setTicketFields(options.fields, ticket: number, at: message.receivedAt)
        }
        if !delivery.attachmentNotes.isEmpty {
            activities.append((nil, "attachments", delivery.attachmentNotes.joined(separator: "\n")))
        }
        let registration = try messageIDRegistration(ticket: number, queue: queue, in: transaction)
        if let note = registration.note { activities.append((nil, "message-id", note)) }
        if recordsEvents {
            let event = articleEvent(
                target == nil ? .ticketCreated : .articleAdded, ticket: number, queue: queue,
                ticketSubject: target == nil ? parsed.subject ?? "" : nil, requester: requesterAddress,
                articleID: articleID, direction: .inbound,
                commanded: target == nil ? (options.account, options.type, options.fields) : nil)
            try transaction.recordEvent(event)
        }
        if target == nil, options.acknowledges, let rule = policy.acknowledgement,
            let note = try enqueueAcknowledgement(
                ticket: number, queue: queue, policy: policy, rule: rule, in: transaction)
        {
            activities.append((nil, "acknowledgement", note))
        }
        if !policy.notifiedAgents.isEmpty {
            try enqueueNotifications(
                ticket: number, delivery: delivery, created: target == nil, agents: policy.notifiedAgents,
                in: transaction)
        }
        for activity in activities {
            try transaction.addActivity(
                NewActivity(
                    ticketNumber: activity.ticket ?? number, kind: activity.kind, text: activity.text,
                    createdAt: message.receivedAt))
            state.lines.append("\(queue) \(activity.kind): \(activity.text)")
        }
        try transaction.recordDelivery(
            key, ticket: number, articleID: articleID, at: message.receivedAt,
            registersMessageID: registration.registers)
        return target == nil
            ? (.created(ticket: number), .created, number) : (.appended(ticket: number), .appended, number)
    }

    /// Queues the acknowledgement of new ticket `ticket` to its requester, in this transaction, unless the
    /// requester had `rule.perAddressPerHour` in the past hour or the envelope sender is `<>` (RFC 3834: never
    /// answer it). Only ordinary (accepted) mail opening a ticket gets here: automated mail, bounces, list mail
    /// and our own mail were classified before. Returns the note for the ticket's activities.
    private func enqueueAcknowledgement(
        ticket: Int, queue: String, policy: QueuePolicy, rule: AcknowledgementRule,
        in transaction: any TicketStoreTransaction
    ) throws -> String? {
        let polled = message.source == .imap || message.source == .pop3
        guard let requester = requester(policy).address else { return nil }
        if !polled, message.sender.isEmpty { return "no acknowledgement: the envelope sender is <>" }
        let address = MailAddressForm.normalized(requester.address)
        let since = message.receivedAt.addingTimeInterval(-3600)
        let count = try transaction.outboundMailCount(recipient: address, kind: .acknowledgement, since: since)
        if count >= rule.perAddressPerHour {
            return "no acknowledgement to \(address): \(count) already sent in the past hour "
                + "(outbound.acknowledgements_per_hour = \(rule.perAddressPerHour))"
        }
        _ = try transaction.enqueueOutboundMail(
            NewOutboundMail(
                kind: .acknowledgement, ticketNumber: ticket, queue: queue,
                recipient: MailAddress(name: requester.name, address: requester.address),
                subject: parsed.subject ?? "", inReplyTo: parsed.messageID, references: replyReferences,
                createdAt: message.receivedAt))
        return "acknowledgement to \(address) queued"
    }

    /// The longest message text a notification carries; the rest is in the ticket.
    static let notificationTextLimit = 32_000

    /// `text` cut to `notificationTextLimit`: what we mail about a message (notifications, forwards) stays small.
    static func limited(_ text: String) -> String {
        text.count > notificationTextLimit ? String(text.prefix(notificationTextLimit)) + "\n[…]" : text
    }

    /// The `References` of a mail answering this message: its own (the newest 19) and its Message-ID.
    var replyReferences: [String] {
        var references = Array(parsed.references.suffix(19))
        if let messageID = parsed.messageID, !messageID.isEmpty { references.append(messageID) }
        return references
    }

    /// The sender as a person reads it in our mails: `Name <address>`, or `<>`.
    var senderDisplay: String {
        sender.map { ($0.name.map { "\($0) " } ?? "") + "<\($0.address)>" } ?? "<>"
    }

    /// Queues a notification of the new ticket (or new message on ticket `ticket`) to each agent, in this
    /// transaction; an agent who sent the message is not told of it. O(agents + the text's length).
    private func enqueueNotifications(
        ticket: Int, delivery: QueueDelivery, created: Bool, agents: [String],
        in transaction: any TicketStoreTransaction
    ) throws {
        let author = sender.map { MailAddressForm.normalized($0.address) }
        let text = Self.limited(parsed.text)
        let heading =
            (created ? "New ticket" : "New message on ticket")
            + " [\(delivery.queue.tag) #\(ticket)] in queue \(delivery.queue.name) from \(senderDisplay):"
        for agent in agents where MailAddressForm.normalized(agent) != author {
            _ = try transaction.enqueueOutboundMail(
                NewOutboundMail(
                    kind: .notification, ticketNumber: ticket, queue: delivery.queue.name,
                    recipient: MailAddress(name: nil, address: agent), subject: parsed.subject ?? "",
                    inReplyTo: parsed.messageID, references: replyReferences, text: heading + "\n\n" + text,
                    createdAt: message.receivedAt))
        }
    }

    private enum RequesterResolution {
        case contact(Int64?, address: MailAddress?, note: String?)
        case refused(MessageDisposition, reason: String)
    }

    /// The requester of a new ticket: `override` (a command's resolved requester, whose contact is created if
    /// needed) or the one `requester(_:)` chooses under the queue's unknown-sender policy.
    private func resolveRequester(
        _ policy: QueuePolicy, override: MailAddress? = nil, state: inout CommitState,
        in transaction: any TicketStoreTransaction
    ) throws -> RequesterResolution {
        if let override {
            let address = MailAddressForm.normalized(override.address)
            let id = try transaction.upsertContact(address: address, name: override.name)
            return .contact(id, address: override, note: nil)
        }
        let (chosen, rule) = requester(policy)
        guard let requester = chosen else { return .contact(nil, address: nil, note: nil) }
        let address = requester.address.lowercased()
        switch policy.unknownSenders {
        case .createContact:
            if rule == nil, let cached = state.createdContactID {
                return .contact(cached, address: requester, note: nil)
            }
            let id = try transaction.upsertContact(address: address, name: requester.name)
            if rule == nil { state.createdContactID = id }
            return .contact(id, address: requester, note: rule)
        case .fallbackContact(let fallback):
            if let id = try transaction.contactID(address: address) {
                return .contact(id, address: requester, note: rule)
            }
            let id = try transaction.upsertContact(address: fallback.lowercased(), name: nil)
            return .contact(
                id, address: MailAddress(name: nil, address: fallback.lowercased()),
                note: "unknown sender \(address): requester is the fallback contact \(fallback)")
        case .redirect(let target):
            if let id = try transaction.contactID(address: address) {
                return .contact(id, address: requester, note: rule)
            }
            return .refused(.redirected, reason: "unknown sender \(address): to be redirected to \(target)")
        case .reject:
            if let id = try transaction.contactID(address: address) {
                return .contact(id, address: requester, note: rule)
            }
            return .refused(.rejected, reason: "unknown sender \(address): rejected by the queue's policy")
        }
    }

    // MARK: automated mail, bounces, unreadable mail

    private func commitAutomated(
        delivery: QueueDelivery, key: DeliveryKey, sender budgetSender: (key: String, from: String),
        budget: AutomatedSenderBudget, day: Date, state: inout CommitState, in transaction: any TicketStoreTransaction
    ) throws -> (RecipientOutcome.Result, MessageDisposition, Int?) {
        let queue = delivery.queue.name
        let count = try transaction.countAutomatedMessage(sender: budgetSender.key, day: day)
        if case .exhausted(let reason) = budget.decision(sender: budgetSender.from, processedToday: count - 1) {
            state.lines.append("\(queue) automated/budget: \(reason) (counted as \(budgetSender.key))")
            return (.recorded(.overBudget), .overBudget, nil)
        }
        // Automated mail never opens a ticket: it threads (stored Message-IDs and subject tags only from
        // participants) or is recorded.
        let (match, _) = try threading.match(
            delivery.clues, queue: queue, sender: participantAddress, signer: signer, in: transaction)
        guard let match else { return (.recorded(.automatedUnthreaded), .automatedUnthreaded, nil) }
        try storeRaw(&state, in: transaction)
        let articleID = try transaction.addArticle(
            article(ticket: match.ticket, queue: queue, delivery: delivery, direction: .note))
        for attachment in delivery.keptAttachments {
            try transaction.storeAttachment(attachment, articleID: articleID, rawMessage: message.raw)
        }
        if recordsEvents {
            try transaction.recordEvent(
                articleEvent(
                    .articleAdded, ticket: match.ticket, queue: queue, ticketSubject: nil, requester: nil,
                    articleID: articleID, direction: .note))
        }
        let text = "automated message added as a note (status unchanged); \(match.reason)"
        try transaction.addActivity(
            NewActivity(ticketNumber: match.ticket, kind: "automated-note", text: text, createdAt: message.receivedAt))
        state.lines.append("\(queue) automated-note: \(text)")
        try recordDelivery(key, ticket: match.ticket, articleID: articleID, state: &state, in: transaction)
        return (.noted(ticket: match.ticket), .noted, match.ticket)
    }

    private func commitBounce(
        _ report: BounceReport, delivery: QueueDelivery, key: DeliveryKey, state: inout CommitState,
        in transaction: any TicketStoreTransaction
    ) throws -> (RecipientOutcome.Result, MessageDisposition, Int?) {
        try storeRaw(&state, in: transaction)
        var ticket: Int?
        if let original = report.originalMessageID {
            if let signed = signer?.ticket(fromMessageID: original),
                try transaction.ticketState(number: signed) != nil
            {
                ticket = signed
            } else {
                ticket = try transaction.ticketNumber(forAnyArticleMessageID: original)
            }
        }
        let failed = report.failedRecipients.isEmpty ? report.recipients : report.failedRecipients
        let rows: [BounceRecipient?] = failed.isEmpty ? [nil] : Array(failed.prefix(50))
        for recipient in rows {
            try transaction.recordBounce(
                NewBounceRecord(
                    receivedAt: message.receivedAt, kind: report.kind.rawValue, rule: report.rule,
                    originalMessageID: report.originalMessageID, ticketNumber: ticket,
                    recipient: recipient?.finalRecipient, status: recipient?.status,
                    diagnostic: recipient?.diagnostic, summary: report.summary, rawSHA256: rawSHA256))
        }
        try flagOwnBounceRecipients(report, in: transaction)
        guard let ticket, let ticketState = try transaction.ticketState(number: ticket) else {
            if recordsEvents {
                try transaction.recordEvent(bounceEvent(report, rows: rows, ticket: nil, articleID: nil))
            }
            state.lines.append("bounce: original message not found in any ticket: bounce list")
            return (.recorded(.bounceUnmatched), .bounceUnmatched, nil)
        }
        let articleID = try transaction.addArticle(
            article(ticket: ticket, queue: ticketState.queue, delivery: delivery, direction: .note))
        for attachment in delivery.keptAttachments {
            try transaction.storeAttachment(attachment, articleID: articleID, rawMessage: message.raw)
        }
        if recordsEvents {
            try transaction.recordEvent(
                bounceEvent(report, rows: rows, ticket: (ticket, ticketState.queue), articleID: articleID))
        }
        try transaction.addActivity(
            NewActivity(ticketNumber: ticket, kind: "bounce", text: report.summary, createdAt: message.receivedAt))
        try recordDelivery(key, ticket: ticket, articleID: articleID, state: &state, in: transaction)
        return (.noted(ticket: ticket), .noted, ticket)
    }

    private func commitErrorTicket(
        reason: String, delivery: QueueDelivery, key: DeliveryKey, state: inout CommitState,
        in transaction: any TicketStoreTransaction
    ) throws -> Int {
        try storeRaw(&state, in: transaction)
        let requesterID =
            try message.sender.isEmpty
            ? nil : transaction.upsertContact(address: message.sender.lowercased(), name: nil)
        let number = try transaction.createTicket(
            NewTicket(
                queue: delivery.queue.name, subject: "Unreadable message", requesterID: requesterID,
                source: message.source, createdAt: message.receivedAt))
        var note = article(ticket: number, queue: delivery.queue.name, delivery: delivery)
        note.subject = "Unreadable message"
        note.text = "This message could not be read: \(reason). The raw message is stored (SHA-256 \(rawSHA256))."
        note.html = nil
        note.textDerivedFromRaw = false
        let articleID = try transaction.addArticle(note)
        if recordsEvents {
            let requester = message.sender.isEmpty ? nil : MailAddress(name: nil, address: message.sender.lowercased())
            try transaction.recordEvent(
                articleEvent(
                    .ticketCreated, ticket: number, queue: delivery.queue.name, ticketSubject: note.subject,
                    requester: requester, articleID: articleID, direction: .inbound, articleSubject: note.subject))
        }
        try transaction.addActivity(
            NewActivity(ticketNumber: number, kind: "error", text: reason, createdAt: message.receivedAt))
        try recordDelivery(key, ticket: number, articleID: articleID, state: &state, in: transaction)
        return number
    }

    /// `recordDelivery` with the Message-ID registered only where `messageIDRegistration` allows it; a refusal
    /// goes into the message record.
    func recordDelivery(
        _ key: DeliveryKey, ticket: Int, articleID: Int64, state: inout CommitState,
        in transaction: any TicketStoreTransaction
    ) throws {
        let registration = try messageIDRegistration(ticket: ticket, queue: key.queue, in: transaction)
        if let note = registration.note { state.lines.append("\(key.queue) message-id: \(note)") }
        try transaction.recordDelivery(
            key, ticket: ticket, articleID: articleID, at: message.receivedAt,
            registersMessageID: registration.registers)
    }

    /// The sender as the participant rule compares it: lower-cased; `""` (nobody's address) for a message
    /// naming no sender at all, which therefore takes part in no ticket.
    var participantAddress: String { sender?.address.lowercased() ?? "" }

    /// Whether the message's Message-ID may become a threading handle of `ticket` in `queue`. Not when another
    /// sender's article already holds it (a message reusing a victim's Message-ID must not capture the victim's
    /// replies), nor when another ticket of the same queue does; the same sender's message reaching another queue
    /// (one message, two queues) registers it there too. The first holder keeps it (see
    /// `TicketStoreTransaction.ticketNumber(forArticleMessageID:queue:)`); the note says why it was refused.
    private func messageIDRegistration(
        ticket: Int, queue: String, in transaction: any TicketStoreTransaction
    ) throws -> (registers: Bool, note: String?) {
        guard let messageID = parsed.messageID, !messageID.isEmpty else { return (false, nil) }
        let author = parsed.from.first.map { $0.address.lowercased() }
        for holder in try transaction.messageIDHolders(messageID) {
            if holder.sender == nil || holder.sender != author {
                return (
                    false,
                    "Message-ID <\(messageID)> already belongs to #\(holder.ticket), sent by "
                        + "\(holder.sender ?? "<>"): not used to thread replies here"
                )
            }
            if holder.queue == queue, holder.ticket != ticket {
                return (
                    false,
                    "Message-ID <\(messageID)> already belongs to #\(holder.ticket) of this queue: not used to "
                        + "thread replies here"
                )
            }
        }
        return (true, nil)
    }

    private func article(
        ticket: Int, queue: String, delivery: QueueDelivery, direction: ArticleDirection = .inbound
    ) -> NewArticle {
        NewArticle(
            ticketNumber: ticket, queue: queue, direction: direction, messageID: parsed.messageID,
            inReplyTo: parsed.inReplyTo, references: parsed.references, subject: parsed.subject ?? "",
            from: parsed.from.first, to: parsed.to, cc: parsed.cc, replyTo: parsed.replyTo, text: parsed.text,
            html: parsed.html, envelopeSender: message.sender, envelopeRecipients: delivery.recipients,
            source: message.source, sessionID: message.sessionID, receivedAt: message.receivedAt,
            rawSHA256: rawSHA256, rawSize: message.raw.count, textDerivedFromRaw: textDerivedFromRaw)
    }

    // MARK: outbox events

    /// A `ticket.created` or `article.added` event: the ticket (with subject and requester when it was just
    /// created) and the article's headers; its texts are rendered from the stored article when it is sent.
    ///
    /// - Parameter commanded: what a command or alert gave the new ticket (account, type, typed fields).
    private func articleEvent(
        _ type: OutboxEventType, ticket: Int, queue: String, ticketSubject: String?, requester: MailAddress?,
        articleID: Int64, direction: ArticleDirection, articleSubject: String? = nil,
        commanded: (account: String?, type: String?, fields: [TicketField])? = nil
    ) -> NewOutboxEvent {
        var ticketObject = EventPayload()
        ticketObject.add("number", ticket)
        ticketObject.add("queue", queue)
        if let ticketSubject {
            ticketObject.add("subject", ticketSubject)
            ticketObject.add("requester", requester)
        }
        if let commanded {
            ticketObject.add("account", commanded.account)
            ticketObject.add("type", commanded.type)
            if !commanded.fields.isEmpty {
                ticketObject.add(
                    "fields",
                    objects: commanded.fields.map { field in
                        var object = EventPayload()
                        object.add("name", field.name)
                        object.add("kind", field.kind.rawValue)
                        object.add("value", field.value)
                        return object
                    })
            }
        }
        var payload = EventPayload()
        payload.add("ticket", object: ticketObject)
        payload.add("article", object: articleObject(articleID, direction: direction, subject: articleSubject))
        return NewOutboxEvent(
            type: type, ticketNumber: ticket, articleID: articleID, payload: payload.json,
            createdAt: message.receivedAt)
    }

    private func articleObject(_ id: Int64, direction: ArticleDirection, subject: String? = nil) -> EventPayload {
        var object = EventPayload()
        object.add("id", id)
        object.add("direction", direction.rawValue)
        object.add(membersOf: subject.map { articleFields(subject: $0) } ?? articleEventFields)
        return object
    }

    /// The members of `articleEventFields`, with `subject` in place of the message's.
    func articleFields(subject: String? = nil) -> EventPayload {
        var object = EventPayload()
        object.add("message_id", parsed.messageID)
        object.add("subject", subject ?? parsed.subject ?? "")
        object.add("from", sender)
        object.add("source", message.source.rawValue)
        return object
    }

    /// A `bounce.recorded` event: what bounced, and the ticket and note when the original was ours.
    private func bounceEvent(
        _ report: BounceReport, rows: [BounceRecipient?], ticket: (number: Int, queue: String)?, articleID: Int64?
    ) -> NewOutboxEvent {
        var bounce = EventPayload()
        bounce.add("kind", report.kind.rawValue)
        bounce.add("rule", report.rule)
        bounce.add("original_message_id", report.originalMessageID)
        bounce.add("summary", report.summary)
        bounce.add(
            "recipients",
            objects: rows.compactMap { row in
                guard let row else { return nil }
                var recipient = EventPayload()
                recipient.add("address", row.finalRecipient)
                recipient.add("status", row.status)
                recipient.add("diagnostic", row.diagnostic)
                return recipient
            })
        var payload = EventPayload()
        if let ticket {
            var ticketObject = EventPayload()
            ticketObject.add("number", ticket.number)
            ticketObject.add("queue", ticket.queue)
            payload.add("ticket", object: ticketObject)
        } else {
            payload.add("ticket", nil as String?)
        }
        payload.add("bounce", object: bounce)
        if let articleID {
            payload.add("article", object: articleObject(articleID, direction: .note))
        }
        return NewOutboxEvent(
            type: .bounceRecorded, ticketNumber: ticket?.number, articleID: articleID, payload: payload.json,
            createdAt: message.receivedAt)
    }

    // MARK: reporting

    /// `support: created #3; sales: duplicate #2`, for a replayed quarantine entry.
    func summary(of results: [String: RecipientOutcome.Result]) -> String {
        deliveries.map { delivery in
            let queue = delivery.queue.name
            return "\(queue): " + (results[queue].map(Self.describe) ?? "nothing")
        }.joined(separator: "; ")
    }

    static func describe(_ result: RecipientOutcome.Result) -> String {
        switch result {
        case .created(let ticket): "created #\(ticket)"
        case .appended(let ticket): "appended to #\(ticket)"
        case .duplicate(let ticket): "duplicate of #\(ticket)"
        case .noted(let ticket): "noted on #\(ticket)"
        case .recorded(let disposition): disposition.rawValue
        case .quarantined(let id): "quarantined (\(id))"
        case .unknownRecipient: "unknown recipient"
        case .temporaryFailure(let reason): "deferred (\(reason))"
        case .abandoned(let why): "deferred (\(why))"
        }
    }

    /// A log line for every message that did not become (part of) a ticket: nothing is dropped silently.
    func log(_ results: [String: RecipientOutcome.Result], logger: Logger) {
        for delivery in deliveries {
            guard case .recorded(let disposition)? = results[delivery.queue.name] else { continue }
            logger.info(
                "message recorded without a ticket",
                metadata: [
                    "session": "\(message.sessionID ?? "-")", "queue": "\(delivery.queue.name)",
                    "disposition": "\(disposition.rawValue)", "classification": "\(classification)",
                    "message-id": "\(parsed.messageID ?? "-")", "from": "\(sender?.address ?? "<>")",
                ])
        }
    }
}

/// The original sender of a message an agent forwarded into a queue.
enum ForwardedMessage {
    /// The From of an attached message (forward as attachment), else the first `From:` line after a
    /// forwarded-message marker in the text (inline forward, as Gmail, Outlook and Thunderbird write it).
    static func originalSender(of parsed: ParsedMessage) -> MailAddress? {
        if let attached = parsed.attachedMessages.first?.from.first, !attached.address.isEmpty { return attached }
        var afterMarker = false
        for line in parsed.text.split(whereSeparator: \.isNewline) {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            let lowered = trimmed.lowercased()
            if lowered.contains("forwarded message") || lowered.contains("original message")
                || lowered.hasPrefix("begin forwarded message")
            {
                afterMarker = true
                continue
            }
            guard afterMarker, lowered.hasPrefix("from:") else { continue }
            let value = trimmed.dropFirst(5).trimmingCharacters(in: .whitespaces)
            if let open = value.lastIndex(of: "<"), let close = value.lastIndex(of: ">"), open < close {
                let address = String(value[value.index(after: open)..<close])
                let name = value[..<open].trimmingCharacters(in: CharacterSet(charactersIn: " \""))
                guard address.contains("@") else { return nil }
                return MailAddress(name: name.isEmpty ? nil : name, address: address)
            }
            if let token = value.split(separator: " ").first(where: { $0.contains("@") }) {
                return MailAddress(name: nil, address: String(token))
            }
            return nil
        }
        return nil
    }
}
