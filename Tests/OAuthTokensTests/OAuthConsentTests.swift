import AsyncHTTPClient
import Foundation
import NIOCore
import Synchronization
import Testing

@testable import OAuthTokens

/// Each consent flow end to end against the local token server; the test plays the person at the browser.
@Suite struct OAuthConsentTests {
    /// The browser: GET the consent URL, follow the 302 into the loopback listener, return its page.
    static func browse(_ url: URL) async throws -> (status: UInt, page: String) {
        let response = try await HTTPClient.shared.execute(
            HTTPClientRequest(url: url.absoluteString), timeout: .seconds(10))
        let body = try await response.body.collect(upTo: 1 << 20)
        return (response.status.code, String(buffer: body))
    }

    static func presenter(
        showAuthorizationURL: @escaping @Sendable (URL) async -> Void = { _ in },
        readPastedResponse: (@Sendable () async -> String?)? = nil,
        showDeviceCode: @escaping @Sendable (OAuthDeviceAuthorization) async -> Void = { _ in }
    ) -> OAuthConsentPresenter {
        OAuthConsentPresenter(
            showAuthorizationURL: showAuthorizationURL, readPastedResponse: readPastedResponse,
            showDeviceCode: showDeviceCode)
    }

    @Test func authorizationCodeThroughTheLoopbackRedirect() async throws {
        try await OAuthTokenServer.with { server in
            let store = try OAuthTokenStore(directory: server.scratch("tokens"))
            let page = Mutex<(UInt, String)?>(nil)
            let seenURL = Mutex<URL?>(nil)
            let health = try await OAuthConsent.run(
                settings: server.settings(.authorizationCode, secret: nil), mailbox: "support", store: store,
                presenter: Self.presenter(showAuthorizationURL: { url in
                    seenURL.withLock { $0 = url }
                    let answer = try? await Self.browse(url)
                    page.withLock { $0 = answer }
                }), loginHint: "other")
            #expect(health.hasTokens && !health.consentRequired && health.refreshTokenObtainedAt != nil)
            let url = try #require(seenURL.withLock { $0 })
            let query = try #require(URLComponents(url: url, resolvingAgainstBaseURL: false)?.queryItems)
            #expect(query.first { $0.name == "code_challenge_method" }?.value == "S256")
            #expect(query.first { $0.name == "redirect_uri" }?.value?.hasPrefix("http://127.0.0.1:") == true)
            #expect(query.first { $0.name == "scope" }?.value == "mail offline_access")
            #expect(page.withLock { $0 }?.0 == 200)
            #expect(page.withLock { $0 }?.1.contains("Postdesk received the authorization") == true)

            // The stored tokens work: a manager hands out the access token, which is the consenting user's.
            let manager = OAuthTokenManager(
                store: store, mailboxes: ["support": server.settings(.authorizationCode, secret: nil)])
            let access = try await manager.accessToken(for: "support")
            #expect(try await server.introspect(access)["username"] as? String == "other")
            #expect(try await server.tokenRequests(grant: "authorization_code") == (1, 1))
        }
    }

    /// `postdesk oauth login` in another process while the daemon runs: the daemon's manager, stuck on a
    /// revoked refresh token, picks up the new tokens at its next call, without a restart.
    @Test func newConsentIsPickedUpByARunningManager() async throws {
        try await OAuthTokenServer.with { server in
            let directory = server.scratch("tokens")
            let daemonStore = try OAuthTokenStore(directory: directory)
            let revoked = try await server.seed(daemonStore, mailbox: "support")
            try await server.control("revoke", ["refresh_token": revoked.refreshToken!])
            try await server.control("expire-access")
            let settings = server.settings(.authorizationCode)
            let daemon = OAuthTokenManager(store: daemonStore, mailboxes: ["support": settings])
            await daemon.tokenRejected(for: "support")
            let dead = await #expect(throws: OAuthError.self) { try await daemon.accessToken(for: "support") }
            #expect(dead?.needsConsent == true)

            _ = try await OAuthConsent.run(
                settings: settings, mailbox: "support", store: try OAuthTokenStore(directory: directory),
                presenter: Self.presenter(showAuthorizationURL: { url in _ = try? await Self.browse(url) }))
            let access = try await daemon.accessToken(for: "support")
            #expect(try await server.introspect(access)["active"] as? Bool == true)
            let health = await daemon.health(for: "support")
            #expect(!health.consentRequired && health.lastError == nil)
            #expect(try await server.tokenRequests(grant: "refresh_token").all == 1)
        }
    }

