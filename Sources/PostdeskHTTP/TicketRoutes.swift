import Foundation
import HTTPTypes
import Hummingbird
import MailParser
import TicketPipeline
import TicketStoreSQLite

/// `/api/v1/tickets`: the list, one ticket, its downloads, changes, internal notes and replies. Reads go to
/// `reader` (WAL snapshots, never blocking the writer); changes go through the store's single writer.
struct TicketRoutes: Sendable {
    let reader: any TicketDatabaseReading
    let store: SQLiteTicketStore
    /// Our side of a mailed reply; nil: outbound mail is off and replies are refused (409).
    let replies: AgentReply.Sender?

    func register(on router: Router<APIRequestContext>) {
        let tickets = router.group("api/v1/tickets")
        tickets.get { request, _ in try await list(request) }
        tickets.get(":number") { _, context in try await show(context) }
        tickets.patch(":number") { request, context in try await change(request, context) }
        tickets.post(":number/notes") { request, context in try await addNote(request, context) }
        tickets.post(":number/replies") { request, context in try await addReply(request, context) }
        tickets.get(":number/articles/:article/raw") { _, context in try await raw(context) }
        tickets.get(":number/articles/:article/attachments/:sha256") { _, context in try await attachment(context) }
    }

    /// The statuses of `status=` and of a change.
    static let statuses = TicketChange.statuses

    private func list(_ request: Request) async throws -> Response {
        var query = TicketListQuery()
        query.limit = try APIInput.integer("limit", request, in: 1...200, default: 50)
        query.queue = APIInput.query("queue", request)
        if let status = APIInput.query("status", request) {
            guard Self.statuses.contains(status) else {
                throw ProblemDetails.badRequest(
                    "status must be one of \(Self.statuses.sorted().joined(separator: ", ")), got '\(status.prefix(40))'"
                )
            }
            query.status = status
        }
        query.requester = APIInput.query("requester", request)
        query.updatedSince = try APIInput.dateTime("updated_since", request)
        if let cursor = try PageCursor.from(APIInput.query("cursor", request), kind: PageCursor.tickets) {
            query.beforeNumber = Int(cursor.last)
        }
        let page = try await reader.ticketPage(query)
        let next =
            page.hasMore
            ? page.tickets.last.map { PageCursor(kind: PageCursor.tickets, last: Int64($0.number)).encoded } : nil
        return try APIResponse.json(
            APIResource.TicketList(tickets: page.tickets.map(APIResource.TicketSummary.init), nextCursor: next))
    }

    private func ticket(_ number: Int) async throws -> TicketDetail {
        guard let ticket = try await reader.ticket(number: number) else {
            throw ProblemDetails.notFound("no ticket #\(number)")
        }
        return ticket
    }

    /// 404 before the body is read: the resource is judged first, then what is asked of it.
    private func requireTicket(_ number: Int) async throws {
        guard try await reader.hasTicket(number: number) else { throw ProblemDetails.notFound("no ticket #\(number)") }
    }

    private func show(_ context: APIRequestContext) async throws -> Response {
        try APIResponse.json(
            APIResource.Ticket(try await ticket(try APIInput.positiveInteger("number", context, as: Int.self))))
    }

    private func change(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        let number = try APIInput.positiveInteger("number", context, as: Int.self)
        try await requireTicket(number)
        let body = try await APIInput.jsonObject(
            request, allowed: ["status", "priority", "category", "type", "assignee"])
        var change = TicketChange()
        if let status = try APIInput.textField("status", in: body, nullable: false) {
            guard let status, Self.statuses.contains(status) else {
                throw ProblemDetails.unprocessable(
                    "status must be one of \(Self.statuses.sorted().joined(separator: ", "))")
            }
            change.status = status
        }
        change.priority = try APIInput.textField("priority", in: body, nullable: true)
        change.category = try APIInput.textField("category", in: body, nullable: true)
        change.type = try APIInput.textField("type", in: body, nullable: true)
        change.assignee = try APIInput.textField("assignee", in: body, nullable: true)
        guard !change.isEmpty else {
            throw ProblemDetails.unprocessable("name at least one of status, priority, category, type, assignee")
        }
        guard
            try await store.changeTicket(
                number: number, change, actor: "token \(context.tokenName ?? "?")", at: Date()) != nil
        else { throw ProblemDetails.notFound("no ticket #\(number)") }
        return try APIResponse.json(APIResource.Ticket(try await ticket(number)))
    }

    private func addNote(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        let number = try APIInput.positiveInteger("number", context, as: Int.self)
        try await requireTicket(number)
        let body = try await APIInput.jsonObject(request, allowed: ["text"])
        let text = try APIInput.bodyText("text", in: body, maxLength: 100_000)
        guard
            let articleID = try await store.addInternalNote(
                number: number, text: text, author: "token \(context.tokenName ?? "?")", at: Date())
        else { throw ProblemDetails.notFound("no ticket #\(number)") }
        guard let article = try await ticket(number).articles.first(where: { $0.id == articleID }) else {
            throw ProblemDetails.notFound("the note \(articleID) of ticket #\(number) is gone")
        }
        var response = try APIResponse.json(APIResource.Article(article, ticket: number), status: .created)
        response.headers[.location] = "/api/v1/tickets/\(number)/articles/\(articleID)"
        return response
    }

