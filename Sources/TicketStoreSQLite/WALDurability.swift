import Foundation
import GRDB
import Logging
import MessageSpool
import Synchronization
import TicketPipeline

/// Makes sure no caller hears "stored" for a commit that may not be on disk, and that after the first I/O error
/// nobody does until the store is reopened.
///
/// The writer connection runs WAL with `synchronous = FULL`: COMMIT appends the batch's frames to the `-wal`
/// file and fsyncs them through SQLite's own descriptor, opened when the store opened, before COMMIT returns;
/// only then are the batch's callers finished. A failed fsync (or write) makes COMMIT fail with `SQLITE_IOERR`:
/// the batch's callers get `.io` (the daemon answers 451) and `latch` stops every later write.
///
/// Why FULL instead of NORMAL plus an fsync of our own: Linux reports a writeback error once per open file
/// description. Our own fsync had to use a descriptor opened for it, while SQLite's automatic checkpoint had
/// already fsynced the WAL through its descriptor inside COMMIT and dropped the error — so our fsync returned 0
/// for frames that never reached the disk. With FULL the only descriptor that fsyncs the WAL is the one whose
/// fsync decides the COMMIT, and a checkpoint's fsync (same descriptor) comes after it; a checkpoint whose fsync
/// of the database file fails leaves the frames in the WAL (it does not advance its backfill mark), and the next
/// checkpoint writes them again. The cost is the same one fsync per batch as before, now inside COMMIT on the
/// same writer thread, minus an open and close per batch (measured in bench/README.md: no cost above the noise).
/// The alternatives were worse: one WAL descriptor of our own held from the start sees every error, but the
/// checkpoint's fsync of the database file would still go unchecked; disabling auto-checkpoint adds a
/// checkpoint step of our own to every batch.
///
/// Once latched the store stays refused until it is reopened; opening runs a full checkpoint whose fsync errors
/// are reported (see `SQLiteTicketStore.init`), so frames a failed fsync left only in the page cache reach the
/// database file, or the store does not open.
final class WALDurability: Sendable {
    private struct State {
        var failure: TicketStoreError?
        var syncs = 0
    }

    private let logger: Logger
    private let state = Mutex(State())

    init(logger: Logger) {
        self.logger = logger
    }

    /// The error that stopped durable writes, if an I/O error ever happened.
    var failure: TicketStoreError? { state.withLock { $0.failure } }

    /// Commits made durable so far (each COMMIT fsyncs the WAL once): `writes / syncs` is how many callers one
    /// fsync covered.
    var syncCount: Int { state.withLock { $0.syncs } }

    /// Counts a commit that returned successfully, i.e. whose frames were fsynced.
    func committed() {
        state.withLock { $0.syncs += 1 }
    }

    /// Latches `error` if it is an I/O error (a failed write or fsync of the WAL or the database): nothing
    /// written since can be promised any more. Returns whether it latched.
    @discardableResult
    func latch(_ error: TicketStoreError) -> Bool {
        guard error.kind == .io else { return false }
        let first = state.withLock { state -> Bool in
            guard state.failure == nil else { return false }
            state.failure = error
            return true
        }
        if first {
            logger.critical(
                "I/O error in the ticket store: refusing further writes until restart", metadata: ["error": "\(error)"])
        }
        return true
    }

    /// Whether `error`, thrown inside a transaction, is an I/O error: then the whole batch must fail, not only
    /// the caller whose work met it, because the WAL may now hold frames that never reached the disk.
    static func isIOError(_ error: any Error) -> Bool {
        guard let databaseError = error as? DatabaseError else { return false }
        return databaseError.resultCode == .SQLITE_IOERR
    }

    /// fsyncs the directory holding the database, its `-wal` and `-shm` files through `descriptor`, opened before
    /// they were created (`DirectorySync.openForSync`): their names may just have been created, and a file's
    /// fsync does not make its directory entry durable. SQLite's own directory fsync ignores errors, and may
    /// be the one the kernel reports an error to; a descriptor held from before still hears of it.
    /// `openError` is the errno of the failed open when `descriptor` is -1.
    static func syncDirectory(descriptor: Int32, openError: Int32, of databasePath: String) -> TicketStoreError? {
        let directory = URL(fileURLWithPath: databasePath).deletingLastPathComponent().path
        let failure = descriptor < 0 ? openError : DirectorySync.sync(descriptor: descriptor)
        guard let code = failure else { return nil }
        return TicketStoreError(
            kind: .io, operation: "fsync directory \(directory)", path: databasePath,
            underlying: String(cString: strerror(code)))
    }
}
