import Foundation
import Logging
import MailClassification
import MailParser
import MessageSpool

/// What happened to one envelope recipient of a message.
public struct RecipientOutcome: Sendable, Hashable {
    public enum Result: Sendable, Hashable {
        /// A new ticket was created with this message as its first article.
        case created(ticket: Int)
        /// The message threaded into an existing ticket as a new article.
        case appended(ticket: Int)
        /// This exact message was already stored for this queue; nothing was created.
        case duplicate(ticket: Int)
        /// Automated mail or a bounce, added as a note to this ticket (no status change).
        case noted(ticket: Int)
        /// Kept on record without a ticket: own mail, loops, ignored or unthreaded automated mail, unmatched
        /// bounces, rejected senders. The message is safe with us (250).
        case recorded(MessageDisposition)
        /// The pipeline failed on the message; it is in quarantine with its raw bytes (250).
        case quarantined(id: Int64)
        /// No queue receives this address.
        case unknownRecipient
        /// The message was not stored; the sender must try again later.
        case temporaryFailure(reason: String)
        /// The message was given up before its commit (deadline, shutdown); nothing of it was stored and the
        /// source must offer it again.
        case abandoned(Abandonment)
    }

    /// Why a message was given up before its commit.
    public enum Abandonment: Sendable, Hashable, CustomStringConvertible {
        /// It spent longer than the processing deadline in the pipeline; its next delivery is quarantined.
        case processingDeadline(seconds: Int64)
        /// The daemon is stopping.
        case shuttingDown

        public var description: String {
            switch self {
            case .processingDeadline(let seconds): "the processing deadline of \(seconds) s passed"
            case .shuttingDown: "the daemon is shutting down"
            }
        }
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

/// Turns inbound messages into tickets, the same way for every intake path: routes recipients to queues,
/// parses once, classifies (bounces, own mail and loops, automated mail, filters, attachments), then commits
/// per queue a ticket, an article, a note or just the record — with one message record for every message.
public final class TicketIntake: Sendable {
    public let router: QueueRouter
    public let store: any TicketStore
    public let threading: ThreadMatcher
    public let settings: PipelineSettings
    private let classifiers: [String: MailClassifier]
    private let logger: Logger
    private let parse: @Sendable (RawMessage) -> ParsedMessage
    /// Whether `parse` is `MessageParser`'s: only then can the store render an article's text from its raw
    /// message on read instead of storing it.
    private let parsesWithMessageParser: Bool
    /// A test's fault (hang or crash in one stage); nil in production.
    private let faults: StageFaultInjection?

    /// - Parameter parse: turns raw bytes into the model; nil for `MessageParser`. Replaceable so tests can feed
    ///   hand-built messages (their texts are then stored as given).
    public convenience init(
        router: QueueRouter, store: any TicketStore, logger: Logger, threading: ThreadMatcher = ThreadMatcher(),
        settings: PipelineSettings = PipelineSettings(),
        parse: (@Sendable (RawMessage) -> ParsedMessage)? = nil
    ) {
        self.init(
            router: router, store: store, logger: logger, threading: threading, settings: settings, parse: parse,
            faults: StageFaultInjection.fromEnvironment())
    }

    /// The initializer with a test's stage fault (see `StageFaultInjection`); only tests import this SPI.
    @_spi(StageFaults)
    public init(
        router: QueueRouter, store: any TicketStore, logger: Logger, threading: ThreadMatcher = ThreadMatcher(),
        settings: PipelineSettings = PipelineSettings(),
        parse: (@Sendable (RawMessage) -> ParsedMessage)? = nil, faults: StageFaultInjection?
    ) {
        self.faults = faults
        self.router = router
        self.store = store
        self.logger = logger
        self.threading = threading
        self.settings = settings
        self.parse = parse ?? { $0.parsed() }
        self.parsesWithMessageParser = parse == nil
        var classifiers: [String: MailClassifier] = [:]
        for queue in router.queues {
            classifiers[queue.name] = MailClassifier(
                ClassifierConfiguration(
                    ownMail: settings.ownMail, bounces: settings.bounces, filter: queue.policy.filter,
                    attachments: queue.policy.attachments, automatedBudget: queue.policy.automatedBudget))
        }
        self.classifiers = classifiers
    }

