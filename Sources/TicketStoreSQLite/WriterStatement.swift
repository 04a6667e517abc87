import GRDB
import GRDBSQLite

/// A cached statement of the writer's hot path, bound and stepped through SQLite's C API.
///
/// GRDB's `StatementArguments` boxes every value as an existential and builds arrays per call; on the writer —
/// the one serialized part of intake — that showed in profiles as much time as SQLite's own work. These
/// statements bind each value directly; GRDB still prepares and caches them, and owns the connection.
struct WriterStatement {
    private let statement: Statement
    private let db: Database
    private var handle: SQLiteStatement { statement.sqliteStatement }

    init(_ db: Database, _ sql: String) throws {
        self.db = db
        statement = try db.cachedStatement(sql: sql)
    }

    /// SQLite copies the bytes during the bind call (`SQLITE_TRANSIENT`), so Swift buffers need not outlive it.
    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    func bind(_ index: Int32, _ value: String?) {
        guard var value else {
            sqlite3_bind_null(handle, index)
            return
        }
        _ = value.withUTF8 { bytes in
            if let base = bytes.baseAddress {
                sqlite3_bind_text(handle, index, base, Int32(bytes.count), Self.transient)
            } else {
                // An empty buffer may have no address, which SQLite would take for NULL.
                sqlite3_bind_text(handle, index, "", 0, Self.transient)
            }
        }
    }

    func bind(_ index: Int32, _ value: Int64?) {
        if let value { sqlite3_bind_int64(handle, index, value) } else { sqlite3_bind_null(handle, index) }
    }

    func bind(_ index: Int32, _ value: Int) {
        sqlite3_bind_int64(handle, index, Int64(value))
    }

    func bind(_ index: Int32, _ value: Double) {
        sqlite3_bind_double(handle, index, value)
    }

    func bind(_ index: Int32, bytes: [UInt8]) {
        bytes.withUnsafeBufferPointer { bind(index, bytes: $0) }
    }

    func bind(_ index: Int32, bytes: UnsafeBufferPointer<UInt8>) {
        if let base = bytes.baseAddress {
            sqlite3_bind_blob64(handle, index, base, sqlite3_uint64(bytes.count), Self.transient)
        } else {
            sqlite3_bind_zeroblob(handle, index, 0)
        }
    }

    /// Binds a blob of `count` zero octets, to be filled in place with `IncrementalBlob`.
    func bind(_ index: Int32, zeroBlobOf count: Int) {
        sqlite3_bind_zeroblob64(handle, index, sqlite3_uint64(count))
    }

    /// Runs the statement to completion.
    func execute() throws {
        defer { reset() }
        var code = sqlite3_step(handle)
        while code == SQLITE_ROW { code = sqlite3_step(handle) }
        guard code == SQLITE_DONE else { throw error(code) }
    }

    /// The first column of the first row as an integer, or nil when there is no row (or it is NULL).
    func fetchInteger() throws -> Int64? {
        defer { reset() }
        let code = sqlite3_step(handle)
        switch code {
        case SQLITE_ROW:
            return sqlite3_column_type(handle, 0) == SQLITE_NULL ? nil : sqlite3_column_int64(handle, 0)
        case SQLITE_DONE:
            return nil
        default:
            throw error(code)
        }
    }

    /// The first column of the first row as text, or nil when there is no row (or it is NULL).
    func fetchText() throws -> String? {
        defer { reset() }
        let code = sqlite3_step(handle)
        switch code {
        case SQLITE_ROW:
            guard let text = sqlite3_column_text(handle, 0) else { return nil }
            return String(cString: text)
        case SQLITE_DONE:
            return nil
        default:
            throw error(code)
        }
    }

    /// The first two columns of the first row as integers, or nil when there is no row.
    func fetchIntegerPair() throws -> (Int64, Int64)? {
        defer { reset() }
        let code = sqlite3_step(handle)
        switch code {
        case SQLITE_ROW: return (sqlite3_column_int64(handle, 0), sqlite3_column_int64(handle, 1))
        case SQLITE_DONE: return nil
        default: throw error(code)
        }
    }

    private func reset() {
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
    }

    private func error(_ code: Int32) -> DatabaseError {
        DatabaseError(
            resultCode: ResultCode(rawValue: code),
            message: db.sqliteConnection.map { String(cString: sqlite3_errmsg($0)) }, sql: statement.sql)
    }
}
