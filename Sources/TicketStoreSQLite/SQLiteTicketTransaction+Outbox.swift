import Foundation
import MailParser
import TicketPipeline

extension SQLiteTicketTransaction {
    /// One cached INSERT on the writer: the payload was built by the pipeline, the id is made here.
    @discardableResult
    func recordEvent(_ event: NewOutboxEvent) throws -> String {
        let eventID = OutboxEventID.make(at: event.createdAt)
        let statement = try WriterStatement(
            db,
            """
            INSERT INTO outbox(event_id, type, ticket_number, article_id, payload, created_at)
            VALUES (?, ?, ?, ?, ?, ?)
            """)
        statement.bind(1, eventID)
        statement.bind(2, event.type.rawValue)
        statement.bind(3, event.ticketNumber.map { Int64($0) })
        statement.bind(4, event.articleID)
        statement.bind(5, event.payload)
        statement.bind(6, event.createdAt.timeIntervalSince1970)
        try statement.execute()
        return eventID
    }
}

/// Stable event ids: `evt_`, the creation time in milliseconds (12 hex digits), then 80 random bits (20 hex
/// digits). Time first, so the unique index on them grows at its end instead of dirtying a random page per event.
enum OutboxEventID {
    static func make(at time: Date) -> String {
        var generator = SystemRandomNumberGenerator()
        let milliseconds = UInt64(max(0, time.timeIntervalSince1970 * 1000))
        var bytes: [UInt8] = []
        bytes.reserveCapacity(16)
        for shift in stride(from: 40, through: 0, by: -8) {
            bytes.append(UInt8(truncatingIfNeeded: milliseconds >> shift))
        }
        let random = generator.next() as UInt64
        let more = generator.next() as UInt16
        for shift in stride(from: 56, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: random >> shift)) }
        bytes.append(UInt8(truncatingIfNeeded: more >> 8))
        bytes.append(UInt8(truncatingIfNeeded: more))
        return "evt_" + HexEncoding.lowercase(bytes)
    }
}