    /// Runs the pipeline and commits durably; returns one outcome per recipient, in order. Never throws: a
    /// store failure becomes `.temporaryFailure` for every routed recipient (nothing of the message is kept);
    /// an error in the pipeline's own logic puts the message in quarantine (`.quarantined`).
    public func process(_ message: InboundMessage) async -> [RecipientOutcome] {
        await withCheckedContinuation { continuation in
            process(message) { continuation.resume(returning: $0) }
        }
    }

    /// `process` for a caller that is not a task (the SMTP/LMTP event loop): parsing and classification run on
    /// the calling thread, then `completion` is called exactly once with the outcomes, from the thread that made
    /// the commit durable. A message that ends in quarantine finishes in a task (the rare path).
    ///
    /// - Parameter progress: told as the message enters each stage; when it throws (the message was given up),
    ///   nothing of the message is stored and every routed recipient gets `.temporaryFailure`.
    public func process(
        _ message: InboundMessage, progress: (any StageProgress)? = nil,
        completion: @escaping @Sendable ([RecipientOutcome]) -> Void
    ) {
        do {
            try enter(.route, of: message, progress: progress)
        } catch {
            completion(message.recipients.map { RecipientOutcome(recipient: $0, queue: nil, result: abandoned(error)) })
            return
        }
        let (deliveries, routes) = route(message)
        guard !deliveries.isEmpty else {
            completion(
                message.recipients.map { RecipientOutcome(recipient: $0, queue: nil, result: .unknownRecipient) })
            return
        }
        run(message, deliveries: deliveries, replayOf: nil, progress: progress) { [self] result in
            switch result {
            case .success(let results):
                completion(Self.outcomes(message, routes: routes) { results[$0] ?? .unknownRecipient })
            case .failure(.store(let error)):
                logger.error(
                    "could not store message",
                    metadata: [
                        "session": "\(message.sessionID ?? "-")", "error": "\(error)", "size": "\(message.raw.count)",
                    ])
                completion(Self.outcomes(message, routes: routes) { _ in .temporaryFailure(reason: "\(error)") })
            case .failure(.pipeline(let error)):
                Task {
                    let results = await quarantine(message, deliveries: deliveries, error: error)
                    completion(Self.outcomes(message, routes: routes) { results[$0] ?? .unknownRecipient })
                }
            case .failure(.abandoned(let error)):
                completion(Self.outcomes(message, routes: routes) { _ in abandoned(error) })
            }
        }
    }

    /// Puts a message in quarantine without running any stage: for a poison message, one an earlier delivery
    /// crashed or hung in. `reason` says which stage and what happened; it is the quarantine entry's error.
    /// `completion` is called once, from a task.
    public func holdForReview(
        _ message: InboundMessage, reason: PipelineError, completion: @escaping @Sendable ([RecipientOutcome]) -> Void
    ) {
        let (deliveries, routes) = route(message)
        guard !deliveries.isEmpty else {
            completion(
                message.recipients.map { RecipientOutcome(recipient: $0, queue: nil, result: .unknownRecipient) })
            return
        }
        Task {
            let results = await quarantine(message, deliveries: deliveries, error: reason)
            completion(Self.outcomes(message, routes: routes) { results[$0] ?? .unknownRecipient })
        }
    }

    /// Records the stage with `progress`, then lets a test's fault hit it.
    private func enter(
        _ stage: PipelineStage, of message: InboundMessage, progress: (any StageProgress)?
    ) throws(ProcessingAbandoned) {
        try progress?.enter(stage)
        faults?.trigger(at: stage, raw: message.raw)
    }

    private func abandoned(_ error: ProcessingAbandoned) -> RecipientOutcome.Result {
        .temporaryFailure(reason: error.description)
    }

    private static func outcomes(
        _ message: InboundMessage, routes: [String?], result: (String) -> RecipientOutcome.Result
    ) -> [RecipientOutcome] {
        zip(message.recipients, routes).map { recipient, queue in
            guard let queue else {
                return RecipientOutcome(recipient: recipient, queue: nil, result: .unknownRecipient)
            }
            return RecipientOutcome(recipient: recipient, queue: queue, result: result(queue))
        }
    }

