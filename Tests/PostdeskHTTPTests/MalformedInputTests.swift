import Foundation
import NIOHTTP1
import Testing

@testable import PostdeskHTTP

/// No endpoint answers 5xx for malformed input: bad numbers, bad cursors, bad query values, bad JSON, unknown
/// fields, wrong types, bodies too large. Each gets a precise problem (400, 404, 413 or 422).
@Suite struct MalformedInputTests {
    struct Case: Sendable, CustomStringConvertible {
        var method: HTTPMethod
        var path: String
        var body: String?
        var status: Int
        /// The spec path, when the request matches one of its routes.
        var template: String?

        var description: String { "\(method) \(path) \(body ?? "")" }
    }

    static let ticket = "/api/v1/tickets/{number}"
    static let list = "/api/v1/tickets"

    static func cases(number: Int) -> [Case] {
        let long = String(repeating: "x", count: 201)
        return [
            Case(method: .GET, path: "/api/v1/tickets/abc", status: 400, template: ticket),
            Case(method: .GET, path: "/api/v1/tickets/0", status: 400, template: ticket),
            Case(method: .GET, path: "/api/v1/tickets/-1", status: 400, template: ticket),
            Case(method: .GET, path: "/api/v1/tickets/1e3", status: 400, template: ticket),
            Case(method: .GET, path: "/api/v1/tickets/99999999999999999999999", status: 400, template: ticket),
            Case(method: .GET, path: "/api/v1/tickets/9223372036854775807", status: 404, template: ticket),
            Case(method: .GET, path: "/api/v1/tickets/%F0%9F%92%A5", status: 400, template: ticket),
            Case(method: .GET, path: "/api/v1/tickets/999999", status: 404, template: ticket),
            Case(
                method: .GET, path: "/api/v1/tickets/\(number)/articles/x/raw", status: 400,
                template: "/api/v1/tickets/{number}/articles/{article}/raw"),
            Case(
                method: .GET, path: "/api/v1/tickets/\(number)/articles/424242/raw", status: 404,
                template: "/api/v1/tickets/{number}/articles/{article}/raw"),
            Case(
                method: .GET, path: "/api/v1/tickets/\(number)/articles/1/attachments/NOTHEX", status: 400,
                template: "/api/v1/tickets/{number}/articles/{article}/attachments/{sha256}"),
            Case(
                method: .GET,
                path: "/api/v1/tickets/\(number)/articles/1/attachments/" + String(repeating: "a", count: 64),
                status: 404, template: "/api/v1/tickets/{number}/articles/{article}/attachments/{sha256}"),
            Case(method: .GET, path: "/api/v1/tickets?cursor=!!!", status: 400, template: list),
            Case(method: .GET, path: "/api/v1/tickets?cursor=dDE6LTU", status: 400, template: list),
            Case(method: .GET, path: "/api/v1/tickets?cursor=eHg6NQ", status: 400, template: list),
            Case(
                method: .GET, path: "/api/v1/tickets?cursor=" + String(repeating: "QUFB", count: 100), status: 400,
                template: list),
            Case(method: .GET, path: "/api/v1/tickets?limit=0", status: 400, template: list),
            Case(method: .GET, path: "/api/v1/tickets?limit=201", status: 400, template: list),
            Case(method: .GET, path: "/api/v1/tickets?limit=ten", status: 400, template: list),
            Case(method: .GET, path: "/api/v1/tickets?limit=99999999999999999999999", status: 400, template: list),
            Case(method: .GET, path: "/api/v1/tickets?status=burning", status: 400, template: list),
            Case(method: .GET, path: "/api/v1/tickets?updated_since=yesterday", status: 400, template: list),
            Case(method: .GET, path: "/api/v1/tickets?updated_since=2026-13-45T99:00:00Z", status: 400, template: list),
            Case(method: .GET, path: "/api/v1/messages?limit=-3", status: 400, template: "/api/v1/messages"),
            Case(method: .GET, path: "/api/v1/bounces?unmatched=maybe", status: 400, template: "/api/v1/bounces"),
            Case(method: .GET, path: "/api/v1/quarantine/abc", status: 400, template: "/api/v1/quarantine/{id}"),
            Case(method: .GET, path: "/api/v1/quarantine/77", status: 404, template: "/api/v1/quarantine/{id}"),
            Case(method: .GET, path: "/api/v1/nothing-here", status: 404),
            Case(method: .PATCH, path: "/api/v1/tickets/\(number)", body: "{", status: 400, template: ticket),
            Case(method: .PATCH, path: "/api/v1/tickets/\(number)", body: "", status: 400, template: ticket),
            Case(method: .PATCH, path: "/api/v1/tickets/\(number)", body: "[1, 2]", status: 400, template: ticket),
            Case(method: .PATCH, path: "/api/v1/tickets/\(number)", body: "\"open\"", status: 400, template: ticket),
            Case(method: .PATCH, path: "/api/v1/tickets/\(number)", body: "{}", status: 422, template: ticket),
            Case(
                method: .PATCH, path: "/api/v1/tickets/\(number)", body: #"{"status": "burning"}"#, status: 422,
                template: ticket),
            Case(
                method: .PATCH, path: "/api/v1/tickets/\(number)", body: #"{"status": null}"#, status: 422,
                template: ticket),
            Case(
                method: .PATCH, path: "/api/v1/tickets/\(number)", body: #"{"status": 3}"#, status: 422,
                template: ticket),
            Case(
                method: .PATCH, path: "/api/v1/tickets/\(number)", body: #"{"priority": ["a"]}"#, status: 422,
                template: ticket),
            Case(
                method: .PATCH, path: "/api/v1/tickets/\(number)", body: #"{"assignee": "\#(long)"}"#, status: 422,
                template: ticket),
            Case(
                method: .PATCH, path: "/api/v1/tickets/\(number)", body: #"{"assignee": "a\u0007b"}"#, status: 422,
                template: ticket),
            Case(
                method: .PATCH, path: "/api/v1/tickets/\(number)", body: #"{"status": "open", "colour": "red"}"#,
                status: 422, template: ticket),
            Case(
                method: .PATCH, path: "/api/v1/tickets/999999", body: #"{"status": "open"}"#, status: 404,
                template: ticket),
            Case(
                method: .POST, path: "/api/v1/tickets/\(number)/notes", body: #"{"text": ""}"#, status: 422,
                template: "/api/v1/tickets/{number}/notes"),
            Case(
                method: .POST, path: "/api/v1/tickets/\(number)/notes", body: #"{"text": 5}"#, status: 422,
                template: "/api/v1/tickets/{number}/notes"),
            Case(
                method: .POST, path: "/api/v1/tickets/\(number)/notes", body: #"{"txt": "x"}"#, status: 422,
                template: "/api/v1/tickets/{number}/notes"),
            Case(
                method: .POST, path: "/api/v1/tickets/\(number)/notes", body: "\u{FF}\u{FE}", status: 400,
                template: "/api/v1/tickets/{number}/notes"),
            Case(
                method: .POST, path: "/api/v1/tickets/\(number)/notes",
                body: #"{"text": "\#(String(repeating: "ü", count: 100_001))"}"#, status: 422,
                template: "/api/v1/tickets/{number}/notes"),
            Case(
                method: .POST, path: "/api/v1/tickets/\(number)/notes", body: #"{"text": " \n\t "}"#, status: 422,
                template: "/api/v1/tickets/{number}/notes"),
            Case(
                method: .POST, path: "/api/v1/tickets/\(number)/notes",
                body: #"{"text": "\#(String(repeating: "ü", count: 1_100_000))"}"#, status: 413,
                template: "/api/v1/tickets/{number}/notes"),
            Case(method: .GET, path: "/api/v1/tickets?updated_since=", status: 400, template: list),
            Case(method: .GET, path: "/api/v1/tickets?cursor=", status: 400, template: list),
            Case(method: .GET, path: "/api/v1/tickets?limit=", status: 400, template: list),
            Case(
                method: .PATCH, path: "/api/v1/tickets/\(number)", body: #"{"assignee": "\u2028 "}"#, status: 422,
                template: ticket),
            Case(
                method: .POST, path: "/api/v1/quarantine/55/replay", status: 404,
                template: "/api/v1/quarantine/{id}/replay"),
        ]
    }

