import Foundation
import GRDB
import Logging
import Synchronization
import Testing
import TicketPipeline

@testable import TicketStoreSQLite

/// Records how a pending write was finished.
private final class RecordingWrite: PendingWrite {
    let outcome = Mutex<TicketStoreError??>(nil)

    func perform(_ db: Database) throws {}

    func finish(batchError: TicketStoreError?) {
        outcome.withLock { $0 = .some(batchError) }
    }

    var finished: Bool { outcome.withLock { $0 != nil } }
    var error: TicketStoreError? { outcome.withLock { $0 ?? nil } }
}

@Suite("WAL durability: callers hear of a batch only after its fsync")
struct WALDurabilityTests {
    private func waitUntilFinished(_ writes: [RecordingWrite]) async throws {
        for _ in 0..<500 where !writes.allSatisfy(\.finished) {
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    @Test func syncedBatchesFinishWithoutError() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.url.appendingPathComponent("store.db").path
        _ = FileManager.default.createFile(atPath: path + "-wal", contents: Data("frames".utf8))
        let durability = WALDurability(databasePath: path, logger: Logger(label: "test"))
        let writes = (0..<20).map { _ in RecordingWrite() }
        for batch in stride(from: 0, to: writes.count, by: 4) {
            durability.submit(Array(writes[batch..<batch + 4]))
        }
        durability.waitUntilIdle()
        try await waitUntilFinished(writes)
        #expect(writes.allSatisfy { $0.finished && $0.error == nil })
        // Batches handed over while an fsync ran share the next one.
        #expect((1...5).contains(durability.syncCount))
        #expect(durability.failure == nil)
    }

    @Test func aFailedFsyncFailsItsBatchAndEveryLaterOne() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        // Neither the WAL nor the database file exists: the fsync cannot happen.
        let path = directory.url.appendingPathComponent("missing/store.db").path
        let durability = WALDurability(databasePath: path, logger: Logger(label: "test"))
        let first = RecordingWrite()
        durability.submit([first])
        durability.waitUntilIdle()
        try await waitUntilFinished([first])
        #expect(first.error?.kind == .io)
        #expect(first.error?.operation.contains("store.db") == true)
        // Nothing written since can be promised any more: later batches fail at once, with the same error.
        let later = RecordingWrite()
        durability.submit([later])
        #expect(later.error?.kind == .io)
        #expect(durability.failure != nil)
    }
}