    /// The distinct queues of the message's recipients, and each recipient's queue name (nil: unknown). On
    /// paths that cannot refuse a recipient, one no queue receives goes to the triage queue, if configured.
    func route(_ message: InboundMessage) -> ([QueueDelivery], [String?]) {
        var deliveries: [QueueDelivery] = []
        // A source that refuses unknown recipients (LMTP/SMTP at RCPT) hands over each recipient's queue; the
        // others cannot refuse, so they look further: the message's own headers, then the triage queue.
        let resolved: [String?]?
        let fromHeaders: Bool
        switch message.routing {
        case .resolved(let queues): (resolved, fromHeaders) = (queues, false)
        case .byRecipientAddress: (resolved, fromHeaders) = (nil, false)
        case .fromHeaders: (resolved, fromHeaders) = (nil, true)
        }
        let triage = fromHeaders ? settings.triageQueue.flatMap { router.queue(named: $0) } : nil
        var headerRoute: (queue: QueueDefinition, header: String, address: String)??
        let routes = message.recipients.enumerated().map { index, recipient -> String? in
            var reason: (kind: String, text: String)?
            var queue: QueueDefinition?
            if let resolved {
                // A queue removed by a reload since RCPT is an unknown recipient now.
                queue = index < resolved.count ? resolved[index].flatMap { router.queue(named: $0) } : nil
            } else {
                queue = router.queue(for: recipient)
            }
            if queue == nil, fromHeaders {
                if headerRoute == nil { headerRoute = .some(HeaderRouting.queue(for: message.raw, router: router)) }
                if let found = headerRoute ?? nil {
                    queue = found.queue
                    reason = (
                        "routing",
                        "routing: no queue receives <\(recipient)>; the \(found.header) header names <\(found.address)>"
                            + " of queue \(found.queue.name)"
                    )
                } else if let triage {
                    queue = triage
                    reason = ("triage", "routing: no queue receives <\(recipient)>: triage queue")
                }
            }
            guard let queue else { return nil }
            if let index = deliveries.firstIndex(where: { $0.queue.name == queue.name }) {
                deliveries[index].recipients.append(recipient)
                if let reason { deliveries[index].routingNotes.append(reason) }
            } else {
                var delivery = QueueDelivery(queue: queue, recipients: [recipient])
                if let reason { delivery.routingNotes.append(reason) }
                deliveries.append(delivery)
            }
            return queue.name
        }
        return (deliveries, routes)
    }

    enum Failure: Error {
        /// The store could not write: the MTA must retry (451).
        case store(TicketStoreError)
        /// The pipeline's own logic failed: quarantine.
        case pipeline(any Error)
        /// The message was given up (deadline, shutdown) before it was committed; nothing was stored.
        case abandoned(ProcessingAbandoned)
    }

    /// Plans outside the store's writer, then commits. With `replayOf`, the quarantine entry is checked and
    /// marked replayed in the same transaction.
    func run(
        _ message: InboundMessage, deliveries: [QueueDelivery], replayOf quarantineID: Int64?
    ) async -> Result<[String: RecipientOutcome.Result], Failure> {
        await withCheckedContinuation { continuation in
            run(message, deliveries: deliveries, replayOf: quarantineID, progress: nil) {
                continuation.resume(returning: $0)
            }
        }
    }

    /// `run` reporting through `completion`: planning runs on the calling thread, `completion` where the store
    /// reports the commit.
    func run(
        _ message: InboundMessage, deliveries: [QueueDelivery], replayOf quarantineID: Int64?,
        progress: (any StageProgress)?,
        completion: @escaping @Sendable (Result<[String: RecipientOutcome.Result], Failure>) -> Void
    ) {
        let plan: DeliveryPlan
        do {
            plan = try prepare(message, deliveries: deliveries, progress: progress)
        } catch let error as ProcessingAbandoned {
            completion(.failure(.abandoned(error)))
            return
        } catch {
            completion(.failure(.pipeline(error)))
            return
        }
        let logger = self.logger
        store.write(
            { [self] transaction in
                // Inside the transaction: a message given up while it waited for the writer is rolled back.
                try enter(.commit, of: message, progress: progress)
                if let quarantineID, try transaction.quarantineReplayed(id: quarantineID) {
                    throw ReplayConflict()
                }
                let results = try plan.commit(in: transaction)
                if let quarantineID {
                    try transaction.markReplayed(
                        quarantineID: quarantineID, at: Date(), result: plan.summary(of: results))
                }
                return results
            },
            completion: { result in
                switch result {
                case .success(let results):
                    plan.log(results, logger: logger)
                    completion(.success(results))
                case .failure(let error as TicketStoreError) where error.kind != .other:
                    completion(.failure(.store(error)))
                case .failure(let error as ProcessingAbandoned):
                    completion(.failure(.abandoned(error)))
                case .failure(let error):
                    completion(.failure(.pipeline(error)))
                }
            })
    }

