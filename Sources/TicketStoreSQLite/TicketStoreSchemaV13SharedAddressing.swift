import GRDB

extension TicketStoreSchema {
    /// v13: the copies of one mail to several people (an agent's reply to the requester and the Cc participants)
    /// show the same `To` and `Cc` (`shared_addresses`, in `AddressColumn`'s form) and carry the Message-ID signed
    /// with the first copy's id (`message_id_of`). NULL in both: the mail names its recipient alone, as before.
    static func registerSharedAddressing(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v13-shared-addressing (2026-12-05): one reply, a copy per recipient") { db in
            try db.execute(sql: "ALTER TABLE outbound_mail ADD COLUMN shared_addresses TEXT")
            try db.execute(sql: "ALTER TABLE outbound_mail ADD COLUMN message_id_of INTEGER")
        }
    }
}
