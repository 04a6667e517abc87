import Foundation
import GRDB
import TicketPipeline

/// Why the store could not be opened for reading.
public struct TicketStoreReadError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// No database file at the path.
        case missing
        /// The database lacks migrations this `postdesk` has: the daemon has not run since an upgrade.
        case olderSchema(pending: [String])
        /// The database has migrations this `postdesk` does not know: it was written by a newer version.
        case newerSchema
        /// The file could not be opened or read.
        case unreadable(String)
    }

    public var kind: Kind
    public var path: String

    public var description: String {
        switch kind {
        case .missing:
            "no ticket store at \(path): run `postdesk serve` once to create it, or check store.path"
        case .olderSchema(let pending):
            "the ticket store at \(path) has an older schema (missing \(pending.joined(separator: ", "))): "
                + "run `postdesk serve` once to migrate it; read commands never change the store"
        case .newerSchema:
            "the ticket store at \(path) was written by a newer postdesk (unknown migrations): use that version"
        case .unreadable(let reason): "cannot read the ticket store at \(path): \(reason)"
        }
    }
}

/// The ticket store opened read-only, for the CLI's read commands (`tickets`, `messages`, `bounces`,
/// `quarantine list/show`): it never creates, migrates or writes a file, so an operator (or root) reading the
/// store leaves nothing behind that the daemon could not open.
///
/// SQLite opens a WAL database read-only by creating its `-wal` and `-shm` files when they are absent (as the
/// invoking user). They are absent only when no connection is open, i.e. the daemon is stopped and its last
/// close checkpointed everything into the database file: then the file is opened `immutable`, which reads it
/// without locks or side files. When they exist (the daemon runs), they are used as they are. A daemon starting
/// while an immutable read runs may make that read fail; it never harms the store.
public final class SQLiteTicketReader: TicketDatabaseReading {
    /// The database file.
    public let path: String
    private let queue: DatabaseQueue

    /// Opens the database at `path` read-only and checks that its schema is the one this build knows.
    public init(path: String) throws(TicketStoreReadError) {
        self.path = path
        guard FileManager.default.fileExists(atPath: path) else {
            throw TicketStoreReadError(kind: .missing, path: path)
        }
        var configuration = GRDB.Configuration()
        configuration.readonly = true
        configuration.label = "postdesk.store.read"
        let hasWAL = FileManager.default.fileExists(atPath: path + "-wal")
        let openPath = hasWAL ? path : Self.immutableURI(path)
        let pending: [String]
        let superseded: Bool
        do {
            queue = try DatabaseQueue(path: openPath, configuration: configuration)
            (pending, superseded) = try queue.read { db in
                let migrator = TicketStoreSchema.migrator
                let applied = try migrator.appliedIdentifiers(db)
                return (migrator.migrations.filter { !applied.contains($0) }, try migrator.hasBeenSuperseded(db))
            }
        } catch {
            throw TicketStoreReadError(kind: .unreadable("\(error)"), path: path)
        }
        if superseded { throw TicketStoreReadError(kind: .newerSchema, path: path) }
        if !pending.isEmpty { throw TicketStoreReadError(kind: .olderSchema(pending: pending), path: path) }
    }

    /// `file:` URI with `immutable=1`; `%`, `?` and `#` in the path are escaped (SQLite's URI rules).
    static func immutableURI(_ path: String) -> String {
        var escaped = ""
        for character in path {
            switch character {
            case "%": escaped += "%25"
            case "?": escaped += "%3f"
            case "#": escaped += "%23"
            default: escaped.append(character)
            }
        }
        return "file:" + escaped + "?immutable=1"
    }

    public func read<T: Sendable>(
        _ operation: String, _ body: @escaping @Sendable (Database) throws -> T
    ) async throws -> T {
        do {
            return try await queue.read(body)
        } catch {
            throw SQLiteTicketStore.storeError(error, operation: operation, path: path, defaultKind: .other)
        }
    }
}
