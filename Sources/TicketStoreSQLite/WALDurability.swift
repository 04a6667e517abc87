import Dispatch
import Foundation
import Logging
import Synchronization
import TicketPipeline

#if canImport(Glibc)
    import Glibc
#endif

/// Makes committed batches durable, off the writer's thread, before their callers hear of them.
///
/// The writer connection runs WAL with `synchronous = NORMAL`: SQLite's COMMIT appends the batch's frames to
/// the `-wal` file without an fsync. This stage then calls `fdatasync` on the `-wal` file and only afterwards
/// resumes the batch's callers — so no `250` is sent before the transaction is on disk, exactly as with
/// `synchronous = FULL`. What changes is who waits: the writer starts the next batch's SQL while this fsync is in
/// flight, instead of sitting in it. One fsync also covers every batch committed before it started, since
/// `fdatasync` flushes all of the file's dirty pages.
///
/// Why this is safe: a caller is resumed only after an fsync that *began after its batch's COMMIT returned*, and
/// WAL frames are only ever appended or, after a completed checkpoint (which SQLite fsyncs into the database
/// file under `NORMAL`), rewritten from the start. A crash before the fsync loses at most batches nobody was told
/// about: Postfix retries them. A read in a later batch may see an earlier batch's rows before they are durable
/// (a redelivery recognised as a duplicate, say), but that later batch is resumed only after its own fsync,
/// which covers the earlier frames too.
///
/// If an fsync fails, the kernel may have dropped the dirty pages: nothing written since can be promised. The
/// stage then fails every waiting and every later write (`.io`) until the store is reopened — the daemon answers
/// 451 and Postfix keeps the mail.
final class WALDurability: Sendable {
    private struct State {
        var waiting: [[any PendingWrite]] = []
        /// fsyncs in flight.
        var running = 0
        var failure: TicketStoreError?
        var syncs = 0
    }

    /// How many fsyncs may be in flight at once. A batch committed while one runs need not wait for it to end:
    /// a second fsync, started after that commit, covers the batch (and waits for pages the first one is still
    /// writing back). More lanes than this only queue up in the device.
    private let lanes: Int

    private let databasePath: String
    private let walPath: String
    private let logger: Logger
    private let state = Mutex(State())
    private let queue = DispatchQueue(label: "postdesk.store.fsync", attributes: .concurrent)

    init(databasePath: String, logger: Logger, lanes: Int = 2) {
        self.lanes = max(1, lanes)
        self.databasePath = databasePath
        self.walPath = databasePath + "-wal"
        self.logger = logger
    }

    /// The error that stopped durable writes, if an fsync ever failed.
    var failure: TicketStoreError? { state.withLock { $0.failure } }

    /// fsyncs done so far: `writes / syncs` is how many callers one fsync covered.
    var syncCount: Int { state.withLock { $0.syncs } }

    /// Hands over a committed batch; its callers are resumed once it is on disk (or the fsync failed).
    func submit(_ batch: [any PendingWrite]) {
        enum Action { case failed(TicketStoreError), queued, start }
        let action = state.withLock { state -> Action in
            if let failure = state.failure { return .failed(failure) }
            state.waiting.append(batch)
            if state.running >= lanes { return .queued }
            state.running += 1
            return .start
        }
        switch action {
        case .failed(let error): for request in batch { request.finish(batchError: error) }
        case .queued: break
        case .start: queue.async { self.run() }
        }
    }

    /// Returns once every batch submitted so far has been synced and its callers resumed.
    func waitUntilIdle() {
        while state.withLock({ $0.running > 0 }) {
            queue.sync(flags: .barrier) {}
        }
    }

    private func run() {
        while true {
            let batches = state.withLock { state -> [[any PendingWrite]] in
                if state.waiting.isEmpty {
                    state.running -= 1
                    return []
                }
                defer { state.waiting.removeAll(keepingCapacity: true) }
                return state.waiting
            }
            if batches.isEmpty { return }
            let error = syncToDisk()
            state.withLock { state in
                state.syncs += 1
                if let error, state.failure == nil { state.failure = error }
            }
            if let error {
                logger.critical(
                    "fsync of the ticket store failed: refusing further writes until restart",
                    metadata: ["error": "\(error)"])
            }
            for batch in batches {
                for request in batch { request.finish(batchError: error) }
            }
        }
    }

    /// fdatasync of the `-wal` file; if there is none (every connection closed and SQLite checkpointed it into
    /// the database and removed it), of the database file, which then holds the frames.
    private func syncToDisk() -> TicketStoreError? {
        var path = walPath
        var descriptor = open(path, O_RDONLY | O_CLOEXEC)
        if descriptor < 0 && errno == ENOENT {
            path = databasePath
            descriptor = open(path, O_RDONLY | O_CLOEXEC)
        }
        guard descriptor >= 0 else {
            return TicketStoreError(
                kind: .io, operation: "open \(path) for fsync", path: databasePath,
                underlying: String(cString: strerror(errno)))
        }
        defer { close(descriptor) }
        guard fdatasync(descriptor) == 0 else {
            return TicketStoreError(
                kind: .io, operation: "fdatasync \(path)", path: databasePath,
                underlying: String(cString: strerror(errno)))
        }
        return nil
    }
}
