import Foundation
import GRDB
import TicketPipeline

extension SQLiteTicketStore: MailboxStateStore {
    public func mailboxItems(_ folder: MailboxFolderKey) async throws -> [String: MailboxItemState] {
        try await writeDatabase { db in
            // A UIDVALIDITY change makes every stored UID of the folder name another message.
            try db.execute(
                sql: "DELETE FROM mailbox_items WHERE mailbox = ? AND folder = ? AND validity <> ?",
                arguments: [folder.mailbox, folder.folder, Int64(folder.validity)])
            let rows = try Row.fetchAll(
                db, sql: "SELECT item, state FROM mailbox_items WHERE mailbox = ? AND folder = ? AND validity = ?",
                arguments: [folder.mailbox, folder.folder, Int64(folder.validity)])
            var items: [String: MailboxItemState] = [:]
            for row in rows {
                let item: String = row[0]
                items[item] = MailboxItemState(rawValue: row[1]) ?? .committed
            }
            return items
        }
    }

    public func setMailboxItems(
        _ items: [String], state: MailboxItemState?, in folder: MailboxFolderKey
    ) async throws {
        guard !items.isEmpty else { return }
        try await writeDatabase { db in
            for item in items {
                try Self.setMailboxItem(item, state: state, in: folder, db)
            }
        }
    }

    private static func setMailboxItem(
        _ item: String, state: MailboxItemState?, in folder: MailboxFolderKey, _ db: Database
    ) throws {
        if let state {
            try db.execute(
                sql: """
                    INSERT INTO mailbox_items (mailbox, folder, validity, item, state, updated_at)
                    VALUES (?, ?, ?, ?, ?, ?)
                    ON CONFLICT (mailbox, folder, validity, item) DO UPDATE SET
                        state = excluded.state, updated_at = excluded.updated_at
                    """,
                arguments: [
                    folder.mailbox, folder.folder, Int64(folder.validity), item, state.rawValue,
                    Date().timeIntervalSince1970,
                ])
        } else {
            try db.execute(
                sql: "DELETE FROM mailbox_items WHERE mailbox = ? AND folder = ? AND validity = ? AND item = ?",
                arguments: [folder.mailbox, folder.folder, Int64(folder.validity), item])
        }
    }

    /// O(items of the folder): one indexed range read on a reader; the writer is asked only to delete items gone
    /// from the server (every synchronization calls this, and most find nothing gone). The mailbox's own task is
    /// the one that writes its items, and deleting a row someone removed in between does nothing.
    public func forgetMailboxItems(in folder: MailboxFolderKey, notIn present: Set<String>) async throws {
        let gone = try await read("read mailbox items") { db in
            try String.fetchAll(
                db, sql: "SELECT item FROM mailbox_items WHERE mailbox = ? AND folder = ? AND validity = ?",
                arguments: [folder.mailbox, folder.folder, Int64(folder.validity)]
            ).filter { !present.contains($0) }
        }
        guard !gone.isEmpty else { return }
        try await writeDatabase { db in
            for item in gone {
                try db.execute(
                    sql: "DELETE FROM mailbox_items WHERE mailbox = ? AND folder = ? AND validity = ? AND item = ?",
                    arguments: [folder.mailbox, folder.folder, Int64(folder.validity), item])
            }
        }
    }

    public func saveMailboxStatus(_ status: MailboxStatus) async throws {
        let json = String(decoding: try JSONEncoder().encode(status), as: UTF8.self)
        try await writeDatabase { db in
            try Self.recordUnhealthyTransition(status, db)
            try db.execute(
                sql: """
                    INSERT INTO mailbox_status (mailbox, status_json, updated_at) VALUES (?, ?, ?)
                    ON CONFLICT (mailbox) DO UPDATE SET status_json = excluded.status_json,
                        updated_at = excluded.updated_at
                    """,
                arguments: [status.mailbox, json, Date().timeIntervalSince1970])
        }
    }

    /// Writes a `mailbox.unhealthy` event, in the same transaction as the status, when the mailbox goes from
    /// healthy (or starting, or unknown) to failing or needing attention: once per outage, not per failed poll.
    private static func recordUnhealthyTransition(_ status: MailboxStatus, _ db: Database) throws {
        guard status.state == .failing || status.state == .needsAttention else { return }
        let previous = try String.fetchOne(
            db, sql: "SELECT status_json FROM mailbox_status WHERE mailbox = ?", arguments: [status.mailbox]
        ).flatMap { try? JSONDecoder().decode(MailboxStatus.self, from: Data($0.utf8)) }
        if let previous, previous.state == .failing || previous.state == .needsAttention { return }
        var mailbox = EventPayload()
        mailbox.add("name", status.mailbox)
        mailbox.add("state", status.state.rawValue)
        mailbox.add("error", status.lastError)
        var payload = EventPayload()
        payload.add("mailbox", object: mailbox)
        _ = try SQLiteTicketTransaction(db: db).recordEvent(
            NewOutboxEvent(
                type: .mailboxUnhealthy, ticketNumber: nil, articleID: nil, payload: payload.json,
                createdAt: status.lastPoll ?? Date()))
    }

    /// A write on the store's single writer, with the raw connection: the poller's and the API's bookkeeping is
    /// not the pipeline's business, so it has no place in `TicketStoreTransaction`.
    func writeDatabase<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        try await write { transaction in
            guard let transaction = transaction as? SQLiteTicketTransaction else {
                throw TicketStoreError(kind: .other, operation: "mailbox state", path: "", underlying: "not SQLite")
            }
            return try body(transaction.db)
        }
    }
}

extension TicketDatabaseReading {
    /// Every polled mailbox's last known health, by name.
    public func mailboxStatuses() async throws -> [MailboxStatus] {
        try await read("read mailbox status") { db in
            try String.fetchAll(db, sql: "SELECT status_json FROM mailbox_status ORDER BY mailbox").compactMap {
                try? JSONDecoder().decode(MailboxStatus.self, from: Data($0.utf8))
            }
        }
    }
}
