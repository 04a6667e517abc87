import Foundation
import Hummingbird
import TicketPipeline
import TicketStoreSQLite

/// `/api/v1/messages`, `/bounces`, `/quarantine` (+ replay), `/commands` and `/mailboxes`: the pipeline's records,
/// newest first, a page of at most `limit` (≤ 200) at a time with an opaque cursor like the ticket list. Fields
/// that are empty for a record are left out.
struct RecordRoutes: Sendable {
    let reader: any TicketDatabaseReading
    /// Runs a quarantined message through the pipeline again; nil: replay is not offered (503).
    let replay: (@Sendable (Int64) async throws -> ReplayOutcome)?

    struct QuarantineItem: Encodable, Sendable {
        var id: Int64
        var receivedAt: Date
        var source: String
        var sessionId: String?
        var envelopeSender: String
        var envelopeRecipients: [String]
        var size: Int
        var error: String
        var replayedAt: Date?
        var replayResult: String?
        var rawUrl: String

        init(_ entry: QuarantineEntry) {
            id = entry.id
            receivedAt = entry.receivedAt
            source = entry.source.rawValue
            sessionId = entry.sessionID
            envelopeSender = entry.envelopeSender
            envelopeRecipients = entry.envelopeRecipients
            size = entry.size
            error = entry.error
            replayedAt = entry.replayedAt
            replayResult = entry.replayResult
            rawUrl = "/api/v1/quarantine/\(entry.id)/raw"
        }
    }

    struct ReplayResult: Encodable, Sendable {
        var id: Int64
        var outcome: String
        var detail: String
        var recipients: [RecipientResult]
    }

    struct RecipientResult: Encodable, Sendable {
        var recipient: String
        var result: String
        var ticket: Int?
    }

    /// A page of a record list; `next_cursor` is null on the last page.
    struct Listing<Item: Encodable & Sendable>: Encodable, Sendable {
        var items: [Item]
        var nextCursor: String?

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(items, forKey: .items)
            try container.encode(nextCursor, forKey: .nextCursor)
        }