    /// Everything CPU-heavy happens here, outside the store's serialized writer.
    func prepare(
        _ message: InboundMessage, deliveries: [QueueDelivery], progress: (any StageProgress)? = nil
    ) throws -> DeliveryPlan {
        let raw = message.raw
        try enter(.parse, of: message, progress: progress)
        var parsed = parse(raw)
        if parsed.attachments.count > settings.maximumAttachments {
            throw PipelineError.tooManyAttachments(count: parsed.attachments.count, limit: settings.maximumAttachments)
        }
        for index in parsed.attachments.indices where parsed.attachments[index].sha256.isEmpty {
            parsed.attachments[index].sha256 = sha256Hex(parsed.attachments[index].data)
        }
        let unreadable = raw.withUnsafeBytes { UnreadableMessage.reason(raw: $0) }
        // The raw bytes' own SHA-256 is no key (deduplication uses the normalised body's), so it is computed only
        // where it identifies the message on record: mail that may be kept without its raw bytes, bounces,
        // unreadable mail, the `.eml` copy. Ordinary mail keeps its raw bytes, whose hash is computed on read.
        var rawSHA256 = ""
        func rawHash() -> String {
            if rawSHA256.isEmpty { rawSHA256 = raw.sha256 }
            return rawSHA256
        }
        // A polled message has no SMTP envelope: its sender is unknown, and the classifier reads `Return-Path:`.
        let polled = message.source == .imap || message.source == .pop3
        let envelope = MailEnvelope(sender: polled ? nil : message.sender, recipients: message.recipients)
        try enter(.classify, of: message, progress: progress)
        var planned: [QueueDelivery] = []
        var classificationName = "accepted"
        var decisionLines: [String] = []
        for (index, original) in deliveries.enumerated() {
            var delivery = original
            delivery.clues = threading.clues(for: parsed, queue: delivery.queue)
            let prefix = deliveries.count > 1 ? "\(delivery.queue.name): " : ""
            if let unreadable {
                delivery.action = .errorTicket(reason: unreadable)
                if index == 0 { classificationName = "unreadable" }
                decisionLines.append("\(prefix)parser/unreadable: \(unreadable)")
                planned.append(delivery)
                continue
            }
            guard let classifier = classifiers[delivery.queue.name] else {
                throw PipelineError.stageFailed(
                    stage: "classification", reason: "no classifier for queue \(delivery.queue.name)")
            }
            let classification = classifier.classify(parsed, envelope: envelope)
            for decision in classification.decisions {
                // A stage that passed is recorded by its name alone: every message carries these lines, and
                // the record is written by the serialized writer.
                decisionLines.append(
                    decision.rule == "none"
                        ? "\(prefix)\(decision.stage.rawValue)/none"
                        : "\(prefix)\(decision.stage.rawValue)/\(decision.rule): \(decision.reason)")
            }
            let name: String
            switch classification.verdict {
            case .bounce(let report):
                name = "bounce"
                delivery.action = .bounce(report)
            case .ownMail(let reason):
                name = "own-mail"
                delivery.action = .record(.dropped, reason: reason)
            case .loop(let reason):
                name = "loop"
                delivery.action = .record(.dropped, reason: reason)
            case .ignored(let filter):
                name = "ignored"
                delivery.action = .record(.ignored, reason: filter.reason)
            case .automated:
                name = "automated"
                // The From alone is anyone's to write: forged mail must not use up a real sender's budget. The
                // envelope sender (checked by the MTA, SPF) and the From together name the sender counted.
                let fromAddress = parsed.from.first?.address ?? message.sender
                let fromKey = AutomatedSenderBudget.senderKey(fromAddress)
                delivery.action = .automated(
                    senderKey: fromKey + " <" + AutomatedSenderBudget.senderKey(message.sender) + ">",
                    fromKey: fromKey,
                    budget: delivery.queue.policy.automatedBudget,
                    day: AutomatedSenderBudget.countingDay(containing: message.receivedAt).start)
            case .accepted:
                name = "accepted"
            }
            if let commands = delivery.queue.policy.commands, commands.isActive {
                try enter(.command, of: message, progress: progress)
                // Only what would otherwise open or join a ticket may command: never a bounce, a loop, own mail.
                let automated: Bool?
                switch delivery.action {
                case .ticket: automated = false
                case .automated: automated = true
                default: automated = nil
                }
                let from = MailAddressForm.normalized(parsed.from.first?.address ?? message.sender)
                if let automated,
                    let command = MailCommandPlanner.plan(
                        parsed, raw: raw, sender: from, policy: commands, automated: automated)
                {
                    delivery.action = .command(command)
                    decisionLines.append("\(prefix)command/\(command.kind): found")
                }
            }
            if index == 0 { classificationName = name }
            for decision in classification.attachments {
                if decision.action == .keep {
                    delivery.keptAttachments.append(parsed.attachments[decision.index])
                } else {
                    delivery.attachmentNotes.append(decision.reason)
                }
            }
            if delivery.queue.policy.attachRawMessage {
                // The raw message is stored anyway: the attachment is a second copy of it, read in chunks.
                delivery.keptAttachments.append(
                    ParsedAttachment(
                        filename: "message.eml", contentType: "message/rfc822",
                        deferred: DeferredContent(range: 0..<raw.count, encoding: .identity), size: raw.count,
                        sha256: rawHash(), contentID: nil, disposition: "attachment"))
            }
            planned.append(delivery)
        }
        try enter(.plan, of: message, progress: progress)
        if unreadable != nil || planned.contains(where: DeliveryPlan.mayEndRecorded) { _ = rawHash() }
        let bodySHA256 = raw.withUnsafeBytes { BodyFingerprint.sha256(raw: $0, relief: raw.scanRelief) }
        var plan = DeliveryPlan(
            message: message, parsed: parsed, rawSHA256: rawSHA256,
            identitySHA256: MessageIdentity.sha256(of: parsed, bodySHA256: bodySHA256), bodySHA256: bodySHA256,
            deliveries: planned,
            threading: threading, signer: settings.messageIDs, classification: classificationName,
            decisions: decisionLines.joined(separator: "\n"), textDerivedFromRaw: parsesWithMessageParser,
            recordsEvents: settings.recordsEvents, articleEventFields: EventPayload())
        if plan.recordsEvents { plan.articleEventFields = plan.articleFields() }
        return plan
    }

