import Foundation
import GRDB
import Logging
import MessageSpool
import Synchronization
import TicketPipeline

/// The SQLite ticket store (WAL), with group commit and an fsync before any caller is resumed.
///
/// Concurrent `write` calls are gathered while the previous batch is in flight and run in ONE transaction:
/// each caller's work in its own savepoint (a failing caller is rolled back alone), then one commit for all of
/// them. Every caller is resumed only after its batch's WAL frames were fsynced, because the daemon's `250`
/// promises durability; COMMIT makes that fsync (`synchronous = FULL`), and writes arriving meanwhile form the
/// next batch. Any I/O error stops all later writes until the store is reopened (see `WALDurability`).
///
/// Attachment and raw-message bytes are stored in the database (tables `blobs`, `raw_messages`), not as
/// files: then the one commit that stores the ticket also makes the bytes durable, atomically. Files would
/// need their own write + fsync + directory fsync before the commit, and leave orphans after a crash between
/// the two; backups would have to copy two things consistently. Blobs are content-addressed by SHA-256, so
/// each distinct content is stored once.
public final class SQLiteTicketStore: TicketStore, TicketDatabaseReading {
    /// The database file.
    public let path: String
    private let pool: DatabasePool
    private let committer: GroupCommitter
    let durability: WALDurability
    private let closed = Atomic(false)
    private let logger: Logger
    private let eventRecording = Atomic(false)
    /// Articles rendered from their raw messages, for the API's and the webhooks' reads of the same tickets.
    public let renderedArticles: RenderedArticleCache? = RenderedArticleCache()

    /// Whether the store's own ticket changes (`changeTicket`, API notes and replies) write outbox events. The
    /// daemon sets it from the same switch as the pipeline's `PipelineSettings.recordsEvents` (webhooks are
    /// configured), so that an event exists for every change or for none. Off by default.
    public var recordsEvents: Bool {
        get { eventRecording.load(ordering: .acquiring) }
        set { eventRecording.store(newValue, ordering: .releasing) }
    }

