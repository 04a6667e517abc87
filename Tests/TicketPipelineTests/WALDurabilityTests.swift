import Foundation
import Logging
import Testing
import TicketPipeline

@testable import TicketStoreSQLite

@Suite("WAL durability: a batch is finished only after its fsync")
struct WALDurabilityTests {
    @Test func syncsTheWALAndCountsEachSync() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.url.appendingPathComponent("store.db").path
        _ = FileManager.default.createFile(atPath: path + "-wal", contents: Data("frames".utf8))
        let durability = WALDurability(databasePath: path, logger: Logger(label: "test"))
        for _ in 0..<3 { #expect(durability.makeDurable() == nil) }
        #expect(durability.syncCount == 3)
        #expect(durability.failure == nil)
    }

    @Test func syncsTheDatabaseFileWhenThereIsNoWAL() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.url.appendingPathComponent("store.db").path
        _ = FileManager.default.createFile(atPath: path, contents: Data("pages".utf8))
        let durability = WALDurability(databasePath: path, logger: Logger(label: "test"))
        #expect(durability.makeDurable() == nil)
        #expect(durability.syncCount == 1)
    }

    @Test func aFailedFsyncFailsEveryLaterSync() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        // Neither the WAL nor the database file exists: the fsync cannot happen.
        let path = directory.url.appendingPathComponent("missing/store.db").path
        let durability = WALDurability(databasePath: path, logger: Logger(label: "test"))
        let first = durability.makeDurable()
        #expect(first?.kind == .io)
        #expect(first?.operation.contains("store.db") == true)
        // Nothing written since can be promised any more, even once the file is there: the same error, no sync.
        try FileManager.default.createDirectory(
            atPath: directory.url.appendingPathComponent("missing").path, withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: path + "-wal", contents: Data("frames".utf8))
        #expect(durability.makeDurable()?.description == first?.description)
        #expect(durability.syncCount == 1)
        #expect(durability.failure?.description == first?.description)
    }
}
