import Foundation
import Logging
import MailParser
import TicketPipeline

/// Sends the mail queued in the store, one at a time, in its own task (never on an event loop): composes it,
/// submits it, and records the outcome. A 4xx (or a relay that cannot be reached) is retried with exponential
/// backoff; a 5xx marks the mail failed and adds an activity to its ticket. The queue is in the store, so mail
/// committed before a crash is sent after the restart (at least once: a crash between the relay's 250 and the
/// store's update sends it again, with the same Message-ID).
public final class OutboundMailWorker: Sendable {
    /// The worker's fixed options.
    public struct Options: Sendable {
        /// `X-Postdesk-Loop`'s value: our pipeline's instance name.
        public var instanceName: String
        /// How often the queue is looked at when idle.
        public var pollInterval: Duration
        /// The first retry's delay; each later one doubles, up to `maximumRetryDelay`.
        public var initialRetryDelay: Duration
        public var maximumRetryDelay: Duration
        /// After this long since it was queued, a temporary failure becomes permanent.
        public var giveUpAfter: Duration
        /// Mails sent per look at the queue (bounded work per round).
        public var batchSize: Int

        public init(
            instanceName: String, pollInterval: Duration = .seconds(1), initialRetryDelay: Duration = .seconds(60),
            maximumRetryDelay: Duration = .seconds(3600), giveUpAfter: Duration = .seconds(5 * 86_400),
            batchSize: Int = 20
        ) {
            self.instanceName = instanceName
            self.pollInterval = pollInterval
            self.initialRetryDelay = initialRetryDelay
            self.maximumRetryDelay = maximumRetryDelay
            self.giveUpAfter = giveUpAfter
            self.batchSize = batchSize
        }
    }

    let store: any TicketStore
    let transport: any MailTransport
    let signer: MessageIDSigner
    let queues: [String: OutboundQueueSettings]
    let options: Options
    let logger: Logger

    public init(
        store: any TicketStore, transport: any MailTransport, signer: MessageIDSigner,
        queues: [String: OutboundQueueSettings], options: Options, logger: Logger
    ) {
        self.store = store
        self.transport = transport
        self.signer = signer
        self.queues = queues
        self.options = options
        self.logger = logger
    }

    /// Sends due mail until the task is cancelled.
    public func run() async {
        while !Task.isCancelled {
            let sent = await sendDue()
            if sent == 0 { try? await Task.sleep(for: options.pollInterval) }
        }
    }

    /// One round: the due mails (at most `batchSize`), each attempted once. Returns how many were attempted. An
    /// idle queue costs one read; the writer is asked only when a mail is due.
    @discardableResult
    public func sendDue(now: Date = Date()) async -> Int {
        let batch = options.batchSize
        let due: [(item: OutboundMailItem, bouncing: BouncingAddress?)]
        do {
            guard let next = try await store.nextOutboundMailDue(), next <= now else { return 0 }
            due = try await store.write { transaction in
                try transaction.dueOutboundMail(at: now, limit: batch).map { item in
                    (item, try transaction.bouncing(address: MailAddressForm.normalized(item.mail.recipient.address)))
                }
            }
        } catch {
            logger.error("outbound mail: cannot read the queue: \(error)")
            return 0
        }
        for (item, bouncing) in due {
            if Task.isCancelled { break }
            if let bouncing {
                await suppress(item, bouncing: bouncing, now: now)
            } else {
                await attempt(item, now: now)
            }
        }
        return due.count
    }

    /// The mail `item` becomes: what the worker sends (exposed for `postdesk` and tests). A copy of a mail to
    /// several people shows them all and carries the first copy's Message-ID; the envelope names `item`'s
    /// recipient alone.
    public func compose(_ item: OutboundMailItem, date: Date = Date()) throws(OutboundTemplateError) -> OutgoingMail {
        guard let queue = queues[item.mail.queue] else {
            throw OutboundTemplateError(template: item.mail.queue, reason: "the queue has no outbound settings")
        }
        let mail = item.mail
        let tag = mail.ticketNumber.map { "[\(queue.tag) #\($0)]" }
        let subject = tag.map { mail.subject.contains($0) ? mail.subject : $0 + " " + mail.subject } ?? mail.subject
        var values: [String: String] = [
            "subject": mail.subject, "ticket_number": mail.ticketNumber.map { String($0) } ?? "", "tag": queue.tag,
            "queue": mail.queue, "requester_address": mail.recipient.address,
        ]
        if let name = mail.recipient.name, !name.isEmpty { values["requester_name"] = name }
        let rendered = mail.text.map { (text: $0, html: mail.html) } ?? queue.acknowledgement.render(values)
        let shared = mail.sharedAddressing
        return OutgoingMail(
            from: queue.from, to: shared?.to ?? [mail.recipient], cc: shared?.cc ?? [], subject: subject,
            text: rendered.text, html: rendered.html,
            messageID: signer.messageID(ticket: mail.ticketNumber ?? 0, article: shared?.messageIDOf ?? item.id),
            inReplyTo: mail.inReplyTo,
            references: mail.references, date: date, autoSubmitted: mail.kind != .reply,
            loopInstance: options.instanceName)
    }