    /// Opens (creating it and its parent directories if needed) and migrates the database at `path`.
    /// - Parameter busyTimeout: how long a write waits for another process's lock before failing with `.busy`.
    public init(path: String, logger: Logger, busyTimeout: TimeInterval = 5) throws {
        self.path = path
        self.logger = logger
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent()
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw TicketStoreError(
                kind: .open, operation: "create directory \(directory.path)", path: path, underlying: "\(error)")
        }
        // Before SQLite creates any file in it: see `WALDurability.syncDirectory`.
        let directoryDescriptor = DirectorySync.openForSync(directory.path)
        let directoryOpenError = directoryDescriptor < 0 ? errno : 0
        defer { if directoryDescriptor >= 0 { Glibc.close(directoryDescriptor) } }
        // Every customer's mail is in here: the file is created 0600 before SQLite opens it (SQLite would create it
        // 0644 less the umask), and SQLite gives its -wal and -shm files the database file's mode.
        if let failure = createPrivateFile(path) {
            throw TicketStoreError(kind: .open, operation: "create", path: path, underlying: failure)
        }
        var configuration = GRDB.Configuration()
        configuration.busyMode = .timeout(busyTimeout)
        configuration.label = "postdesk.store"
        configuration.prepareDatabase { db in
            // Statement and savepoint journals in memory: on disk they cost a temp file and several writes per
            // savepoint, i.e. per message, and they never need to survive a crash (the WAL does).
            try db.execute(sql: "PRAGMA temp_store = MEMORY")
        }
        do {
            pool = try DatabasePool(path: path, configuration: configuration)
            try TicketStoreSchema.migrator.migrate(pool)
            try pool.writeWithoutTransaction { db in
                // FULL: COMMIT fsyncs the WAL through SQLite's own descriptor and fails if that fails; see
                // `WALDurability` for why no other descriptor may do it. (GRDB's pool sets NORMAL.)
                try db.execute(sql: "PRAGMA synchronous = FULL")
                // The writer checkpoints itself (SQLite's auto-checkpoint), and a checkpoint fsyncs the WAL and the
                // database file while every delivery waits: every 10,000 pages (~40 MB) instead of SQLite's 1,000
                // makes those stalls ten times rarer, and each copies hot pages (the tables' last pages) once
                // instead of ten times. The WAL is cut back to 64 MB whenever it restarts.
                try db.execute(sql: "PRAGMA wal_autocheckpoint = 10000")
                try db.execute(sql: "PRAGMA journal_size_limit = 67108864")
                // The writer touches index pages spread over the whole file (hash keys): keep more of them.
                try db.execute(sql: "PRAGMA cache_size = -16000")
                // Frames a failed fsync of an earlier run may have left only in the page cache go to the database
                // file now, and this checkpoint's errors are ours: if it fails, the store does not open.
                _ = try Row.fetchOne(db, sql: "PRAGMA wal_checkpoint(PASSIVE)")
            }
            if let error = WALDurability.syncDirectory(
                descriptor: directoryDescriptor, openError: directoryOpenError, of: path)
            {
                throw error
            }
        } catch {
            throw Self.storeError(error, operation: "open and migrate", path: path, defaultKind: .open)
        }
        durability = WALDurability(logger: logger)
        committer = GroupCommitter(pool: pool, durability: durability, path: path, logger: logger)
        logger.debug("ticket store opened", metadata: ["path": "\(path)"])
    }

    /// Stops accepting writes (they fail with `.closed`), waits for the commit in flight, and closes the
    /// database. Safe to call more than once.
    public func close() throws {
        committer.close()
        do {
            // The batch in flight finishes on the writer, fsync included: only then may the pool close.
            if !closed.exchange(true, ordering: .acquiringAndReleasing) {
                pool.writeWithoutTransaction { _ in }
            }
            try pool.close()
        } catch {
            throw Self.storeError(error, operation: "close", path: path, defaultKind: .other)
        }
    }

    public func write<T: Sendable>(
        _ work: @escaping @Sendable (any TicketStoreTransaction) throws -> T
    ) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            committer.submit(
                WriteRequest(work: work, path: path, recordsEvents: recordsEvents) { continuation.resume(with: $0) })
        }
    }

    /// Calls `answered` from the store's writer at its next chance: between two batches while it commits, at once
    /// when idle. Writes nothing. A writer that never answers is wedged (the daemon's watchdog asks).
    public func probeWriter(_ answered: @escaping @Sendable () -> Void) {
        committer.probe(answered)
    }

    /// `completion` runs on the store's writer, right after the fsync that made the commit durable.
    public func write<T: Sendable>(
        _ work: @escaping @Sendable (any TicketStoreTransaction) throws -> T,
        completion: @escaping @Sendable (Result<T, any Error>) -> Void
    ) {
        committer.submit(
            WriteRequest(work: work, path: path, recordsEvents: recordsEvents, completion: completion))
    }

    public func rawMessage(articleID: Int64) async throws -> [UInt8]? {
        try await read("read raw message of article \(articleID)") { db in
            try Data.fetchOne(
                db,
                sql: "SELECT r.data FROM articles a JOIN raw_messages r ON r.id = a.raw_message_id WHERE a.id = ?",
                arguments: [articleID]
            ).map { [UInt8]($0) }
        }
    }

    /// How many batches were committed, carrying how many writes: `writes / commits` is the group-commit factor.
    public var commitStatistics: GroupCommitStatistics {
        var statistics = committer.statistics
        statistics.syncs = durability.syncCount
        return statistics
    }

    /// Row counts of the main tables, for diagnostics and tests.
    public func rowCounts() async throws -> [String: Int] {
        try await read("count rows") { db in
            var counts: [String: Int] = [:]
            for table in [
                "tickets", "articles", "raw_messages", "contacts", "attachments", "blobs", "delivery_keys",
            ] {
                counts[table] = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM \(table)") ?? 0
            }
            return counts
        }
    }

    /// The writer connection's durability-relevant settings (`journal_mode`, `synchronous`, `temp_store`,
    /// `busy_timeout`, `wal_autocheckpoint`), for diagnostics and tests.
    public func writerSettings() async throws -> [String: String] {
        do {
            return try await pool.writeWithoutTransaction { db in
                var settings: [String: String] = [:]
                for pragma in ["journal_mode", "synchronous", "temp_store", "busy_timeout", "wal_autocheckpoint"] {
                    settings[pragma] = try String.fetchOne(db, sql: "PRAGMA \(pragma)")
                }
                return settings
            }
        } catch {
            throw Self.storeError(error, operation: "read settings", path: path, defaultKind: .other)
        }
    }

    /// For tests: runs `sql` on the writer connection, e.g. `PRAGMA max_page_count` to simulate a full disk.
    func executeOnWriter(_ sql: String) async throws {
        try await pool.writeWithoutTransaction { db in try db.execute(sql: sql) }
    }

    /// The content of an attachment, by SHA-256.
    public func blob(sha256: String) async throws -> [UInt8]? {
        try await read("read blob") { db in
            try Data.fetchOne(db, sql: "SELECT data FROM blobs WHERE sha256 = ?", arguments: [sha256])
                .map { [UInt8]($0) }
        }
    }

    public func read<T: Sendable>(
        _ operation: String, _ body: @escaping @Sendable (Database) throws -> T
    ) async throws -> T {
        do {
            return try await pool.read(body)
        } catch {
            throw Self.storeError(error, operation: operation, path: path, defaultKind: .other)
        }
    }

    /// Maps a GRDB/SQLite error to the pipeline's typed error; other errors keep `defaultKind`.
    static func storeError(
        _ error: any Error, operation: String, path: String, defaultKind: TicketStoreError.Kind
    ) -> TicketStoreError {
        if let storeError = error as? TicketStoreError { return storeError }
        guard let databaseError = error as? DatabaseError else {
            return TicketStoreError(kind: defaultKind, operation: operation, path: path, underlying: "\(error)")
        }
        let kind: TicketStoreError.Kind
        switch databaseError.resultCode {
        case .SQLITE_BUSY, .SQLITE_LOCKED: kind = .busy
        case .SQLITE_FULL: kind = .full
        case .SQLITE_READONLY, .SQLITE_PERM, .SQLITE_AUTH: kind = .readOnly
        case .SQLITE_IOERR, .SQLITE_CANTOPEN: kind = .io
        case .SQLITE_CORRUPT, .SQLITE_NOTADB: kind = .corrupt
        case .SQLITE_MISUSE where databaseError.message?.contains("closed") == true: kind = .closed
        default: kind = defaultKind
        }
        return TicketStoreError(kind: kind, operation: operation, path: path, underlying: "\(databaseError)")
    }
}

