import Foundation
import TicketPipeline
import TicketStoreSQLite

/// What `/readyz` checks, cheaply enough to be polled every few seconds by a load balancer:
/// - the store is writable: no latched write failure, and its single writer answers a no-op (nothing written)
///   within `writerBound`;
/// - the daemon's own checks (`daemonProblems`): listeners up, no stage stuck past its deadline, event loops
///   answering (the daemon passes its watchdog's verdict);
/// - every polled mailbox: one in state `needs-attention` (credentials refused, consent revoked) makes the
///   daemon unready, with the reason.
public struct HTTPReadiness: Sendable {
    /// Problems the daemon knows of; empty when well.
    public var daemonProblems: @Sendable () async -> [String]
    public var writerBound: Duration

    public init(
        writerBound: Duration = .seconds(2), daemonProblems: @escaping @Sendable () async -> [String] = { [] }
    ) {
        self.writerBound = writerBound
        self.daemonProblems = daemonProblems
    }

    /// Every problem found, in a stable order; empty when ready.
    func problems(store: SQLiteTicketStore, reader: any TicketDatabaseReading) async -> [String] {
        var problems: [String] = []
        if let failure = store.writeFailure {
            problems.append("the store refuses writes until restart: \(failure)")
        } else if !(await writerAnswers(store)) {
            problems.append("the store's writer has not answered for \(writerBound)")
        }
        problems += await daemonProblems()
        do {
            for status in try await reader.mailboxStatuses() where status.state == .needsAttention {
                problems.append(
                    "mailbox \(status.mailbox) needs attention: \(status.lastError ?? "no error recorded")")
            }
        } catch {
            problems.append("cannot read the mailboxes' health: \(error)")
        }
        return problems
    }

    /// Whether the writer answers a probe within `writerBound`; a late answer is dropped.
    private func writerAnswers(_ store: SQLiteTicketStore) async -> Bool {
        let (answers, continuation) = AsyncStream.makeStream(of: Bool.self, bufferingPolicy: .bufferingOldest(1))
        store.probeWriter { continuation.yield(true) }
        let bound = writerBound
        let timer = Task {
            try? await Task.sleep(for: bound)
            continuation.yield(false)
        }
        defer {
            timer.cancel()
            continuation.finish()
        }
        for await answered in answers { return answered }
        return false
    }
}
