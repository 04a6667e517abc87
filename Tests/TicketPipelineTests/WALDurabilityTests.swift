import Foundation
import Logging
import MessageSpool
import Testing
import TicketPipeline

@testable import TicketStoreSQLite

/// The latch itself; the failing-disk proof runs a real daemon under a fault injector (IntegrationTests,
/// `FsyncFailureTests`).
@Suite("WAL durability: the first I/O error stops every later write")
struct WALDurabilityTests {
    @Test func anIOErrorLatchesAndOtherErrorsDoNot() {
        let durability = WALDurability(logger: Logger(label: "test"))
        durability.committed()
        #expect(durability.syncCount == 1)
        let full = TicketStoreError(kind: .full, operation: "commit", path: "/x", underlying: "disk full")
        #expect(!durability.latch(full))
        #expect(durability.failure == nil)
        let io = TicketStoreError(kind: .io, operation: "commit", path: "/x", underlying: "disk I/O error")
        #expect(durability.latch(io))
        let later = TicketStoreError(kind: .io, operation: "commit", path: "/x", underlying: "second")
        #expect(durability.latch(later))
        // The first error stays the reason.
        #expect(durability.failure?.description == io.description)
    }

    @Test func theStoreDirectoryIsSyncedAndAMissingOneIsAnError() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let descriptor = DirectorySync.openForSync(directory.url.path)
        defer { close(descriptor) }
        let store = directory.url.appendingPathComponent("store.db").path
        #expect(WALDurability.syncDirectory(descriptor: descriptor, openError: 0, of: store) == nil)
        let gone = directory.url.appendingPathComponent("gone/store.db").path
        let failed = DirectorySync.openForSync(directory.url.appendingPathComponent("gone").path)
        #expect(failed == -1)
        let missing = WALDurability.syncDirectory(descriptor: failed, openError: ENOENT, of: gone)
        #expect(missing?.kind == .io)
        #expect(missing?.operation.contains("gone") == true)
    }
}
