import Foundation
import Logging
import MailParser

/// What happened to one envelope recipient of a message.
public struct RecipientOutcome: Sendable, Hashable {
    public enum Result: Sendable, Hashable {
        /// A new ticket was created with this message as its first article.
        case created(ticket: Int)
        /// The message threaded into an existing ticket as a new article.
        case appended(ticket: Int)
        /// This exact message was already stored for this queue; nothing was created.
        case duplicate(ticket: Int)
        /// No queue receives this address.
        case unknownRecipient
        /// The message was not stored; the sender must try again later.
        case temporaryFailure(reason: String)
    }

    public var recipient: String
    /// The queue the recipient routed to, or nil for an unknown recipient.
    public var queue: String?
    public var result: Result

    public init(recipient: String, queue: String?, result: Result) {
        self.recipient = recipient
        self.queue = queue
        self.result = result
    }
}

/// Turns inbound messages into tickets: routes recipients to queues, parses once, threads, and commits one
/// ticket (or article) per queue durably before reporting.
public final class TicketIntake: Sendable {
    public let router: QueueRouter
    public let store: any TicketStore
    public let threading: ThreadMatcher
    private let logger: Logger
    private let parse: @Sendable ([UInt8]) -> ParsedMessage
    /// Whether `parse` is `MessageParser`'s: only then can the store render an article's text from its raw
    /// message on read instead of storing it.
    private let parsesWithMessageParser: Bool

    /// - Parameter parse: turns raw bytes into the model; nil for `MessageParser`. Replaceable so tests can feed
    ///   hand-built messages (their texts are then stored as given).
    public init(
        router: QueueRouter, store: any TicketStore, logger: Logger, threading: ThreadMatcher = ThreadMatcher(),
        parse: (@Sendable ([UInt8]) -> ParsedMessage)? = nil
    ) {
        self.router = router
        self.store = store
        self.logger = logger
        self.threading = threading
        self.parse = parse ?? { MessageParser.parse($0) }
        self.parsesWithMessageParser = parse == nil
    }

    /// Parses once, then for each distinct queue among the recipients commits one ticket (or article)
    /// durably; returns one outcome per recipient, in order. Never throws: a store error becomes
    /// `.temporaryFailure` for every routed recipient, and nothing of the message is kept.
    public func process(_ message: InboundMessage) async -> [RecipientOutcome] {
        var deliveries: [QueueDelivery] = []
        let routes = message.recipients.map { recipient -> String? in
            guard let queue = router.queue(for: recipient) else { return nil }
            if let index = deliveries.firstIndex(where: { $0.queue.name == queue.name }) {
                deliveries[index].recipients.append(recipient)
            } else {
                deliveries.append(QueueDelivery(queue: queue, recipients: [recipient]))
            }
            return queue.name
        }
        guard !deliveries.isEmpty else {
            return message.recipients.map { RecipientOutcome(recipient: $0, queue: nil, result: .unknownRecipient) }
        }

        // Everything CPU-heavy happens here, outside the store's serialized writer.
        var parsed = parse(message.raw)
        for index in parsed.attachments.indices where parsed.attachments[index].sha256.isEmpty {
            parsed.attachments[index].sha256 = sha256Hex(parsed.attachments[index].data)
        }
        let plan = DeliveryPlan(
            message: message, parsed: parsed, rawSHA256: sha256Hex(message.raw),
            deliveries: deliveries.map { delivery in
                var delivery = delivery
                delivery.clues = threading.clues(for: parsed, queue: delivery.queue)
                return delivery
            },
            threading: threading, textDerivedFromRaw: parsesWithMessageParser)

        let results: [String: RecipientOutcome.Result]
        do {
            results = try await store.write { transaction in try plan.commit(in: transaction) }
        } catch {
            logger.error(
                "could not store message",
                metadata: [
                    "session": "\(message.sessionID ?? "-")", "error": "\(error)",
                    "size": "\(message.raw.count)",
                ])
            let failure = RecipientOutcome.Result.temporaryFailure(reason: "\(error)")
            return zip(message.recipients, routes).map { recipient, queue in
                RecipientOutcome(recipient: recipient, queue: queue, result: queue == nil ? .unknownRecipient : failure)
            }
        }
        return zip(message.recipients, routes).map { recipient, queue in
            guard let queue, let result = results[queue] else {
                return RecipientOutcome(recipient: recipient, queue: nil, result: .unknownRecipient)
            }
            return RecipientOutcome(recipient: recipient, queue: queue, result: result)
        }
    }
}

