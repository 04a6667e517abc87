import Foundation

/// What `TicketIntake.replay` did with a quarantined message.
public enum ReplayOutcome: Sendable, Hashable {
    /// The message went through the pipeline; one outcome per original recipient.
    case replayed([RecipientOutcome])
    /// It had been replayed before (`result` says what that did); nothing was done again.
    case alreadyReplayed(result: String)
    /// The pipeline failed on it again; it stays in quarantine.
    case failed(reason: String)
    /// No quarantine entry has this id.
    case notFound
}

extension TicketIntake {
    /// Runs a quarantined message through the pipeline again (source `replay`) and marks it replayed in the
    /// same transaction, so it is stored once however often or concurrently it is replayed.
    ///
    /// - Throws: `TicketStoreError` when the store cannot be read or written.
    public func replay(quarantineID: Int64) async throws -> ReplayOutcome {
        guard let entry = try await store.quarantinedMessage(id: quarantineID) else { return .notFound }
        if entry.replayedAt != nil { return .alreadyReplayed(result: entry.replayResult ?? "") }
        let message = InboundMessage(
            sender: entry.envelopeSender, recipients: entry.envelopeRecipients, raw: entry.raw, source: .replay,
            receivedAt: Date(), sessionID: "replay-\(quarantineID)")
        let (deliveries, routes) = route(message)
        guard !deliveries.isEmpty else {
            return .failed(reason: "no recipient of the message is received by a configured queue any more")
        }
        switch await run(message, deliveries: deliveries, replayOf: quarantineID) {
        case .success(let results):
            return .replayed(
                zip(message.recipients, routes).map { recipient, queue in
                    RecipientOutcome(
                        recipient: recipient, queue: queue,
                        result: queue.flatMap { results[$0] } ?? .unknownRecipient)
                })
        case .failure(.store(let error)):
            throw error
        case .failure(.pipeline(let error)):
            if error is ReplayConflict {
                let again = try await store.quarantinedMessage(id: quarantineID)
                return .alreadyReplayed(result: again?.replayResult ?? "")
            }
            return .failed(reason: "\(error)")
        case .failure(.abandoned(let error)):
            return .failed(reason: "\(error)")
        }
    }
}