        enum CodingKeys: String, CodingKey { case items, nextCursor }
    }

    /// One page of a list ordered by descending id: `fetch` is asked for one row more than `limit` to learn
    /// whether another page follows.
    static func page<Record, Item: Encodable & Sendable>(
        _ request: Request, kind: String, id: (Record) -> Int64, item: (Record) -> Item,
        fetch: (_ beforeID: Int64?, _ limit: Int) async throws -> [Record]
    ) async throws -> Response {
        let limit = try APIInput.integer("limit", request, in: 1...200, default: 50)
        let cursor = try PageCursor.from(APIInput.query("cursor", request), kind: kind)
        let rows = try await fetch(cursor?.last, limit + 1)
        let shown = rows.prefix(limit)
        let next = rows.count > limit ? shown.last.map { PageCursor(kind: kind, last: id($0)).encoded } : nil
        return try APIResponse.json(Listing(items: shown.map(item), nextCursor: next))
    }

    func register(on router: Router<APIRequestContext>) {
        let api = router.group("api/v1")
        api.get("messages") { request, _ in
            try await Self.page(request, kind: PageCursor.messages, id: \MessageRecord.id, item: { $0 }) {
                try await reader.messageRecords(beforeID: $0, limit: $1)
            }
        }
        api.get("bounces") { request, _ in
            let unmatched = try Self.flag("unmatched", request)
            return try await Self.page(request, kind: PageCursor.bounces, id: \BounceRecord.id, item: { $0 }) {
                try await reader.bounceRecords(unmatchedOnly: unmatched, beforeID: $0, limit: $1)
            }
        }
        api.get("quarantine") { request, _ in
            try await Self.page(
                request, kind: PageCursor.quarantine, id: \QuarantineEntry.id, item: QuarantineItem.init
            ) {
                try await reader.quarantinedMessages(beforeID: $0, limit: $1)
            }
        }
        api.get("quarantine/:id") { _, context in
            try APIResponse.json(QuarantineItem(try await quarantined(context)))
        }
        api.get("quarantine/:id/raw") { _, context in
            let entry = try await quarantined(context)
            return APIResponse.download(
                entry.raw, contentType: "message/rfc822", filename: "quarantine-\(entry.id).eml")
        }
        api.post("quarantine/:id/replay") { _, context in try await replay(context) }
        api.get("commands") { request, _ in
            let sender = try Self.sender(request)
            return try await Self.page(request, kind: PageCursor.mailCommands, id: \MailCommandRecord.id, item: { $0 })
            {
                try await reader.mailCommandRecords(beforeID: $0, limit: $1, sender: sender)
            }
        }
        api.get("mailboxes") { _, _ in
            try APIResponse.json(Listing(items: try await reader.mailboxStatuses(), nextCursor: nil))
        }
    }

    /// `sender=`: an address, compared as the audit trail stores it (lower-cased addr-spec); nil when absent.
    static func sender(_ request: Request) throws -> String? {
        try APIInput.query("sender", request).map { try APIInput.address($0, name: "sender") }
    }

    private func quarantined(_ context: APIRequestContext) async throws -> QuarantineEntry {
        let id = try APIInput.positiveInteger("id", context, as: Int64.self)
        guard let entry = try await reader.quarantinedMessage(id: id) else {
            throw ProblemDetails.notFound("no quarantine entry \(id)")
        }
        return entry
    }

    private func replay(_ context: APIRequestContext) async throws -> Response {
        let id = try APIInput.positiveInteger("id", context, as: Int64.self)
        guard let replay else { throw ProblemDetails.unavailable("this server does not replay quarantined mail") }
        switch try await replay(id) {
        case .notFound:
            throw ProblemDetails.notFound("no quarantine entry \(id)")
        case .alreadyReplayed(let result):
            throw ProblemDetails.make("already-replayed", .conflict, "quarantine entry \(id) was replayed: \(result)")
        case .failed(let reason):
            return try APIResponse.json(
                ReplayResult(id: id, outcome: "failed", detail: reason, recipients: []), status: .ok)
        case .replayed(let outcomes):
            // What the replay did, as recorded on the entry (a replay in another process reports only that).
            let recorded = try await reader.quarantinedMessage(id: id)?.replayResult ?? ""
            return try APIResponse.json(
                ReplayResult(
                    id: id, outcome: "replayed", detail: recorded,
                    recipients: outcomes.map { Self.recipientResult($0) }))
        }
    }

    private static func recipientResult(_ outcome: RecipientOutcome) -> RecipientResult {
        switch outcome.result {
        case .created(let ticket): RecipientResult(recipient: outcome.recipient, result: "created", ticket: ticket)
        case .appended(let ticket): RecipientResult(recipient: outcome.recipient, result: "appended", ticket: ticket)
        case .duplicate(let ticket): RecipientResult(recipient: outcome.recipient, result: "duplicate", ticket: ticket)
        case .noted(let ticket): RecipientResult(recipient: outcome.recipient, result: "noted", ticket: ticket)
        case .recorded(let disposition):
            RecipientResult(recipient: outcome.recipient, result: "recorded \(disposition.rawValue)", ticket: nil)
        case .quarantined(let id):
            RecipientResult(recipient: outcome.recipient, result: "quarantined again as \(id)", ticket: nil)
        default:
            RecipientResult(recipient: outcome.recipient, result: "\(outcome.result)", ticket: nil)
        }
    }

    static func flag(_ name: String, _ request: Request) throws -> Bool {
        switch APIInput.query(name, request) {
        case nil, "false": return false
        case "true": return true
        case let other?: throw ProblemDetails.badRequest("\(name) must be true or false, got '\(other.prefix(40))'")
        }
    }
}