/// The recipients of one message that route to one queue.
struct QueueDelivery: Sendable {
    var queue: QueueDefinition
    var recipients: [String]
    var clues = ThreadingClues(referencedMessageIDs: [], subjectTicketNumbers: [])
}

/// Everything decided about a message before the store's writer runs; `commit` does only store calls.
struct DeliveryPlan: Sendable {
    let message: InboundMessage
    let parsed: ParsedMessage
    let rawSHA256: String
    let deliveries: [QueueDelivery]
    let threading: ThreadMatcher
    let textDerivedFromRaw: Bool

    /// The requester: the first From address, else the envelope sender; nil for `<>` without From.
    var requester: MailAddress? {
        if let from = parsed.from.first, !from.address.isEmpty { return from }
        return message.sender.isEmpty ? nil : MailAddress(name: nil, address: message.sender)
    }

    /// Runs inside the store's transaction: per queue, a redelivery is recognised, else the message
    /// threads into a ticket of that queue or opens a new one.
    func commit(in transaction: any TicketStoreTransaction) throws -> [String: RecipientOutcome.Result] {
        var results: [String: RecipientOutcome.Result] = [:]
        var requesterID: Int64?
        var requesterResolved = false
        var rawStored = false
        for delivery in deliveries {
            let queue = delivery.queue.name
            let key = DeliveryKey(messageID: parsed.messageID ?? "", rawSHA256: rawSHA256, queue: queue)
            if let ticket = try transaction.deliveredTicket(for: key) {
                results[queue] = .duplicate(ticket: ticket)
                continue
            }
            if !rawStored {
                try transaction.storeRawMessage(sha256: rawSHA256, bytes: message.raw, receivedAt: message.receivedAt)
                rawStored = true
            }
            if !requesterResolved {
                requesterID = try requester.map {
                    try transaction.upsertContact(address: $0.address.lowercased(), name: $0.name)
                }
                requesterResolved = true
            }
            let number: Int
            let threaded = try threading.ticket(for: delivery.clues, queue: queue, in: transaction)
            if let threaded {
                number = threaded
            } else {
                number = try transaction.createTicket(
                    NewTicket(
                        queue: queue, subject: parsed.subject ?? "", requesterID: requesterID,
                        source: message.source, createdAt: message.receivedAt))
            }
            let articleID = try transaction.addArticle(article(ticket: number, delivery: delivery))
            for attachment in parsed.attachments {
                try transaction.storeAttachment(attachment, articleID: articleID)
            }
            try transaction.recordDelivery(key, ticket: number, articleID: articleID, at: message.receivedAt)
            results[queue] = threaded == nil ? .created(ticket: number) : .appended(ticket: number)
        }
        return results
    }

    private func article(ticket: Int, delivery: QueueDelivery) -> NewArticle {
        NewArticle(
            ticketNumber: ticket, queue: delivery.queue.name, messageID: parsed.messageID,
            inReplyTo: parsed.inReplyTo, references: parsed.references, subject: parsed.subject ?? "",
            from: parsed.from.first, to: parsed.to, cc: parsed.cc, replyTo: parsed.replyTo, text: parsed.text,
            html: parsed.html, envelopeSender: message.sender, envelopeRecipients: delivery.recipients,
            source: message.source, sessionID: message.sessionID, receivedAt: message.receivedAt,
            rawSHA256: rawSHA256, rawSize: message.raw.count, textDerivedFromRaw: textDerivedFromRaw)
    }
}
