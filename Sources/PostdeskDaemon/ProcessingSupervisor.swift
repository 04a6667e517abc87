import Foundation
import Logging
import MessageSpool
import Synchronization
import TicketPipeline

/// Keeps every message's processing bounded in time, on a thread of its own that no message can hold: when a
/// message's deadline passes, its source gets `.abandoned` at once (`451 4.3.0` on LMTP/SMTP), whatever the thread processing it is doing, a
/// `critical` line names the message and its stage, the message is marked poison in the `InFlightLedger` (its
/// next delivery is quarantined), and while its stage has not returned the daemon counts as unhealthy (the
/// watchdog stops being fed, so systemd restarts it). Each wake-up also runs the `HealthWatchdog`.
final class ProcessingSupervisor: Sendable {
    private struct State {
        var inFlight: [UInt64: InFlightDelivery] = [:]
        var nextID: UInt64 = 0
        /// Given up at their deadline, pipeline not yet returned.
        var stuck: [UInt64: InFlightDelivery] = [:]
        var stopped = false
        /// When the last message was handed over.
        var lastAdmission: ContinuousClock.Instant?
    }

    let ledger: InFlightLedger?
    let deadline: Duration
    private let logger: Logger
    private let state = Mutex(State())
    private let watchdog: HealthWatchdog?
    /// How often the thread wakes without a deadline due: the watchdog's tick.
    private let tick: Duration

    init(ledger: InFlightLedger?, deadline: Duration, watchdog: HealthWatchdog?, logger: Logger) {
        self.ledger = ledger
        self.deadline = deadline
        self.watchdog = watchdog
        self.tick = watchdog?.tick ?? .seconds(1)
        self.logger = logger
    }

    /// Starts the supervising thread.
    func start() {
        let thread = Thread { [self] in run() }
        thread.name = "postdesk-supervisor"
        thread.start()
    }

    /// Stops the thread at its next wake-up (within `resolution`).
    func stop() {
        state.withLock { $0.stopped = true }
    }

    /// The thread's sleep between two looks. A deadline is acted on up to this much early, so the 4xx leaves
    /// before the deadline, never after it.
    static let resolution = Duration.milliseconds(20)

    /// Registers a message handed over by its source; its deadline starts now.
    func admit(
        sessionID: String, raw: RawMessage, recipients: [String],
        completion: @escaping @Sendable ([RecipientOutcome]) -> Void
    ) -> InFlightDelivery {
        state.withLock { state in
            state.nextID += 1
            let delivery = InFlightDelivery(
                id: state.nextID, sessionID: sessionID, raw: raw, recipients: recipients,
                deadline: deadline, ledger: ledger, completion: completion)
            state.inFlight[delivery.id] = delivery
            state.lastAdmission = ContinuousClock.now
            return delivery
        }
    }

    /// The pipeline returned for `delivery` (or it was never run).
    func finished(_ delivery: InFlightDelivery) {
        let wasStuck = delivery.finish()
        state.withLock { state in
            state.inFlight.removeValue(forKey: delivery.id)
            state.stuck.removeValue(forKey: delivery.id)
        }
        if wasStuck {
            logger.warning(
                "a stuck stage returned after the deadline",
                metadata: ["session": "\(delivery.sessionID)", "stage": "\(delivery.stage)"])
        }
    }

    /// Messages whose deadline passed and whose stage has not returned.
    var stuckCount: Int { state.withLock { $0.stuck.count } }
    /// Messages between hand-over and the pipeline's return.
    var inFlightCount: Int { state.withLock { $0.inFlight.count } }
    /// Whether intake is busy: a message in the pipeline, or one handed over within the last second (the gap
    /// between two messages of a stream). What the HTTP API yields to (`IntakePriority`).
    var isBusy: Bool {
        state.withLock { state in
            !state.inFlight.isEmpty || state.lastAdmission.map { ContinuousClock.now - $0 < .seconds(1) } ?? false
        }
    }

    /// At shutdown, after the grace period: every message still in the pipeline is given up (`.shuttingDown`;
    /// an SMTP client then gets 421); those past their deadline stay poison, the others are forgotten (the MTA
    /// retries them as usual, a mailbox still holds them). Returns how many were given up.
    func abandonAll(reason: String) -> Int {
        let deliveries = state.withLock { Array($0.inFlight.values) }
        var count = 0
        for delivery in deliveries {
            if let stage = delivery.abandon(reason: reason, why: .shuttingDown, poison: nil) {
                count += 1
                logger.error(
                    "delivery abandoned at shutdown",
                    metadata: ["session": "\(delivery.sessionID)", "stage": "\(stage)", "reason": "\(reason)"])
            }
        }
        return count
    }

    private func run() {
        var nextTick = ContinuousClock.now
        while !state.withLock({ $0.stopped }) {
            let now = ContinuousClock.now
            expireOverdue(now: now)
            if now >= nextTick {
                watchdog?.check(now: now, stuckMessages: stuckCount)
                nextTick = now + tick
            }
            Thread.sleep(forTimeInterval: Double(Self.resolution.components.attoseconds) / 1e18)
        }
    }

    /// O(messages in flight): at most the connection limit.
    private func expireOverdue(now: ContinuousClock.Instant) {
        let horizon = now + Self.resolution
        let overdue = state.withLock { state in
            state.inFlight.values.filter { $0.deadline <= horizon && state.stuck[$0.id] == nil }
        }
        for delivery in overdue {
            let seconds = deadline.components.seconds
            guard
                let stage = delivery.abandon(
                    reason: "the processing deadline of \(seconds) s passed",
                    why: .processingDeadline(seconds: seconds), poison: .deadline)
            else { continue }
            state.withLock { $0.stuck[delivery.id] = delivery }
            var metadata: Logger.Metadata = [
                "session": "\(delivery.sessionID)", "stage": "\(stage)", "deadline_s": "\(seconds)",
                "size": "\(delivery.raw.count)",
            ]
            // The message is named by the hash the ledger keys it by, and by Postfix's queue id. Its Message-ID
            // would need the header parsed, on this thread, while the parser may be the very stage that hangs.
            metadata["message"] = "\(delivery.key ?? "(not yet hashed: waiting for an intake thread)")"
            if let queueID = delivery.raw.withUnsafeBytes({
                SupervisedIntake.postfixQueueID(in: UnsafeRawBufferPointer($0))
            }) {
                metadata["queue_id"] = "\(queueID)"
            }
            logger.critical("stage stuck past the processing deadline: message given up, 451 sent", metadata: metadata)
        }
    }
}
