import Foundation
import MessageSpool
import Synchronization
import TicketPipeline

/// One message between its source handing it over and its outcomes: the stage it is in, its processing
/// deadline, and the source's completion, which runs exactly once: with the pipeline's outcomes, or with
/// `.abandoned` when the deadline passes or the daemon shuts down first, whichever comes first.
final class InFlightDelivery: StageProgress {
    private struct State {
        var stage = PipelineStage.received
        var slot: Int?
        var key: String?
        /// Why the message was given up; the pipeline's next stage throws, so nothing of it is stored.
        var abandonment: String?
        var replied = false
        /// Once its deadline passed while the pipeline still ran: it counts as stuck until the pipeline returns.
        var stuck = false
        var finished = false
    }

    let id: UInt64
    let sessionID: String
    let raw: RawMessage
    let recipients: [String]
    let started: ContinuousClock.Instant
    let deadline: ContinuousClock.Instant
    private let ledger: InFlightLedger?
    private let completion: @Sendable ([RecipientOutcome]) -> Void
    private let state = Mutex(State())

    init(
        id: UInt64, sessionID: String, raw: RawMessage, recipients: [String], deadline: Duration,
        ledger: InFlightLedger?, completion: @escaping @Sendable ([RecipientOutcome]) -> Void
    ) {
        self.id = id
        self.sessionID = sessionID
        self.raw = raw
        self.recipients = recipients
        self.started = .now
        self.deadline = started + deadline
        self.ledger = ledger
        self.completion = completion
    }

    var stage: PipelineStage { state.withLock { $0.stage } }
    var key: String? { state.withLock { $0.key } }
    var isStuck: Bool { state.withLock { $0.stuck && !$0.finished } }

    /// Records the message in the ledger under `key` (the SHA-256 of its bytes). False when it was already
    /// given up: then it must not be processed at all.
    func attach(key: String) -> Bool {
        let slot = ledger?.begin(key)
        let attached = state.withLock { state -> Bool in
            guard state.abandonment == nil else { return false }
            state.slot = slot
            state.key = key
            return true
        }
        if !attached, let slot { ledger?.finish(slot: slot) }
        return attached
    }

    func enter(_ stage: PipelineStage) throws(ProcessingAbandoned) {
        let slot = try state.withLock { state throws(ProcessingAbandoned) -> Int? in
            if let reason = state.abandonment { throw ProcessingAbandoned(stage: stage, reason: reason) }
            state.stage = stage
            return state.slot
        }
        if let slot { ledger?.record(stage, slot: slot) }
    }

    /// Hands `outcomes` to the source unless it already has its answer; true if these were handed over.
    @discardableResult
    func reply(_ outcomes: [RecipientOutcome]) -> Bool {
        let first = state.withLock { state -> Bool in
            guard !state.replied else { return false }
            state.replied = true
            return true
        }
        if first { completion(outcomes) }
        return first
    }

    /// The pipeline returned (whatever its outcome): the ledger entry is cleared unless the message was declared
    /// poison meanwhile. True if it had been counted as stuck.
    @discardableResult
    func finish() -> Bool {
        let (slot, wasStuck) = state.withLock { state -> (Int?, Bool) in
            state.finished = true
            defer { state.slot = nil }
            // A poison entry stays in the ledger: it is what quarantines the next delivery.
            return (state.stuck ? nil : state.slot, state.stuck)
        }
        if let slot { ledger?.finish(slot: slot) }
        return wasStuck
    }

    /// Gives the message up: the source gets `.abandoned(why)` for every recipient now (if it has no answer yet),
    /// the pipeline stops at its next stage. With `poison`, the ledger marks it so that its next delivery is
    /// quarantined, naming its stage. Returns the stage it was in, or nil if the pipeline had already returned.
    func abandon(
        reason: String, why: RecipientOutcome.Abandonment, poison: InFlightLedger.Cause?
    ) -> PipelineStage? {
        let outcome = state.withLock { state -> (stage: PipelineStage, slot: Int?, key: String?)? in
            // Already answered (by the pipeline, or given up as poison before): nothing to give up, and a poison
            // entry must stay in the ledger.
            guard !state.finished, !state.stuck, !state.replied else { return nil }
            state.abandonment = reason
            if poison != nil { state.stuck = true }
            let slot = state.slot
            if poison == nil { state.slot = nil }
            return (state.stage, slot, state.key)
        }
        reply(recipients.map { RecipientOutcome(recipient: $0, queue: nil, result: .abandoned(why)) })
        guard let outcome else { return nil }
        if let slot = outcome.slot {
            if let poison, let key = outcome.key {
                ledger?.markPoison(slot: slot, key: key, stage: outcome.stage, cause: poison)
            } else {
                ledger?.finish(slot: slot)
            }
        }
        return outcome.stage
    }
}