    @Test func authorizationCodePastedFromAnotherMachine() async throws {
        try await OAuthTokenServer.with { server in
            let store = try OAuthTokenStore(directory: server.scratch("tokens"))
            // The browser is elsewhere: it gets the 302 but cannot reach our listener; the person pastes the
            // address bar's URL.
            let location = Mutex<String?>(nil)
            let health = try await OAuthConsent.run(
                settings: server.settings(.authorizationCode), mailbox: "support", store: store,
                presenter: Self.presenter(
                    showAuthorizationURL: { url in
                        var config = HTTPClient.Configuration()
                        config.redirectConfiguration = .disallow
                        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: config)
                        let response = try? await client.execute(
                            HTTPClientRequest(url: url.absoluteString), timeout: .seconds(10))
                        location.withLock { $0 = response?.headers.first(name: "Location") }
                        try? await client.shutdown()
                    },
                    readPastedResponse: {
                        for _ in 0..<500 {
                            if let pasted = location.withLock({ $0 }) { return "  \(pasted)\n" }
                            try? await Task.sleep(for: .milliseconds(20))
                        }
                        return nil
                    }))
            #expect(health.hasTokens)
            #expect(try await server.tokenRequests(grant: "authorization_code") == (1, 1))
        }
    }

    @Test func redirectWithAnotherStateIsRefused() async throws {
        try await OAuthTokenServer.with { server in
            let store = try OAuthTokenStore(directory: server.scratch("tokens"))
            let page = Mutex<UInt?>(nil)
            let error = await #expect(throws: OAuthError.self) {
                _ = try await OAuthConsent.run(
                    settings: server.settings(.authorizationCode), mailbox: "support", store: store,
                    presenter: Self.presenter(showAuthorizationURL: { url in
                        // A forged redirect straight to the listener, with a state we did not send.
                        let query = URLComponents(url: url, resolvingAgainstBaseURL: false)!.queryItems!
                        let redirect = query.first { $0.name == "redirect_uri" }!.value!
                        let answer = try? await Self.browse(URL(string: redirect + "?code=stolen&state=forged")!)
                        page.withLock { $0 = answer?.status }
                    }))
            }
            #expect(error?.kind == .stateMismatch && error?.mailbox == "support")
            #expect(page.withLock { $0 } == 400)
            #expect(try store.load("support") == nil)
            #expect(try await server.tokenRequests(grant: "authorization_code").all == 0)
        }
    }

    @Test func consentDeclinedInTheBrowserIsAccessDenied() throws {
        let request = try OAuthAuthorizationRequest(
            settings: OAuthClientSettings(provider: .google, clientID: "id", flow: .authorizationCode),
            mailbox: "gmail", redirectURI: "http://127.0.0.1:1/")
        let error = #expect(throws: OAuthError.self) {
            try request.authorizationCode(
                from:
                    "http://127.0.0.1:1/?error=access_denied&error_description=The+user+said+no&state=\(request.state)",
                mailbox: "gmail")
        }
        #expect(error?.kind == .accessDenied && error?.serverDescription == "The user said no")
        #expect(try request.authorizationCode(from: "4/0AbCd-ef_1\n", mailbox: "gmail") == "4/0AbCd-ef_1")
        #expect(
            try request.authorizationCode(from: "code=a%2Fb&state=\(request.state)", mailbox: "gmail") == "a/b")
        #expect(request.url.absoluteString.contains("access_type=offline"))
        #expect(request.url.absoluteString.contains("scope=https%3A%2F%2Fmail.google.com%2F"))
    }

    /// RFC 8628: the person approves after a while; `authorization_pending` is waited out and `slow_down`
    /// stretches the interval by 5 s.
    @Test func deviceCodeWaitsForConsentAndSlowsDown() async throws {
        try await OAuthTokenServer.with { server in
            let store = try OAuthTokenStore(directory: server.scratch("tokens"))
            try await server.control("slow-down", ["count": "1"])
            let shown = Mutex<OAuthDeviceAuthorization?>(nil)
            let started = Date()
            let health = try await OAuthConsent.run(
                settings: server.settings(.deviceCode), mailbox: "support", store: store,
                presenter: Self.presenter(showDeviceCode: { authorization in
                    shown.withLock { $0 = authorization }
                    Task {
                        try await Task.sleep(for: .seconds(2.5))
                        let approve = "\(authorization.verificationURI)?user_code=\(authorization.userCode)&user=other"
                        _ = try await Self.browse(URL(string: approve)!)
                    }
                }))
            let elapsed = Date().timeIntervalSince(started)
            #expect(health.hasTokens)
            let authorization = try #require(shown.withLock { $0 })
            #expect(authorization.userCode.count == 8 && authorization.interval == 1)
            #expect(!authorization.description.contains(authorization.deviceCode))
            // Polls at 1 s (slow_down), then 6 s: consent at 2.5 s is seen at the 7 s poll.
            // The lower bound is the point (slow_down was honoured); the upper one only catches a hang.
            #expect(elapsed >= 6.5 && elapsed < 60)
            let log = try await server.log().filter {
                $0["grant_type"] as? String == "urn:ietf:params:oauth:grant-type:device_code"
            }
            #expect(log.map { $0["error"] as? String ?? "ok" } == ["slow_down", "ok"])
            let manager = OAuthTokenManager(store: store, mailboxes: ["support": server.settings(.deviceCode)])
            #expect(
                try await server.introspect(try await manager.accessToken(for: "support"))["username"] as? String
                    == "other")
        }
    }

    /// What `postdesk oauth login` prints: the device code and where to enter it; the test approves it.
    @Test func terminalPresenterPrintsTheDeviceCode() async throws {
        try await OAuthTokenServer.with { server in
            let store = try OAuthTokenStore(directory: server.scratch("tokens"))
            let printed = Mutex<[String]>([])
            let terminal = OAuthConsentPresenter.terminal(print: { line in printed.withLock { $0.append(line) } })
            let approving = OAuthConsentPresenter(
                showAuthorizationURL: terminal.showAuthorizationURL,
                showDeviceCode: { authorization in
                    await terminal.showDeviceCode(authorization)
                    _ = try? await Self.browse(URL(string: authorization.verificationURIComplete!)!)
                })
            _ = try await OAuthConsent.run(
                settings: server.settings(.deviceCode), mailbox: "support", store: store, presenter: approving)
            let text = printed.withLock { $0.joined(separator: "\n") }
            #expect(text.contains("/device and enter the code "))
            #expect(text.contains("Waiting for consent (the code expires in 10 minutes)"))
            #expect(try store.load("support") != nil)
        }
    }

    @Test func deviceCodeDeniedOrExpired() async throws {
        try await OAuthTokenServer.with { server in
            let store = try OAuthTokenStore(directory: server.scratch("tokens"))
            let denied = await #expect(throws: OAuthError.self) {
                _ = try await OAuthConsent.run(
                    settings: server.settings(.deviceCode), mailbox: "support", store: store,
                    presenter: Self.presenter(showDeviceCode: { authorization in
                        _ = try? await Self.browse(
                            URL(string: "\(authorization.verificationURI)?user_code=\(authorization.userCode)&deny=1")!)
                    }))
            }
            #expect(denied?.kind == .accessDenied && denied?.serverError == "access_denied")
            #expect(denied?.serverDescription == "the user declined")

            try await server.control("config", ["device_lifetime": "2"])
            let expired = await #expect(throws: OAuthError.self) {
                _ = try await OAuthConsent.run(
                    settings: server.settings(.deviceCode), mailbox: "support", store: store,
                    presenter: Self.presenter())
            }
            #expect(expired?.kind == .consentExpired)
            #expect(try store.load("support") == nil)
        }
    }

    @Test func clientCredentialsConsentStoresAnAppToken() async throws {
        try await OAuthTokenServer.with { server in
            let store = try OAuthTokenStore(directory: server.scratch("tokens"))
            let health = try await OAuthConsent.run(
                settings: server.settings(.clientCredentials), mailbox: "app", store: store,
                presenter: Self.presenter())
            #expect(health.hasTokens && !health.consentRequired && health.refreshTokenObtainedAt == nil)
            let wrong = await #expect(throws: OAuthError.self) {
                _ = try await OAuthConsent.run(
                    settings: server.settings(.clientCredentials, secret: "nope"), mailbox: "app2", store: store,
                    presenter: Self.presenter())
            }
            #expect(wrong?.kind == .invalidClient)
        }
    }
}
