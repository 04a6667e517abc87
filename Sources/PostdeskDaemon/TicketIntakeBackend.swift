import Foundation
import Logging
import MessageSpool
import NIOPosix
import SMTPProtocol
import SMTPTransport
import TicketPipeline

/// Connects the SMTP/LMTP server to the ticket pipeline: recipients are checked against the queues at RCPT, and
/// each message is committed before its per-recipient replies are sent.
///
/// Messages are processed on `workers`, never on an event loop, and under the `supervisor`: a message an earlier
/// delivery crashed or hung in is quarantined at once instead of being processed again, and one that runs past
/// its deadline gets `451 4.3.0` from the supervisor, whatever its thread is doing.
struct TicketIntakeBackend: SMTPBackend {
    let intake: TicketIntake
    let router: QueueRouter
    let logger: Logger
    let supervisor: ProcessingSupervisor
    /// The threads that run the pipeline's synchronous part (parse, classify, plan).
    let workers: NIOThreadPool

    func validateRecipient(_ address: String, session: SMTPSessionInfo) -> SMTPReply? {
        guard router.queue(for: address) == nil else { return nil }
        return SMTPReply(
            code: 550, enhancedStatus: "5.1.1", "<\(address)>: Recipient address rejected: no queue receives it")
    }

    func deliver(_ delivery: SMTPDelivery, message raw: RawMessage) async -> [SMTPReply] {
        await withCheckedContinuation { continuation in
            deliver(delivery, message: raw) { continuation.resume(returning: $0) }
        }
    }

    func deliver(
        _ delivery: SMTPDelivery, message raw: RawMessage, completion: @escaping @Sendable ([SMTPReply]) -> Void
    ) {
        let started = ContinuousClock.now
        let message = InboundMessage(
            sender: delivery.sender, recipients: delivery.recipients, raw: raw,
            source: delivery.session.dialect == .lmtp ? .lmtp : .smtp, receivedAt: Date(),
            sessionID: delivery.session.sessionID)
        // The deadline runs from here, so a message waiting for a free worker is bounded too.
        let inFlight = supervisor.admit(
            sessionID: delivery.session.sessionID, raw: raw, recipientCount: delivery.recipients.count,
            completion: completion)
        workers.submit { [self] workerState in
            guard case .active = workerState else {
                let reply = SMTPReply(code: 421, enhancedStatus: "4.3.2", "Service shutting down, try again later")
                inFlight.reply(Array(repeating: reply, count: delivery.recipients.count))
                supervisor.finished(inFlight)
                return
            }
            // O(n) in the message's bytes, one SHA-256 pass: the key of the in-flight ledger.
            let key = raw.sha256
            if let suspect = supervisor.ledger?.takeSuspect(key) {
                holdPoison(
                    message, key: key, suspect: suspect, delivery: delivery, inFlight: inFlight, started: started)
                return
            }
            guard inFlight.attach(key: key) else {
                // Given up while it waited for a worker (deadline or shutdown): its client has its 4xx.
                supervisor.finished(inFlight)
                return
            }
            intake.process(message, progress: inFlight) { outcomes in
                // This runs on the store's writer, and the other callers of the batch wait for it: the reply goes
                // first, the log line after.
                let duration = ContinuousClock.now - started
                let sent = inFlight.reply(outcomes.map { Self.reply(for: $0, dialect: delivery.session.dialect) })
                supervisor.finished(inFlight)
                if sent { logTransaction(delivery, raw: raw, outcomes: outcomes, duration: duration) }
            }
        }
    }

    /// A message an earlier delivery did not finish: quarantined without running any stage.
    private func holdPoison(
        _ message: InboundMessage, key: String, suspect: InFlightLedger.Suspect, delivery: SMTPDelivery,
        inFlight: InFlightDelivery, started: ContinuousClock.Instant
    ) {
        logger.warning(
            "poison message: an earlier delivery stopped in a stage; holding it for review",
            metadata: [
                "session": "\(delivery.session.sessionID)", "message": "\(key)", "stage": "\(suspect.stage)",
                "cause": "\(suspect.cause.text)",
            ])
        intake.holdForReview(
            message, reason: .stalled(stage: suspect.stage.description, what: suspect.cause.text)
        ) { outcomes in
            inFlight.reply(outcomes.map { Self.reply(for: $0, dialect: delivery.session.dialect) })
            supervisor.finished(inFlight)
            logTransaction(delivery, raw: message.raw, outcomes: outcomes, duration: ContinuousClock.now - started)
        }
    }