/// Creates an empty file with mode 0600 unless one exists; the reason when that fails.
private func createPrivateFile(_ path: String) -> String? {
    let descriptor = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
    if descriptor >= 0 {
        close(descriptor)
        return nil
    }
    return errno == EEXIST ? nil : String(cString: strerror(errno))
}

/// Totals since the store was opened.
public struct GroupCommitStatistics: Sendable, Hashable {
    /// Transactions committed.
    public var commits: Int
    /// Caller writes carried by those commits (including callers whose own work failed and was rolled back).
    public var writes: Int
    /// fsyncs of the WAL that made those commits durable: one per commit.
    public var syncs: Int = 0
    /// CPU time the writer spent running and committing batches (SQL, WAL writes, the fsync's CPU, checkpoints):
    /// `writerCPUSeconds / writes` is the store's serialized cost per write.
    public var writerCPUSeconds: Double
}

/// One caller's pending write, as the committer sees it.
protocol PendingWrite: AnyObject, Sendable {
    /// Runs the caller's work inside the current savepoint; throws if the work threw.
    func perform(_ db: Database) throws
    /// Resumes the caller: with its own error if its work failed, else with `batchError` if the batch's
    /// transaction did not commit, else with its result.
    func finish(batchError: TicketStoreError?)
}

/// `@unchecked Sendable` is safe: `result` is written by `perform` and read by `finish`, both called on the
/// store's single writer, in that order; requests move between threads only through the committer's mutex.
final class WriteRequest<T: Sendable>: PendingWrite, @unchecked Sendable {
    private let work: @Sendable (any TicketStoreTransaction) throws -> T
    private let completion: @Sendable (Result<T, any Error>) -> Void
    private let path: String
    private let recordsEvents: Bool
    private var result: Result<T, any Error>?

    init(
        work: @escaping @Sendable (any TicketStoreTransaction) throws -> T, path: String, recordsEvents: Bool,
        completion: @escaping @Sendable (Result<T, any Error>) -> Void
    ) {
        self.work = work
        self.completion = completion
        self.path = path
        self.recordsEvents = recordsEvents
    }

    func perform(_ db: Database) throws {
        do {
            result = .success(try work(SQLiteTicketTransaction(db: db, recordsEvents: recordsEvents)))
        } catch {
            result = .failure(error)
            throw error
        }
    }

    func finish(batchError: TicketStoreError?) {
        switch (result, batchError) {
        case (.failure(let error)?, _):
            // The caller's own failure; database errors are typed, its own errors pass through as thrown.
            let isDatabaseError = error is DatabaseError
            completion(
                .failure(
                    isDatabaseError
                        ? SQLiteTicketStore.storeError(error, operation: "write", path: path, defaultKind: .other)
                        : error))
        case (_, let batchError?):
            completion(.failure(batchError))
        case (.success(let value)?, nil):
            completion(.success(value))
        case (nil, nil):
            completion(
                .failure(
                    TicketStoreError(
                        kind: .other, operation: "write", path: path, underlying: "write was never performed")))
        }
    }
}

/// Gathers pending writes and commits them in batches on GRDB's writer connection. While a batch commits,
/// new writes queue up; the next batch takes all of them, so batch size grows with load without any timer.
final class GroupCommitter: Sendable {
    private struct State {
        var pending: [any PendingWrite] = []
        var draining = false
        /// Writer probes waiting for the drain loop's next turn.
        var probes: [@Sendable () -> Void] = []
        var closed = false
        var statistics = GroupCommitStatistics(commits: 0, writes: 0, writerCPUSeconds: 0)
    }

