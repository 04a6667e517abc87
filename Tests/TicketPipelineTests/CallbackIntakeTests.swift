import Dispatch
import Foundation
import Logging
import MessageSpool
import Synchronization
import Testing
import TicketPipeline
import TicketStoreSQLite

/// The callback forms of `TicketStore.write` and `TicketIntake.process`, which the SMTP/LMTP server uses from its
/// event loops: each completion comes exactly once, after the commit is durable, and gives what the `async` form
/// gives.
@Suite("Callback writes and intake, without a task")
struct CallbackIntakeTests {
    private func newTicket(_ subject: String) -> NewTicket {
        NewTicket(queue: "support", subject: subject, requesterID: nil, source: .smtp, createdAt: Date())
    }

    /// Calls `start` for each index from plain threads and waits until every completion came.
    private func fromThreads<T: Sendable>(
        _ count: Int, _ start: @escaping @Sendable (Int, @escaping @Sendable (T) -> Void) -> Void
    ) async -> [Int: [T]] {
        let results = Mutex([Int: [T]]())
        let group = DispatchGroup()
        for index in 0..<count {
            group.enter()
            DispatchQueue.global().async {
                start(index) { value in
                    results.withLock { $0[index, default: []].append(value) }
                    group.leave()
                }
            }
        }
        await withCheckedContinuation { continuation in
            group.notify(queue: .global()) { continuation.resume() }
        }
        // A second completion for the same write would show up here.
        try? await Task.sleep(for: .milliseconds(50))
        return results.withLock { $0 }
    }

    @Test func eachWriteCompletesOnceAfterItsCommitWasSynced() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let store = try SQLiteTicketStore(path: directory.databasePath, logger: Logger(label: "test"))
        defer { try? store.close() }
        let failing = 13
        let results: [Int: [(Result<Int, any Error>, syncs: Int)]] = await fromThreads(60) { index, done in
            store.write(
                { transaction in
                    let number = try transaction.createTicket(self.newTicket("callback \(index)"))
                    if index == failing { throw DeliberateFailure() }
                    return number
                },
                completion: { result in done((result, store.commitStatistics.syncs)) })
        }
        #expect(results.count == 60)
        #expect(results.values.allSatisfy { $0.count == 1 })
        var numbers: Set<Int> = []
        for (index, completions) in results {
            let (result, syncs) = completions[0]
            switch result {
            case .success(let number):
                #expect(index != failing)
                numbers.insert(number)
                // Completed only once its batch's fsync was done.
                #expect(syncs >= 1)
            case .failure(let error):
                #expect(index == failing)
                #expect(error is DeliberateFailure)
            }
        }
        #expect(numbers.count == 59)
        #expect(try await store.listTickets(limit: 100, offset: 0).count == 59)
        let statistics = store.commitStatistics
        #expect(statistics.writes == 60)
        #expect(statistics.syncs == statistics.commits)
    }

    @Test func aClosedStoreCompletesAtOnceWithATypedError() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let store = try SQLiteTicketStore(path: directory.databasePath, logger: Logger(label: "test"))
        try store.close()
        let outcome = Mutex<(any Error)?>(nil)
        // Synchronously: the store knows at once that it cannot write.
        store.write(
            { try $0.createTicket(self.newTicket("late")) },
            completion: { result in
                if case .failure(let error) = result { outcome.withLock { $0 = error } }
            })
        #expect((outcome.withLock { $0 } as? TicketStoreError)?.kind == .closed)
    }

    @Test func processWithACompletionGivesTheOutcomesOfTheAsyncForm() async throws {
        let fixture = try PipelineFixture()
        defer { fixture.tearDown() }
        let intake = fixture.intake
        let results: [Int: [[RecipientOutcome]]] = await fromThreads(20) { index, done in
            let raw = Array(
                """
                From: Customer \(index) <c\(index)@example.com>\r
                To: support@localhost\r
                Subject: printer \(index)\r
                Message-ID: <callback-\(index)@example.com>\r
                \r
                It does not print.\r

                """.utf8)
            intake.process(
                InboundMessage(
                    sender: "c\(index)@example.com", recipients: ["support@localhost", "nobody@localhost"],
                    raw: RawMessage(raw), source: .lmtp),
                completion: done)
        }
        #expect(results.count == 20)
        #expect(results.values.allSatisfy { $0.count == 1 })
        var tickets: Set<Int> = []
        for completions in results.values {
            let outcomes = completions[0]
            #expect(outcomes.map(\.recipient) == ["support@localhost", "nobody@localhost"])
            guard case .created(let ticket) = outcomes[0].result else {
                Issue.record("not created: \(outcomes[0].result)")
                continue
            }
            tickets.insert(ticket)
        }
        #expect(tickets == Set(1...20))
        // The same message through the async form: a duplicate of the ticket the callback form created.
        let again = await intake.process(
            InboundMessage(
                sender: "c3@example.com", recipients: ["support@localhost"],
                raw: RawMessage(
                    Array(
                        """
                        From: Customer 3 <c3@example.com>\r
                        To: support@localhost\r
                        Subject: printer 3\r
                        Message-ID: <callback-3@example.com>\r
                        \r
                        It does not print.\r

                        """.utf8)), source: .lmtp))
        guard case .duplicate = again.first?.result else {
            Issue.record("expected a duplicate, got \(again)")
            return
        }
    }
}
