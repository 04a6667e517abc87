import GRDB
import GRDBSQLite
import MessageSpool

/// Writes a large blob in place, chunk by chunk, through SQLite's incremental blob I/O: the row is inserted with
/// a zero blob of the final size, then filled. Binding the whole value instead would make SQLite build the
/// complete record in memory, so a 100 MB message would cost 100 MB (more, with the source's own copy).
struct IncrementalBlob {
    /// Values up to this size are bound whole; larger ones, and every spooled message, are written in chunks.
    static let inlineLimit = RawMessage.chunkSize

    private let db: Database
    private let handle: OpaquePointer
    private let table: String
    private let row: Int64
    let size: Int

    /// Opens `table.column` of `row` for writing.
    init(_ db: Database, table: String, column: String, row: Int64) throws {
        guard let connection = db.sqliteConnection else {
            throw DatabaseError(resultCode: .SQLITE_MISUSE, message: "no connection to write a blob on")
        }
        var blob: OpaquePointer?
        let code = sqlite3_blob_open(connection, "main", table, column, row, 1, &blob)
        guard code == SQLITE_OK, let blob else {
            sqlite3_blob_close(blob)
            throw DatabaseError(
                resultCode: ResultCode(rawValue: code),
                message: "opening blob \(table).\(column) of row \(row): \(String(cString: sqlite3_errmsg(connection)))"
            )
        }
        self.db = db
        self.handle = blob
        self.table = table
        self.row = row
        self.size = Int(sqlite3_blob_bytes(blob))
    }

    /// Writes `bytes` at `offset`; the blob's size never changes.
    func write(_ bytes: UnsafeBufferPointer<UInt8>, at offset: Int) throws {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return }
        guard offset + bytes.count <= size else {
            throw DatabaseError(
                resultCode: .SQLITE_TOOBIG,
                message: "blob \(table) row \(row) holds \(size) octets; writing \(bytes.count) at \(offset) overflows")
        }
        let code = sqlite3_blob_write(handle, base, Int32(bytes.count), Int32(offset))
        guard code == SQLITE_OK else {
            let reason = db.sqliteConnection.map { String(cString: sqlite3_errmsg($0)) } ?? "no connection"
            throw DatabaseError(
                resultCode: ResultCode(rawValue: code),
                message: "writing blob \(table) row \(row) at \(offset): \(reason)")
        }
    }

    func close() {
        sqlite3_blob_close(handle)
    }

    /// Opens the blob, lets `fill` write it, and closes it whatever happens.
    static func fill(
        _ db: Database, table: String, column: String, row: Int64, _ fill: (IncrementalBlob) throws -> Void
    ) throws {
        let blob = try IncrementalBlob(db, table: table, column: column, row: row)
        defer { blob.close() }
        try fill(blob)
    }

    /// Copies `message` into the zero blob of `table.column` at `row`, a chunk at a time, releasing a spooled
    /// message's pages after each.
    static func copy(_ message: RawMessage, into db: Database, table: String, column: String, row: Int64) throws {
        try fill(db, table: table, column: column, row: row) { blob in
            try message.forEachChunk { offset, chunk in try blob.write(chunk, at: offset) }
        }
    }
}