    /// Composes, submits and records one mail (internal: a test sends one whose address got flagged meanwhile).
    func attempt(_ item: OutboundMailItem, now: Date) async {
        let mail = item.mail
        let what = "\(mail.kind.rawValue) to \(mail.recipient.address)"
        let outcome: OutboundMailOutcome
        // The relay refusing the recipient's mailbox for good (5.1.x, 5.2.1 to RCPT) is a bounce given at once.
        var refusal: SMTPReply?
        do {
            let outgoing = try compose(item, date: now)
            // The envelope names this copy's recipient only: the others named in To and Cc get copies of their own.
            let result = try await transport.submit(
                MIMEComposer.compose(outgoing), from: outgoing.from.address, to: [mail.recipient.address])
            outcome = decide(result, item: item, now: now)
            refusal = result.recipients.first { Self.refusesTheMailbox($0.reply) }?.reply
        } catch let error as SubmissionError {
            outcome =
                error.isPermanent
                ? .failed(at: now, reason: error.description) : retry(item, reason: error.description, now: now)
        } catch {
            outcome = .failed(at: now, reason: "\(error)")
        }
        let activity: NewActivity?
        switch outcome {
        case .sent(_, let response):
            logger.info("outbound mail #\(item.id): \(what) sent (\(response))")
            activity = mail.ticketNumber.map {
                NewActivity(ticketNumber: $0, kind: "outbound-sent", text: "\(what) sent: \(response)", createdAt: now)
            }
        case .deferred(let retryAt, let reason):
            logger.warning("outbound mail #\(item.id): \(what) deferred until \(retryAt): \(reason)")
            activity = nil
        case .failed(_, let reason):
            logger.error("outbound mail #\(item.id): \(what) failed: \(reason)")
            activity = mail.ticketNumber.map {
                NewActivity(
                    ticketNumber: $0, kind: "outbound-failed", text: "\(what) refused: \(reason)", createdAt: now)
            }
        case .suppressed:
            activity = nil
        }
        await record(item, outcome: outcome, activity: activity, refusal: refusal.map { "\($0)" }, now: now)
    }

    /// A permanent reply whose enhanced status (RFC 3463) says the address or mailbox is bad (5.1.x) or disabled
    /// (5.2.1). Other refusals (relaying denied 5.7.1, a policy, a relay without enhanced codes) say nothing about
    /// the recipient, and a misconfigured relay must not flag every customer.
    static func refusesTheMailbox(_ reply: SMTPReply) -> Bool {
        guard reply.isPermanent, let text = reply.lines.first else { return false }
        return text.hasPrefix("5.1.") || text.hasPrefix("5.2.1 ")
    }

    /// Records `outcome` (and `activity`); a recipient the relay refused for good (`refusal`) is flagged as
    /// bouncing, as a DSN would flag it; a successful delivery clears the recipient's flag: the address works.
    private func record(
        _ item: OutboundMailItem, outcome: OutboundMailOutcome, activity: NewActivity?, refusal: String? = nil,
        now: Date
    ) async {
        let recipient = MailAddressForm.normalized(item.mail.recipient.address)
        do {
            let cleared = try await store.write { transaction in
                try transaction.recordOutboundAttempt(id: item.id, outcome: outcome)
                if let activity { try transaction.addActivity(activity) }
                if let refusal { try transaction.markBouncing(address: recipient, reason: refusal, at: now) }
                guard case .sent = outcome else { return false }
                return try transaction.clearBouncing(address: recipient)
            }
            if cleared { logger.notice("outbound mail #\(item.id): \(recipient) no longer bouncing: delivered") }
        } catch {
            logger.error("outbound mail #\(item.id): cannot record the outcome (\(outcome)): \(error)")
        }
    }

    /// A mail to an address our mail bounced from: not sent, recorded as suppressed with the bounce's reason, and
    /// noted on its ticket.
    private func suppress(_ item: OutboundMailItem, bouncing: BouncingAddress, now: Date) async {
        let what = "\(item.mail.kind.rawValue) to \(item.mail.recipient.address)"
        let reason =
            "suppressed: \(bouncing.address) is bouncing since "
            + "\(bouncing.since.formatted(.iso8601)): \(bouncing.reason)"
        logger.warning("outbound mail #\(item.id): \(what) not sent: \(reason)")
        await record(
            item, outcome: .suppressed(at: now, reason: reason),
            activity: item.mail.ticketNumber.map {
                NewActivity(
                    ticketNumber: $0, kind: "outbound-suppressed", text: "\(what) not sent: \(reason)", createdAt: now)
            }, now: now)
    }

    private func decide(_ result: SubmissionResult, item: OutboundMailItem, now: Date) -> OutboundMailOutcome {
        if let refused = result.recipients.first(where: { $0.reply.isPermanent }) {
            return .failed(at: now, reason: "\(refused.reply)")
        }
        if let deferred = result.recipients.first(where: { $0.reply.isTransient }) {
            return retry(item, reason: "\(deferred.reply)", now: now)
        }
        guard let data = result.data else { return retry(item, reason: "no recipient accepted", now: now) }
        if data.isPermanent { return .failed(at: now, reason: "\(data)") }
        if data.isTransient { return retry(item, reason: "\(data)", now: now) }
        return .sent(at: now, response: "\(data)")
    }

    private func retry(_ item: OutboundMailItem, reason: String, now: Date) -> OutboundMailOutcome {
        let age = now.timeIntervalSince(item.mail.createdAt)
        if age >= Self.seconds(options.giveUpAfter) {
            return .failed(at: now, reason: "gave up after \(item.attempts + 1) attempts: \(reason)")
        }
        let delay = min(
            Self.seconds(options.initialRetryDelay) * pow(2, Double(min(item.attempts, 30))),
            Self.seconds(options.maximumRetryDelay))
        return .deferred(retryAt: now.addingTimeInterval(delay), reason: reason)
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}
