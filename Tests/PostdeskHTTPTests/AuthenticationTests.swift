import Foundation
import Testing
import TicketStoreSQLite

@testable import PostdeskHTTP

/// Bearer tokens over a real socket: 401 without or with a wrong/revoked token (with `WWW-Authenticate`), 403
/// for a read token that changes something, and the routes that need no token.
@Suite struct AuthenticationTests {
    @Test func missingWrongAndRevokedTokensAre401() async throws {
        let api = try await APIFixture()
        let number = try await api.deliver(MailSamples.rawUTF8(subject: "Schlüssel verloren"))
        let template = "/api/v1/tickets/{number}"

        let none = try await api.request(.GET, "/api/v1/tickets/\(number)", template: template)
        #expect(none.status == 401)
        #expect(none.contentType == "application/problem+json")
        #expect(none.headers.first(name: "www-authenticate")?.hasPrefix("Bearer") == true)
        #expect(none.json["status"] as? Int == 401)

        let wrong = try await api.request(
            .GET, "/api/v1/tickets/\(number)", token: APIToken.generate(), template: template)
        #expect(wrong.status == 401)
        let basic = try await api.request(
            .GET, "/api/v1/tickets", template: "/api/v1/tickets", headers: [("Authorization", "Basic dXNlcjpwdw==")])
        #expect(basic.status == 401)

        #expect(try await api.get("/api/v1/tickets/\(number)", template: template).status == 200)
        try await api.store.revokeAPIToken(name: "reader", at: Date())
        let revoked = try await api.get("/api/v1/tickets/\(number)", template: template)
        #expect(revoked.status == 401, "a revoked token is refused at once")
        #expect(revoked.json["detail"] as? String == "the token is unknown or revoked")

        let check = try api.recorder.checkAgainstSpec()
        #expect(check.status == 0, "\(check.output)")
        await api.tearDown()
    }

    @Test func readScopeCannotChangeAnything() async throws {
        let api = try await APIFixture()
        let number = try await api.deliver(MailSamples.rawUTF8(subject: "Nur lesen"))
        let patch = try await api.request(
            .PATCH, "/api/v1/tickets/\(number)", token: api.readToken, body: #"{"status": "open"}"#,
            template: "/api/v1/tickets/{number}")
        #expect(patch.status == 403)
        #expect(patch.contentType == "application/problem+json")
        let note = try await api.request(
            .POST, "/api/v1/tickets/\(number)/notes", token: api.readToken, body: #"{"text": "nein"}"#,
            template: "/api/v1/tickets/{number}/notes")
        #expect(note.status == 403)
        let ticket = try await api.get("/api/v1/tickets/\(number)", template: "/api/v1/tickets/{number}")
        #expect(ticket.json["status"] as? String == "new", "nothing changed")

        let check = try api.recorder.checkAgainstSpec()
        #expect(check.status == 0, "\(check.output)")
        await api.tearDown()
    }

    @Test func healthAndTheSpecNeedNoTokenAndLastUseIsNoted() async throws {
        let api = try await APIFixture()
        let health = try await api.request(.GET, "/healthz", template: "/healthz")
        #expect(health.status == 200)
        #expect(health.headers.first(name: "x-content-type-options") == "nosniff", "no answer is sniffed")
        let ready = try await api.request(.GET, "/readyz", template: "/readyz")
        #expect(ready.status == 200, "\(ready.text)")
        #expect(ready.json["status"] as? String == "ready")

        let spec = try await api.request(.GET, "/api/v1/openapi.yaml", template: "/api/v1/openapi.yaml")
        #expect(spec.status == 200)
        let file = try String(contentsOf: repositoryRoot.appendingPathComponent("api/openapi.yaml"), encoding: .utf8)
        #expect(spec.text == file, "the served spec is api/openapi.yaml (run scripts/embed-openapi.sh)")

        _ = try await api.get("/api/v1/tickets", template: "/api/v1/tickets")
        var used: Date?
        for _ in 0..<100 {
            used = try await api.store.apiTokens().first { $0.name == "reader" }?.lastUsedAt
            if used != nil { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(used != nil)
        #expect(try await api.store.apiTokens().first { $0.name == "writer" }?.lastUsedAt == nil)

        let check = try api.recorder.checkAgainstSpec()
        #expect(check.status == 0, "\(check.output)")
        await api.tearDown()
    }

    @Test func tokensAreRandomAndOnlyTheirHashIsStored() async throws {
        let first = APIToken.generate()
        let second = APIToken.generate()
        #expect(first != second)
        #expect(first.hasPrefix("pd_"))
        #expect(first.count == 3 + 43)
        #expect(first.dropFirst(3).allSatisfy { $0.isLetter && $0.isASCII || $0.isNumber || $0 == "-" || $0 == "_" })
        #expect(APIToken.hash(first).count == 64)
        #expect(APIToken.constantTimeEquals(APIToken.hash(first), APIToken.hash(first)))
        #expect(!APIToken.constantTimeEquals(APIToken.hash(first), APIToken.hash(second)))
        #expect(!APIToken.constantTimeEquals("ab", "abc"))

        let api = try await APIFixture()
        let stored = try await api.store.apiTokens()
        #expect(stored.map(\.name) == ["reader", "writer"])
        #expect(stored.allSatisfy { $0.hash.count == 64 && !$0.hash.hasPrefix("pd_") })
        await #expect(throws: APITokenError(kind: .duplicateName, name: "reader")) {
            try await api.store.createAPIToken(name: "reader", hash: "00", scope: "read", at: Date())
        }
        try await api.store.revokeAPIToken(name: "writer", at: Date())
        await #expect(throws: APITokenError(kind: .alreadyRevoked, name: "writer")) {
            try await api.store.revokeAPIToken(name: "writer", at: Date())
        }
        await #expect(throws: APITokenError(kind: .unknownName, name: "nobody")) {
            try await api.store.revokeAPIToken(name: "nobody", at: Date())
        }
        await api.tearDown()
    }
}