    /// Mails an agent's answer to the requester and the ticket's Cc participants (see `AgentReply`).
    private func addReply(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        let number = try APIInput.positiveInteger("number", context, as: Int.self)
        try await requireTicket(number)
        guard let replies else {
            throw ProblemDetails.make(
                "outbound-off", .conflict,
                "outbound mail is not configured (outbound.relay or outbound.sendmail): a reply cannot be sent")
        }
        let body = try await APIInput.jsonObject(request, allowed: ["text", "html", "cc", "status"])
        let text = try APIInput.bodyText("text", in: body, maxLength: 100_000)
        var html: String?
        if let value = body["html"], !(value is NSNull) {
            guard let value = value as? String, value.unicodeScalars.count <= 500_000 else {
                throw ProblemDetails.unprocessable("html must be a string of at most 500000 characters, or null")
            }
            html = value
        }
        var cc: [MailAddress] = []
        if let value = body["cc"] {
            guard let list = value as? [Any], list.count <= 20 else {
                throw ProblemDetails.unprocessable("cc must be an array of at most 20 addresses")
            }
            for item in list {
                guard let address = item as? String, APIInput.isPlainAddress(address) else {
                    throw ProblemDetails.unprocessable(
                        "cc must hold plain addresses (local@domain, ASCII), got '\(String(describing: item).prefix(80))'"
                    )
                }
                cc.append(MailAddress(name: nil, address: address))
            }
        }
        var status: String?
        if let given = try APIInput.textField("status", in: body, nullable: false) {
            guard let given, Self.statuses.contains(given) else {
                throw ProblemDetails.unprocessable(
                    "status must be one of \(Self.statuses.sorted().joined(separator: ", "))")
            }
            status = given
        }
        let written: AgentReply.Written?
        do {
            written = try await store.addAgentReply(
                AgentReply(
                    ticketNumber: number, text: text, html: html, cc: cc, status: status,
                    author: "token \(context.tokenName ?? "?")", date: Date()),
                sender: replies)
        } catch let refusal as AgentReply.Refusal {
            throw ProblemDetails.make("no-requester", .conflict, refusal.description)
        }
        guard let written else { throw ProblemDetails.notFound("no ticket #\(number)") }
        guard let article = try await ticket(number).articles.first(where: { $0.id == written.articleID }) else {
            throw ProblemDetails.notFound("the reply \(written.articleID) of ticket #\(number) is gone")
        }
        var response = try APIResponse.json(APIResource.Article(article, ticket: number), status: .created)
        response.headers[.location] = "/api/v1/tickets/\(number)/articles/\(written.articleID)"
        return response
    }

    private func raw(_ context: APIRequestContext) async throws -> Response {
        let number = try APIInput.positiveInteger("number", context, as: Int.self)
        let article = try APIInput.positiveInteger("article", context, as: Int64.self)
        guard let bytes = try await reader.rawMessage(ticket: number, article: article) else {
            throw ProblemDetails.notFound("ticket #\(number) has no article \(article) stored from a message")
        }
        return APIResponse.download(
            bytes, contentType: "message/rfc822", filename: "ticket-\(number)-article-\(article).eml")
    }

    private func attachment(_ context: APIRequestContext) async throws -> Response {
        let number = try APIInput.positiveInteger("number", context, as: Int.self)
        let article = try APIInput.positiveInteger("article", context, as: Int64.self)
        let sha256 = context.parameters.get("sha256") ?? ""
        guard sha256.utf8.count == 64,
            sha256.utf8.allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x66).contains($0) })
        else { throw ProblemDetails.badRequest("sha256 must be 64 lower-case hex digits") }
        guard let found = try await reader.attachment(ticket: number, article: article, sha256: sha256) else {
            throw ProblemDetails.notFound("article \(article) of ticket #\(number) has no attachment \(sha256)")
        }
        return APIResponse.download(
            found.content, contentType: Self.safeContentType(found.info.contentType),
            filename: found.info.filename ?? "attachment-\(sha256.prefix(12))")
    }

    /// The attachment's declared `type/subtype` when it is a plain token pair, else `application/octet-stream`:
    /// parameters and odd bytes from mail never reach the header.
    static func safeContentType(_ declared: String) -> String {
        let type = declared.split(separator: ";", maxSplits: 1).first.map { $0.trimmingCharacters(in: .whitespaces) }
        guard let type, type.utf8.count <= 100 else { return "application/octet-stream" }
        let parts = type.split(separator: "/", omittingEmptySubsequences: false)
        let token: (Substring) -> Bool = { part in
            !part.isEmpty
                && part.utf8.allSatisfy {
                    (0x30...0x39).contains($0) || (0x41...0x5A).contains($0) || (0x61...0x7A).contains($0)
                        || "!#$&-^_.+".utf8.contains($0)
                }
        }
        return parts.count == 2 && token(parts[0]) && token(parts[1]) ? type.lowercased() : "application/octet-stream"
    }
}