    private let pool: DatabasePool
    let durability: WALDurability
    private let path: String
    private let logger: Logger
    private let state = Mutex(State())

    init(pool: DatabasePool, durability: WALDurability, path: String, logger: Logger) {
        self.pool = pool
        self.durability = durability
        self.path = path
        self.logger = logger
    }

    func submit(_ request: any PendingWrite) {
        enum Action { case rejected, queued, startDrain }
        let action = state.withLock { state -> Action in
            if state.closed { return .rejected }
            state.pending.append(request)
            if state.draining { return .queued }
            state.draining = true
            return .startDrain
        }
        switch action {
        case .rejected: request.finish(batchError: closedError)
        case .queued: break
        case .startDrain: pool.asyncWriteWithoutTransaction { db in self.drain(db) }
        }
    }

    /// Calls `answered` from the drain loop's next turn, starting a drain (with no writes) if none runs.
    func probe(_ answered: @escaping @Sendable () -> Void) {
        enum Action { case answerNow, queued, startDrain }
        let action = state.withLock { state -> Action in
            // A closed store has no writer to wedge.
            if state.closed && !state.draining { return .answerNow }
            state.probes.append(answered)
            if state.draining { return .queued }
            state.draining = true
            return .startDrain
        }
        switch action {
        case .answerNow: answered()
        case .queued: break
        case .startDrain: pool.asyncWriteWithoutTransaction { db in self.drain(db) }
        }
    }

    /// Rejects new writes and fails those not yet started; the batch in flight completes normally.
    func close() {
        let abandoned = state.withLock { state -> [any PendingWrite] in
            state.closed = true
            defer { state.pending.removeAll() }
            return state.pending
        }
        for request in abandoned { request.finish(batchError: closedError) }
    }

    var statistics: GroupCommitStatistics { state.withLock { $0.statistics } }

    private var closedError: TicketStoreError {
        TicketStoreError(kind: .closed, operation: "write", path: path, underlying: "the store is closed")
    }

    private func drain(_ db: Database) {
        while true {
            let (batch, probes) = state.withLock { state -> ([any PendingWrite], [@Sendable () -> Void]) in
                let probes = state.probes
                if !probes.isEmpty { state.probes.removeAll() }
                if state.pending.isEmpty {
                    state.draining = false
                    return ([], probes)
                }
                defer { state.pending.removeAll(keepingCapacity: true) }
                return (state.pending, probes)
            }
            for answered in probes { answered() }
            if batch.isEmpty { return }
            if let failure = durability.failure {
                for request in batch { request.finish(batchError: failure) }
                continue
            }
            let started = Self.threadCPUSeconds()
            let batchError = commit(batch, db)
            let cpu = Self.threadCPUSeconds() - started
            state.withLock { state in
                state.statistics.writerCPUSeconds += cpu
                if batchError == nil {
                    state.statistics.commits += 1
                    state.statistics.writes += batch.count
                }
            }
            if let batchError {
                durability.latch(batchError)
            } else {
                durability.committed()
            }
            for request in batch { request.finish(batchError: batchError) }
        }
    }

    private static func threadCPUSeconds() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }

    /// Runs `batch` in one transaction; returns the error that prevented the commit, if any.
    private func commit(_ batch: [any PendingWrite], _ db: Database) -> TicketStoreError? {
        do {
            // Savepoints through cached statements: GRDB's `inSavepoint` prepares its SQL anew on every call,
            // which showed in profiles as a measurable share of the writer's time per message.
            let savepoint = try db.cachedStatement(sql: "SAVEPOINT caller")
            let release = try db.cachedStatement(sql: "RELEASE SAVEPOINT caller")
            let rollback = try db.cachedStatement(sql: "ROLLBACK TO SAVEPOINT caller")
            try db.inTransaction(.immediate) {
                for request in batch {
                    try savepoint.execute()
                    do {
                        try request.perform(db)
                        try release.execute()
                    } catch {
                        // SQLite rolls a whole transaction back on some errors (disk full, I/O): then
                        // nothing of this batch can commit, and every caller must hear it. An I/O error fails
                        // the batch even where SQLite did not roll back: nothing written can be promised.
                        guard db.isInsideTransaction, !WALDurability.isIOError(error) else { throw error }
                        try rollback.execute()
                        try release.execute()
                    }
                }
                return .commit
            }
            return nil
        } catch {
            let storeError = SQLiteTicketStore.storeError(
                error, operation: "commit of \(batch.count) writes", path: path, defaultKind: .other)
            logger.error("ticket store commit failed", metadata: ["error": "\(storeError)"])
            return storeError
        }
    }
}