    @Test func malformedRequestsGetProblemsNever5xx() async throws {
        let api = try await APIFixture()
        let number = try await api.deliver(MailSamples.rawUTF8(subject: "Kaputte Eingaben"))
        for testCase in Self.cases(number: number) {
            let reply = try await api.request(
                testCase.method, testCase.path, token: api.writeToken, body: testCase.body,
                template: testCase.template)
            #expect(reply.status == testCase.status, "\(testCase): \(reply.text.prefix(300))")
            #expect(reply.status < 500, "\(testCase)")
            #expect(reply.contentType == "application/problem+json", "\(testCase)")
            let problem = reply.json
            #expect(problem["status"] as? Int == reply.status, "\(testCase)")
            #expect((problem["detail"] as? String)?.isEmpty == false, "\(testCase)")
            #expect(problem["type"] is String && problem["title"] is String, "\(testCase)")
        }
        let delete = try await api.request(.DELETE, "/api/v1/tickets/\(number)", token: api.writeToken, template: nil)
        #expect(delete.status == 405)
        #expect(delete.headers.first(name: "allow") == "GET, HEAD, PATCH")
        #expect(delete.contentType == "application/problem+json")
        let put = try await api.request(.PUT, "/healthz", template: nil)
        #expect(put.status == 405)
        let head = try await api.request(.HEAD, "/api/v1/tickets", token: api.readToken, template: nil)
        #expect(head.status == 200)
        #expect(head.body.isEmpty)

        let ticket = try await api.get("/api/v1/tickets/\(number)", template: Self.ticket)
        #expect(ticket.json["status"] as? String == "new", "no malformed change was applied")
        #expect((ticket.json["articles"] as? [Any])?.count == 1)

        let check = try api.recorder.checkAgainstSpec()
        #expect(check.status == 0, "\(check.output)")
        await api.tearDown()
    }
}
