import AsyncHTTPClient
import Foundation
import NIOCore
import OAuthTokens
import Testing

/// The fixture server checks what a real authorization server checks, so tests that pass against it mean
/// something: PKCE, redirect URI, single-use codes, introspection as Dovecot's oauth2 passdb asks it.
@Suite struct OAuthTokenServerTests {
    static func post(_ url: String, _ form: String) async throws -> (status: UInt, json: [String: Any]) {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        request.body = .bytes(ByteBuffer(string: form))
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
        let body = try await response.body.collect(upTo: 1 << 20)
        let json = try JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [String: Any] ?? [:]
        return (response.status.code, json)
    }

    @Test func codeNeedsTheRightVerifierAndRedirectAndIsSingleUse() async throws {
        try await OAuthTokenServer.with { server in
            let pkce = OAuthPKCE()
            let request = try OAuthAuthorizationRequest(
                settings: server.settings(.authorizationCode), mailbox: "support",
                redirectURI: "http://127.0.0.1:9/", pkce: pkce)
            var config = HTTPClient.Configuration()
            config.redirectConfiguration = .disallow
            let browser = HTTPClient(eventLoopGroupProvider: .singleton, configuration: config)
            func code() async throws -> String {
                let response = try await browser.execute(
                    HTTPClientRequest(url: request.url.absoluteString), timeout: .seconds(10))
                #expect(response.status.code == 302)
                return try request.authorizationCode(
                    from: response.headers.first(name: "Location") ?? "", mailbox: "support")
            }
            let token = "\(server.base)/token"
            let base = "grant_type=authorization_code&client_id=\(OAuthTokenServer.clientID)"
            let wrongVerifier = try await Self.post(
                token, "\(base)&code=\(try await code())&redirect_uri=http%3A%2F%2F127.0.0.1%3A9%2F&code_verifier=x")
            #expect(wrongVerifier.status == 400 && wrongVerifier.json["error"] as? String == "invalid_grant")
            let wrongRedirect = try await Self.post(
                token,
                "\(base)&code=\(try await code())&redirect_uri=http%3A%2F%2F127.0.0.1%3A8%2F"
                    + "&code_verifier=\(pkce.verifier)")
            #expect(wrongRedirect.status == 400)
            let good = try await code()
            let form = "\(base)&code=\(good)&redirect_uri=http%3A%2F%2F127.0.0.1%3A9%2F&code_verifier=\(pkce.verifier)"
            let accepted = try await Self.post(token, form)
            #expect(accepted.status == 200 && accepted.json["refresh_token"] is String)
            #expect(try await Self.post(token, form).status == 400)
            try await browser.shutdown()
        }
    }

    @Test func introspectionAnswersAsDovecotExpects() async throws {
        try await OAuthTokenServer.with { server in
            let issued = try await server.control("issue", ["user": "other"])
            let access = try #require(issued["access_token"] as? String)
            let active = try await server.introspect(access)
            #expect(active["active"] as? Bool == true && active["username"] as? String == "other")
            #expect((active["exp"] as? NSNumber)?.doubleValue ?? 0 > Date().timeIntervalSince1970 + 3000)
            #expect(try await server.introspect("made-up")["active"] as? Bool == false)
            try await server.control("expire-access")
            #expect(try await server.introspect(access)["active"] as? Bool == false)
        }
    }
}