    /// The reply for one recipient. LMTP (Postfix, our own MTA) hears what happened — ticket numbers, "already
    /// stored" — and logs it; an SMTP client may be anyone, so every success gets the same plain `250 Ok`, which
    /// tells a stranger neither ticket numbers nor whether a message was seen before.
    static func reply(for outcome: RecipientOutcome, dialect: SMTPDialect) -> SMTPReply {
        if dialect != .lmtp, outcome.isStored {
            return SMTPReply(code: 250, enhancedStatus: "2.0.0", "<\(outcome.recipient)> Ok")
        }
        switch outcome.result {
        case .created(let ticket):
            return SMTPReply(code: 250, enhancedStatus: "2.0.0", "<\(outcome.recipient)> Ok: ticket #\(ticket) created")
        case .appended(let ticket):
            return SMTPReply(
                code: 250, enhancedStatus: "2.0.0", "<\(outcome.recipient)> Ok: added to ticket #\(ticket)")
        case .duplicate(let ticket):
            return SMTPReply(
                code: 250, enhancedStatus: "2.0.0",
                "<\(outcome.recipient)> Ok: already stored in ticket #\(ticket), not stored again")
        case .noted(let ticket):
            return SMTPReply(
                code: 250, enhancedStatus: "2.0.0", "<\(outcome.recipient)> Ok: noted on ticket #\(ticket)")
        case .recorded(let disposition):
            // Own mail, loops, ignored or automated mail, bounces: on record, deliberately no ticket.
            return SMTPReply(
                code: 250, enhancedStatus: "2.0.0", "<\(outcome.recipient)> Ok: recorded (\(disposition.rawValue))")
        case .quarantined(let id):
            // It is safe with us: an operator replays it; a retry by the MTA would only fail the same way.
            return SMTPReply(
                code: 250, enhancedStatus: "2.0.0", "<\(outcome.recipient)> Ok: held for review (quarantine \(id))")
        case .unknownRecipient:
            return SMTPReply(
                code: 550, enhancedStatus: "5.1.1",
                "<\(outcome.recipient)>: Recipient address rejected: no queue receives it")
        case .temporaryFailure:
            // Our own fault: always a 4xx, so the MTA keeps the message and retries.
            return SMTPReply(
                code: 451, enhancedStatus: "4.3.0",
                "<\(outcome.recipient)> Temporary failure storing the message, try again later")
        }
    }

    /// One line per transaction: never bodies, never secrets. Built only when the level is enabled: at
    /// thousands of messages a second, formatting is a visible part of the cost.
    private func logTransaction(
        _ delivery: SMTPDelivery, raw: RawMessage, outcomes: [RecipientOutcome], duration: Duration
    ) {
        let failed = outcomes.contains {
            if case .temporaryFailure = $0.result { return true }
            return false
        }
        let level: Logger.Level = failed ? .warning : .info
        guard logger.logLevel <= level else { return }
        var line = "transaction session=\(delivery.session.sessionID)"
        if let queueID = raw.withUnsafeBytes({ Self.postfixQueueID(in: UnsafeRawBufferPointer($0)) }) {
            line += " queue_id=\(queueID)"
        }
        line += " from=<\(delivery.sender)> size=\(raw.count) ms=\(Self.milliseconds(duration))"
        for (index, outcome) in outcomes.enumerated() {
            line += index == 0 ? " rcpt=<" : ", <"
            line += outcome.recipient
            line += ">"
            if let queue = outcome.queue { line += " queue=\(queue)" }
            switch outcome.result {
            case .created(let ticket): line += " created #\(ticket)"
            case .appended(let ticket): line += " appended #\(ticket)"
            case .duplicate(let ticket): line += " duplicate #\(ticket)"
            case .noted(let ticket): line += " noted #\(ticket)"
            case .recorded(let disposition): line += " recorded \(disposition.rawValue)"
            case .quarantined(let id): line += " quarantined \(id)"
            case .unknownRecipient: line += " unknown recipient"
            case .temporaryFailure(let reason): line += " deferred (\(reason))"
            }
        }
        logger.log(level: level, "\(line)")
    }

    /// `12.34`, without Foundation's `String(format:)`.
    static func milliseconds(_ duration: Duration) -> String {
        let hundredths = duration.components.seconds * 100_000 + duration.components.attoseconds / 10_000_000_000_000
        let fraction = hundredths % 100
        return "\(hundredths / 100).\(fraction < 10 ? "0" : "")\(fraction)"
    }

    /// The Postfix queue id from the `Received: ... (Postfix) with ESMTP id XXXX` header Postfix's smtpd put on
    /// top, so an operator can match our log line with Postfix's. Only the header's first 2 KB are looked at.
    static func postfixQueueID(in bytes: UnsafeRawBufferPointer) -> String? {
        let head = UnsafeRawBufferPointer(rebasing: bytes.prefix(2048))
        let header = UnsafeRawBufferPointer(
            rebasing: head.prefix(firstOffset(of: "\r\n\r\n", in: head) ?? head.count))
        guard let postfix = firstOffset(of: "(Postfix) with ", in: header) else { return nil }
        let afterPostfix = UnsafeRawBufferPointer(rebasing: header.dropFirst(postfix))
        guard let id = firstOffset(of: " id ", in: afterPostfix) else { return nil }
        let queueID = afterPostfix.dropFirst(id + 4).prefix { byte in
            (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
                || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
                || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
        }
        return queueID.isEmpty ? nil : String(decoding: queueID, as: UTF8.self)
    }

    static func postfixQueueID(in data: [UInt8]) -> String? {
        data.withUnsafeBytes { postfixQueueID(in: $0) }
    }

    /// A `memchr` + `memcmp` search: Foundation's generic `firstRange(of:)` showed as 5% of the daemon's CPU in a
    /// profile of this one call.
    private static func firstOffset(of needle: StaticString, in haystack: UnsafeRawBufferPointer) -> Int? {
        let count = needle.utf8CodeUnitCount
        guard let base = haystack.baseAddress, haystack.count >= count else { return nil }
        let first = Int32(needle.utf8Start.pointee)
        var offset = 0
        while offset + count <= haystack.count {
            guard let hit = memchr(base + offset, first, haystack.count - offset - count + 1) else { return nil }
            let position = base.distance(to: UnsafeRawPointer(hit))
            if memcmp(base + position, needle.utf8Start, count) == 0 { return position }
            offset = position + 1
        }
        return nil
    }
}

extension RecipientOutcome {
    /// The message is safe with us (a ticket, a record, or quarantine): the reply is 250.
    fileprivate var isStored: Bool {
        switch result {
        case .created, .appended, .duplicate, .noted, .recorded, .quarantined: true
        case .unknownRecipient, .temporaryFailure: false
        }
    }
}