    /// Stores the message in quarantine; on failure to do even that, the MTA must retry.
    private func quarantine(
        _ message: InboundMessage, deliveries: [QueueDelivery], error: any Error
    ) async -> [String: RecipientOutcome.Result] {
        let reason = "\(error)"
        let record = NewMessageRecord(
            receivedAt: message.receivedAt, source: message.source, sessionID: message.sessionID,
            envelopeSender: message.sender, envelopeRecipients: message.recipients, messageID: nil, subject: nil,
            fromAddress: nil, rawSHA256: message.raw.sha256, rawSize: message.raw.count,
            classification: "error", disposition: .quarantined, ticketNumber: nil,
            queues: deliveries.map(\.queue.name), decisions: "pipeline/error: \(reason)")
        let entry = NewQuarantineEntry(
            receivedAt: message.receivedAt, source: message.source, sessionID: message.sessionID,
            envelopeSender: message.sender, envelopeRecipients: message.recipients, raw: message.raw, error: reason)
        let recordsEvents = settings.recordsEvents
        do {
            let id = try await store.write { transaction in
                let id = try transaction.quarantine(entry)
                var record = record
                record.decisions += "\nquarantine: entry \(id)"
                try transaction.recordMessage(record)
                if recordsEvents { try transaction.recordEvent(Self.quarantineEvent(entry, id: id)) }
                return id
            }
            logger.error(
                "message quarantined",
                metadata: ["session": "\(message.sessionID ?? "-")", "quarantine": "\(id)", "error": "\(reason)"])
            var results: [String: RecipientOutcome.Result] = [:]
            for delivery in deliveries { results[delivery.queue.name] = .quarantined(id: id) }
            return results
        } catch {
            logger.error(
                "could not quarantine message",
                metadata: [
                    "session": "\(message.sessionID ?? "-")", "error": "\(error)", "pipeline-error": "\(reason)",
                ])
            var results: [String: RecipientOutcome.Result] = [:]
            for delivery in deliveries { results[delivery.queue.name] = .temporaryFailure(reason: "\(error)") }
            return results
        }
    }
}

extension TicketIntake {
    /// A `message.quarantined` event: which message, from where, and why.
    static func quarantineEvent(_ entry: NewQuarantineEntry, id: Int64) -> NewOutboxEvent {
        var payload = EventPayload()
        var quarantine = EventPayload()
        quarantine.add("id", id)
        quarantine.add("error", entry.error)
        quarantine.add("source", entry.source.rawValue)
        quarantine.add("envelope_sender", entry.envelopeSender)
        quarantine.add("envelope_recipients", entry.envelopeRecipients)
        quarantine.add("size", entry.raw.count)
        payload.add("quarantine", object: quarantine)
        return NewOutboxEvent(
            type: .messageQuarantined, ticketNumber: nil, articleID: nil, payload: payload.json,
            createdAt: entry.receivedAt)
    }
}

/// Thrown inside a replay's transaction when another replay got there first.
struct ReplayConflict: Error {}

/// What the pipeline decided to do for one queue, before the writer runs.
enum PlannedAction: Sendable {
    /// Ordinary mail: thread into a ticket or open one.
    case ticket
    /// Automated mail: counted against the budget of `senderKey` (From and envelope sender); a note where it
    /// threads, else only the record.
    case automated(senderKey: String, fromKey: String, budget: AutomatedSenderBudget, day: Date)
    /// A bounce or report: a bounce record, and a note on the original's ticket if there is one.
    case bounce(BounceReport)
    /// Only the record.
    case record(MessageDisposition, reason: String)
    /// An unreadable message: an error ticket with the raw message and the reason.
    case errorTicket(reason: String)
    /// A command or an alert (issue 15), carried out and authorised in the commit.
    case command(PlannedCommand)
}

/// The recipients of one message that route to one queue, and what to do for them.
struct QueueDelivery: Sendable {
    var queue: QueueDefinition
    var recipients: [String]
    var clues = ThreadingClues(referencedMessageIDs: [], subjectTicketNumbers: [])
    var action = PlannedAction.ticket
    /// Attachments the queue's policy keeps.
    var keptAttachments: [ParsedAttachment] = []
    /// Why the others were ignored or stripped (noted on the ticket).
    var attachmentNotes: [String] = []
    /// How recipients the envelope alone did not route reached this queue (by a header, or as the triage
    /// queue), as activity kind and text: noted on the ticket.
    var routingNotes: [(kind: String, text: String)] = []
}

/// What a message that cannot be read looks like: decided on the raw bytes, before any parsing result.
enum UnreadableMessage {
    /// Why `raw` is not a readable message, or nil. Readable means: it starts with a header field
    /// (`name:` where the name is 1–76 printable ASCII characters other than `:`), so there is a header section
    /// at all. Anything else (an empty message, binary garbage, a body without headers) cannot be trusted to
    /// say who sent it or what it is about.
    static func reason(raw: UnsafeBufferPointer<UInt8>) -> String? {
        // Blank or space-only lines before the header section are skipped, as the parser skips them.
        var first = MessageParser.headerSectionStart(raw)
        if first == raw.count { return "the message is empty" }
        // An mbox `From ` separator line (pipe transports add one) precedes the header section.
        if raw[first...].starts(with: "From ".utf8), let newline = raw[first...].firstIndex(of: UInt8(ascii: "\n")) {
            first = newline + 1
            if first == raw.count { return "the message is empty" }
        }
        var index = first
        while index < raw.count, index - first <= 76 {
            let byte = raw[index]
            if byte == UInt8(ascii: ":") {
                return index == first ? "the first line has an empty header field name" : nil
            }
            guard byte > 32, byte < 127 else {
                return "no header section: the first line is not a header field"
            }
            index += 1
        }
        return "no header section: the first line is not a header field"
    }
}
