import Foundation
import Logging
import Synchronization
import TicketPipeline

#if canImport(Glibc)
    import Glibc
#endif

/// Makes committed batches durable before their callers hear of them.
///
/// The writer connection runs WAL with `synchronous = NORMAL`: SQLite's COMMIT appends the batch's frames to
/// the `-wal` file without an fsync. The writer then calls `makeDurable()`, an `fdatasync` of the `-wal` file,
/// and only afterwards finishes the batch's callers — so no `250` is sent before the transaction is on disk,
/// exactly as with `synchronous = FULL`. What this adds over FULL is the rule below for a failed fsync, and an
/// error that names the file.
///
/// Why the writer waits for the disk instead of committing the next batch meanwhile: on the 2-core VM the
/// benchmarks run on, an fsync costs about 200 µs of CPU whatever it carries, and every commit rewrites the
/// pages every message touches (the tables' last pages, the database header). Writes that arrive during the
/// fsync join the next batch, so batches grow with load and both costs are shared by more messages: at 10
/// sessions of 2 KB this measured 3,450–4,130 msg/s against 2,800–3,180 with the fsync on a thread of its own
/// beside the writer.
///
/// If an fsync fails, the kernel may have dropped the dirty pages: nothing written since can be promised. Every
/// later write then fails (`.io`) until the store is reopened — the daemon answers 451 and Postfix keeps the
/// mail.
final class WALDurability: Sendable {
    private struct State {
        var failure: TicketStoreError?
        var syncs = 0
    }

    private let databasePath: String
    private let walPath: String
    private let logger: Logger
    private let state = Mutex(State())

    init(databasePath: String, logger: Logger) {
        self.databasePath = databasePath
        self.walPath = databasePath + "-wal"
        self.logger = logger
    }

    /// The error that stopped durable writes, if an fsync ever failed.
    var failure: TicketStoreError? { state.withLock { $0.failure } }

    /// fsyncs done so far: `writes / syncs` is how many callers one fsync covered.
    var syncCount: Int { state.withLock { $0.syncs } }

    /// Flushes every frame committed so far to the disk; returns the error if that failed, now or earlier.
    func makeDurable() -> TicketStoreError? {
        if let failure { return failure }
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
        return error
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
