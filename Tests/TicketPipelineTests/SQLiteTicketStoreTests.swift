import Foundation
import Logging
import MailParser
import MessageSpool
import Testing
import TicketPipeline
import TicketStoreSQLite

struct DeliberateFailure: Error {}

@Suite("SQLite ticket store: group commit, durability, migrations, failures")
struct SQLiteTicketStoreTests {
    private func newTicket(_ subject: String) -> NewTicket {
        NewTicket(queue: "support", subject: subject, requesterID: nil, source: .smtp, createdAt: Date())
    }

    @Test func concurrentWritesShareCommitsAndAFailingWriteRollsBackAlone() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let store = try SQLiteTicketStore(path: directory.databasePath, logger: Logger(label: "test"))
        defer { try? store.close() }
        let writers = 200
        let failing = 77

        let results = await withTaskGroup(of: (Int, Result<Int, any Error>).self) { group in
            for index in 0..<writers {
                group.addTask {
                    do {
                        let number = try await store.write { transaction in
                            let number = try transaction.createTicket(self.newTicket("write \(index)"))
                            // The failing caller has already written when it throws: that must vanish.
                            if index == failing { throw DeliberateFailure() }
                            return number
                        }
                        return (index, .success(number))
                    } catch {
                        return (index, .failure(error))
                    }
                }
            }
            var results: [Int: Result<Int, any Error>] = [:]
            for await (index, result) in group { results[index] = result }
            return results
        }

        #expect(results.count == writers)
        for (index, result) in results {
            switch result {
            case .success: #expect(index != failing)
            case .failure(let error):
                #expect(index == failing)
                #expect(error is DeliberateFailure)
            }
        }
        let numbers = results.values.compactMap { try? $0.get() }
        #expect(Set(numbers).count == writers - 1)

        let tickets = try await store.listTickets(limit: 1000, offset: 0)
        #expect(tickets.count == writers - 1)
        #expect(!tickets.contains { $0.subject == "write \(failing)" })
        #expect(Set(tickets.map(\.number)) == Set(numbers))
        // Group commit really happened: fewer commits than writes.
        let statistics = store.commitStatistics
        #expect(statistics.writes == writers)
        #expect(statistics.commits < writers)
    }

    @Test func resultsAreVisibleOnlyAfterCommitAndDurableAcrossInstances() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let logger = Logger(label: "test")
        let rawBytes = "Subject: durable\r\n\r\nraw"
        do {
            let store = try SQLiteTicketStore(path: directory.databasePath, logger: logger)
            let intake = TicketIntake(
                router: QueueRouter(queues: [supportQueue]), store: store, logger: logger,
                parse: { _ in
                    mail(id: "durable@example.com", attachments: [attachment("kept", name: "kept.txt")])
                })
            let outcomes = await intake.process(
                InboundMessage(
                    sender: "a@example.com", recipients: ["support@localhost"], raw: Array(rawBytes.utf8),
                    source: .smtp))
            #expect(outcomes.map(\.result) == [.created(ticket: 1)])
            try store.close()
        }
        // A new instance, as after a restart, sees everything, and the migrations run again harmlessly.
        for reopening in 0..<2 {
            let reopened = try SQLiteTicketStore(path: directory.databasePath, logger: logger)
            defer { try? reopened.close() }
            let ticket = try #require(try await reopened.ticket(number: 1))
            #expect(ticket.subject == "Printer on fire")
            #expect(ticket.articles.first?.attachments.first?.filename == "kept.txt")
            let articleID = try #require(ticket.articles.first?.id)
            #expect(try await reopened.rawMessage(articleID: articleID) == Array(rawBytes.utf8))
            #expect(try await reopened.rowCounts()["tickets"] == 1 + reopening)
            // Numbering continues after the existing tickets.
            let next = try await reopened.write { try $0.createTicket(self.newTicket("next")) }
            #expect(next == 2 + reopening)
        }
        let final = try SQLiteTicketStore(path: directory.databasePath, logger: logger)
        defer { try? final.close() }
        let counts = try await final.rowCounts()
        #expect(counts["tickets"] == 3)
        #expect(counts["delivery_keys"] == 1)
    }

    @Test func writeErrorsOfTheWorkPassThroughAndDatabaseErrorsAreTyped() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let store = try SQLiteTicketStore(path: directory.databasePath, logger: Logger(label: "test"))
        defer { try? store.close() }
        await #expect(throws: DeliberateFailure.self) {
            try await store.write { _ in throw DeliberateFailure() }
        }
        // An article on a ticket that does not exist violates a foreign key: a typed store error.
        let error = await #expect(throws: TicketStoreError.self) {
            try await store.write { transaction in
                try transaction.storeRawMessage(sha256: "00", message: [1], receivedAt: Date())
                _ = try transaction.addArticle(
                    NewArticle(
                        ticketNumber: 42, queue: "support", messageID: nil, inReplyTo: [], references: [],
                        subject: "", from: nil, to: [], cc: [], replyTo: [], text: "", html: nil, envelopeSender: "",
                        envelopeRecipients: [], source: .smtp, sessionID: nil, receivedAt: Date(), rawSHA256: "00",
                        rawSize: 1))
            }
        }
        #expect(error?.path == directory.databasePath)
        // Nothing of the failed write persisted; the store keeps working.
        #expect(try await store.rowCounts()["raw_messages"] == 0)
        #expect(try await store.rawMessage(articleID: 1) == nil)
        #expect(try await store.write { try $0.createTicket(self.newTicket("after")) } == 1)
    }

    @Test func writerIsDurable() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let store = try SQLiteTicketStore(path: directory.databasePath, logger: Logger(label: "test"))
        defer { try? store.close() }
        let settings = try await store.writerSettings()
        #expect(settings["journal_mode"] == "wal")
        // 2 = FULL: COMMIT fsyncs the WAL through SQLite's own descriptor, and fails if that fails.
        #expect(settings["synchronous"] == "2")
        #expect(settings["wal_autocheckpoint"] == "10000")
        _ = try await store.write { try $0.createTicket(self.newTicket("synced")) }
        let statistics = store.commitStatistics
        #expect(statistics.writes == 1)
        #expect(statistics.syncs == 1)
        #expect(settings["temp_store"] == "2")
        #expect(settings["busy_timeout"] == "5000")
    }

    @Test func closedStoreRejectsWritesWithATypedError() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let store = try SQLiteTicketStore(path: directory.databasePath, logger: Logger(label: "test"))
        try store.close()
        try store.close()
        let error = await #expect(throws: TicketStoreError.self) {
            try await store.write { try $0.createTicket(self.newTicket("late")) }
        }
        #expect(error?.kind == .closed)
    }

    @Test func unopenablePathIsATypedError() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        // A regular file where the parent directory should be.
        let blocker = directory.url.appendingPathComponent("file")
        try Data("x".utf8).write(to: blocker)
        #expect(throws: TicketStoreError.self) {
            _ = try SQLiteTicketStore(path: blocker.appendingPathComponent("db.sqlite").path, logger: .init(label: "t"))
        }
        // A file that is not a database.
        let garbage = directory.url.appendingPathComponent("garbage.db")
        try Data(repeating: 0x41, count: 8192).write(to: garbage)
        let error = #expect(throws: TicketStoreError.self) {
            _ = try SQLiteTicketStore(path: garbage.path, logger: .init(label: "t"))
        }
        #expect(error?.kind == .corrupt)
    }
}
