import Foundation
import Logging
import MessageSpool
import NIOPosix
import TicketPipeline

/// The one way into the pipeline for every source the daemon runs (LMTP, SMTP, the mailbox poller): a source
/// hands over one `InboundMessage` (the envelope, each recipient's resolved queue or "route from the headers",
/// and the raw bytes once) and gets one outcome per recipient, exactly once, through `completion`.
///
/// Messages are processed on `workers`, never on an event loop, and under the `supervisor`: a message an earlier
/// delivery crashed or hung in is quarantined at once instead of being processed again, and one that runs past
/// its deadline is answered `.abandoned(.processingDeadline)` by the supervisor, whatever its thread is doing.
/// `postdesk deliver` and `quarantine replay` run in their own process and call `TicketIntake` directly.
struct SupervisedIntake: Sendable {
    let intake: TicketIntake
    let supervisor: ProcessingSupervisor
    /// The threads that run the pipeline's synchronous part (parse, classify, plan).
    let workers: NIOThreadPool
    let logger: Logger

    /// Processes `message`; `completion` runs once, from any thread, with one outcome per recipient in order.
    func submit(_ message: InboundMessage, completion: @escaping @Sendable ([RecipientOutcome]) -> Void) {
        let started = ContinuousClock.now
        // The deadline runs from here, so a message waiting for a free worker is bounded too.
        let inFlight = supervisor.admit(
            sessionID: message.sessionID ?? "-", raw: message.raw, recipients: message.recipients,
            completion: completion)
        workers.submit { [self] workerState in
            guard case .active = workerState else {
                inFlight.reply(
                    message.recipients.map {
                        RecipientOutcome(recipient: $0, queue: nil, result: .abandoned(.shuttingDown))
                    })
                supervisor.finished(inFlight)
                return
            }
            // A stack overflow in a stage must still be blamed on its message (see `FatalSignalAttribution`).
            FatalSignalAttribution.prepareCurrentThread()
            // The in-flight ledger's key: O(1), at most 16 KiB of the message hashed.
            let key = InFlightLedger.key(for: message.raw)
            if let suspect = supervisor.ledger?.takeSuspect(key) {
                holdPoison(message, key: key, suspect: suspect, inFlight: inFlight, started: started)
                return
            }
            guard inFlight.attach(key: key) else {
                // Given up while it waited for a worker (deadline or shutdown): its source has its answer.
                supervisor.finished(inFlight)
                return
            }
            intake.process(message, progress: inFlight) { outcomes in
                // This runs on the store's writer, and the other callers of the batch wait for it: the answer goes
                // first, the log line after.
                let duration = ContinuousClock.now - started
                let sent = inFlight.reply(outcomes)
                supervisor.finished(inFlight)
                if sent { logTransaction(message, outcomes: outcomes, duration: duration) }
            }
        }
    }

    /// `submit` for a source that runs in a task (the mailbox poller).
    func submit(_ message: InboundMessage) async -> [RecipientOutcome] {
        await withCheckedContinuation { continuation in
            submit(message) { continuation.resume(returning: $0) }
        }
    }

    /// A message an earlier delivery did not finish: quarantined without running any stage.
    private func holdPoison(
        _ message: InboundMessage, key: String, suspect: InFlightLedger.Suspect, inFlight: InFlightDelivery,
        started: ContinuousClock.Instant
    ) {
        logger.warning(
            "poison message: an earlier delivery stopped in a stage; holding it for review",
            metadata: [
                "session": "\(message.sessionID ?? "-")", "message": "\(key)", "stage": "\(suspect.stage)",
                "cause": "\(suspect.text)",
            ])
        intake.holdForReview(
            message, reason: .stalled(stage: suspect.stage.description, what: suspect.text)
        ) { outcomes in
            inFlight.reply(outcomes)
            supervisor.finished(inFlight)
            logTransaction(message, outcomes: outcomes, duration: ContinuousClock.now - started)
        }
    }

    /// One line per transaction: never bodies, never secrets. Built only when the level is enabled: at
    /// thousands of messages a second, formatting is a visible part of the cost.
    private func logTransaction(_ message: InboundMessage, outcomes: [RecipientOutcome], duration: Duration) {
        let failed = outcomes.contains {
            switch $0.result {
            case .temporaryFailure, .abandoned: return true
            default: return false
            }
        }
        let level: Logger.Level = failed ? .warning : .info
        guard logger.logLevel <= level else { return }
        var line = "transaction session=\(message.sessionID ?? "-")"
        switch message.source {
        case .lmtp, .smtp: break
        default: line += " source=\(message.source.rawValue)"
        }
        if let queueID = message.raw.withUnsafeBytes({ Self.postfixQueueID(in: UnsafeRawBufferPointer($0)) }) {
            line += " queue_id=\(queueID)"
        }
        line += " from=<\(message.sender)> size=\(message.raw.count) ms=\(Self.milliseconds(duration))"
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
            case .abandoned(let why): line += " deferred (\(why))"
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
