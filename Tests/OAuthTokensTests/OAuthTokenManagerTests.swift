import AsyncHTTPClient
import Foundation
import OAuthTokens
import Testing

/// The token manager against the local token server over real HTTP, with real encrypted token files.
@Suite struct OAuthTokenManagerTests {
    @Test func validTokenIsReusedAndATokenNearExpiryIsRefreshed() async throws {
        try await OAuthTokenServer.with { server in
            let store = try OAuthTokenStore(directory: server.scratch("tokens"))
            let seeded = try await server.seed(store, mailbox: "support")
            let manager = OAuthTokenManager(store: store, mailboxes: ["support": server.settings(.authorizationCode)])

            // An hour left: no request at all.
            #expect(try await manager.accessToken(for: "support") == seeded.accessToken)
            #expect(try await server.tokenRequests(grant: "refresh_token").all == 0)

            // Less than 5 minutes left: refreshed before use, and the new token is one the server knows.
            var nearExpiry = seeded
            nearExpiry.accessTokenExpiresAt = Date().addingTimeInterval(200)
            try store.save(nearExpiry, for: "support")
            let restarted = OAuthTokenManager(store: store, mailboxes: ["support": server.settings(.authorizationCode)])
            let refreshed = try await restarted.accessToken(for: "support")
            #expect(refreshed != seeded.accessToken)
            #expect(try await server.introspect(refreshed)["active"] as? Bool == true)
            #expect(try await server.tokenRequests(grant: "refresh_token") == (1, 1))
            let health = await restarted.health(for: "support")
            #expect(health.accessTokenExpiresAt! > Date().addingTimeInterval(3000))
            #expect(health.lastError == nil && !health.consentRequired)
        }
    }

    @Test func rejectedTokenIsRefreshedOnTheNextCall() async throws {
        try await OAuthTokenServer.with { server in
            let store = try OAuthTokenStore(directory: server.scratch("tokens"))
            let seeded = try await server.seed(store, mailbox: "support")
            let manager = OAuthTokenManager(store: store, mailboxes: ["support": server.settings(.authorizationCode)])
            #expect(try await manager.accessToken(for: "support") == seeded.accessToken)
            try await server.control("expire-access")
            await manager.tokenRejected(for: "support")
            let fresh = try await manager.accessToken(for: "support")
            #expect(fresh != seeded.accessToken)
            #expect(try await server.introspect(fresh)["active"] as? Bool == true)
            #expect(try await manager.accessToken(for: "support") == fresh)
            #expect(try await server.tokenRequests(grant: "refresh_token").all == 1)
        }
    }

    /// Rotation: the new refresh token is on disk before the access token is handed out, and a new manager
    /// over the same files (a restart) refreshes with it — the server no longer accepts the old one.
    @Test func rotatedRefreshTokenIsStoredBeforeUseAndUsedAfterRestart() async throws {
        try await OAuthTokenServer.with { server in
            let directory = server.scratch("tokens")
            let store = try OAuthTokenStore(directory: directory)
            let seeded = try await server.seed(store, mailbox: "support")
            try await server.control("expire-access")
            let manager = OAuthTokenManager(store: store, mailboxes: ["support": server.settings(.authorizationCode)])
            await manager.tokenRejected(for: "support")
            let access = try await manager.accessToken(for: "support")

            let onDisk = try #require(try OAuthTokenStore(directory: directory).load("support"))
            #expect(onDisk.accessToken == access)
            #expect(onDisk.refreshToken != nil && onDisk.refreshToken != seeded.refreshToken)

            // Restart: a new store and manager over the same files.
            try await server.control("expire-access")
            let restarted = OAuthTokenManager(
                store: try OAuthTokenStore(directory: directory),
                mailboxes: ["support": server.settings(.authorizationCode)])
            await restarted.tokenRejected(for: "support")
            let afterRestart = try await restarted.accessToken(for: "support")
            #expect(try await server.introspect(afterRestart)["active"] as? Bool == true)
            #expect(try await server.tokenRequests(grant: "refresh_token") == (2, 2))
        }
    }

    /// A write that fails after the server rotated the refresh token: the access token is NOT handed out;
    /// once the disk works again the kept tokens are stored first (no new token request), and a restart
    /// refreshes with the rotated refresh token.
    @Test func failedWriteWithholdsTheAccessTokenUntilTheRotatedTokenIsStored() async throws {
        try await OAuthTokenServer.with { server in
            let directory = server.scratch("tokens")
            let keyFile = server.scratch("oauth.key")
            let store = try OAuthTokenStore(directory: directory, keyFile: keyFile)
            let seeded = try await server.seed(store, mailbox: "support")
            try await server.control("expire-access")
            let manager = OAuthTokenManager(store: store, mailboxes: ["support": server.settings(.authorizationCode)])
            await manager.tokenRejected(for: "support")

            // The token directory disappears while the server is answering the refresh, so the write of the
            // rotated tokens fails for real (root ignores permissions; a missing directory it cannot ignore).
            try await server.control("delay", ["count": "1", "seconds": "1"])
            let refresh = Task { try await manager.accessToken(for: "support") }
            try await server.waitForRequestInFlight()
            let away = directory + ".away"
            try FileManager.default.moveItem(atPath: directory, toPath: away)
            let failure = await #expect(throws: OAuthError.self) { try await refresh.value }
            #expect(failure?.kind == .store)
            #expect(try await server.tokenRequests(grant: "refresh_token") == (1, 1))
            // Still unwritable: the same error, and no second token request (which the server would refuse).
            let again = await #expect(throws: OAuthError.self) { try await manager.accessToken(for: "support") }
            #expect(again?.kind == .store)
            #expect(try await server.tokenRequests(grant: "refresh_token").all == 1)

            try FileManager.default.moveItem(atPath: away, toPath: directory)
            #expect(try store.load("support")?.refreshToken == seeded.refreshToken)
            let access = try await manager.accessToken(for: "support")
            #expect(try await server.introspect(access)["active"] as? Bool == true)
            #expect(try store.load("support")?.refreshToken != seeded.refreshToken)
            #expect(try await server.tokenRequests(grant: "refresh_token").all == 1)

            try await server.control("expire-access")
            let restarted = OAuthTokenManager(
                store: try OAuthTokenStore(directory: directory, keyFile: keyFile),
                mailboxes: ["support": server.settings(.authorizationCode)])
            await restarted.tokenRejected(for: "support")
            let afterRestart = try await restarted.accessToken(for: "support")
            #expect(try await server.introspect(afterRestart)["active"] as? Bool == true)
        }
    }

    @Test func revokedRefreshTokenNeedsConsentAndDoesNotStopOtherMailboxes() async throws {
        try await OAuthTokenServer.with { server in
            let store = try OAuthTokenStore(directory: server.scratch("tokens"))
            let revoked = try await server.seed(store, mailbox: "support")
            _ = try await server.seed(store, mailbox: "sales", user: "other")
            try await server.control("revoke", ["refresh_token": revoked.refreshToken!])
            try await server.control("expire-access")
            let settings = server.settings(.authorizationCode)
            let manager = OAuthTokenManager(store: store, mailboxes: ["support": settings, "sales": settings])
            await manager.tokenRejected(for: "support")
            await manager.tokenRejected(for: "sales")

            let error = await #expect(throws: OAuthError.self) { try await manager.accessToken(for: "support") }
            #expect(error?.kind == .consentRequired && error?.needsConsent == true && error?.isRetryable == false)
            #expect(error?.mailbox == "support" && error?.httpStatus == 400 && error?.serverError == "invalid_grant")
            #expect(error?.serverDescription?.contains("AADSTS70000") == true)
            #expect(error?.description.contains("re-consent needed (postdesk oauth login support)") == true)
            #expect(error?.endpoint == "POST \(server.base)/token")

            let sales = try await manager.accessToken(for: "sales")
            #expect(try await server.introspect(sales)["username"] as? String == "other")

            // Known dead: later calls answer at once, without asking the server again; health says so.
            _ = await #expect(throws: OAuthError.self) { try await manager.accessToken(for: "support") }
            #expect(try await server.tokenRequests(grant: "refresh_token").all == 2)
            let health = await manager.health(for: "support")
            #expect(health.consentRequired)
            #expect(health.lastError?.contains("invalid_grant") == true)
        }
    }

    /// A policy change (Microsoft: `interaction_required`, e.g. MFA now required) needs a person, like a revoked
    /// token; some servers answer such errors with HTTP 200, which is still an error.
    @Test func signInAgainAnsweredWith200NeedsConsent() async throws {
        try await OAuthTokenServer.with { server in
            let store = try OAuthTokenStore(directory: server.scratch("tokens"))
            _ = try await server.seed(store, mailbox: "support")
            let manager = OAuthTokenManager(store: store, mailboxes: ["support": server.settings(.authorizationCode)])
            await manager.tokenRejected(for: "support")
            try await server.control(
                "fail", ["status": "200", "error": "interaction_required", "description": "AADSTS50076: MFA"])
            let error = await #expect(throws: OAuthError.self) { try await manager.accessToken(for: "support") }
            #expect(error?.kind == .consentRequired && error?.httpStatus == 200)
            #expect(error?.serverDescription == "AADSTS50076: MFA")
        }
    }

    @Test func serverFailuresAndTimeoutsAreRetryable() async throws {
        try await OAuthTokenServer.with { server in
            let store = try OAuthTokenStore(directory: server.scratch("tokens"))
            _ = try await server.seed(store, mailbox: "support")
            try await server.control("expire-access")
            let manager = OAuthTokenManager(
                store: store, mailboxes: ["support": server.settings(.authorizationCode)],
                requestTimeout: .milliseconds(700))
            await manager.tokenRejected(for: "support")

            try await server.control("fail", ["count": "1", "status": "503", "error": "temporarily_unavailable"])
            let unavailable = await #expect(throws: OAuthError.self) { try await manager.accessToken(for: "support") }
            #expect(unavailable?.kind == .unavailable && unavailable?.isRetryable == true)
            #expect(unavailable?.httpStatus == 503)
            #expect(unavailable?.serverDescription?.contains("temporarily_unavailable") == true)

            try await server.control("config", ["rotation": "false"])
            try await server.control("delay", ["count": "1", "seconds": "12"])
            let started = Date()
            let timedOut = await #expect(throws: OAuthError.self) { try await manager.accessToken(for: "support") }
            #expect(timedOut?.kind == .unavailable && timedOut?.isRetryable == true)
            // Our 0.7 s deadline, not the server's 12 s (the margin absorbs a loaded machine).
            #expect(Date().timeIntervalSince(started) < 8)

            // The server works again: the same manager recovers by itself. (Rotation is off: the delayed request
            // is still answered after our deadline, and with rotation it would have spent the refresh token.)
            try await Task.sleep(for: .seconds(3))
            let token = try await manager.accessToken(for: "support")
            #expect(try await server.introspect(token)["active"] as? Bool == true)
            #expect(await manager.health(for: "support").lastError == nil)
        }
    }

    @Test func wrongClientSecretIsReportedWithTheServersWords() async throws {
        try await OAuthTokenServer.with { server in
            let store = try OAuthTokenStore(directory: server.scratch("tokens"))
            let manager = OAuthTokenManager(
                store: store, mailboxes: ["app": server.settings(.clientCredentials, secret: "wrong-secret")])
            let error = await #expect(throws: OAuthError.self) { try await manager.accessToken(for: "app") }
            #expect(error?.kind == .invalidClient && error?.httpStatus == 401 && error?.serverError == "invalid_client")
            #expect(error?.serverDescription == "AADSTS7000215: Invalid client secret provided.")
            #expect(error?.description.contains("wrong-secret") == false)
        }
    }

    @Test func clientCredentialsNeedNoConsentAndRefetchWhenRejected() async throws {
        try await OAuthTokenServer.with { server in
            let store = try OAuthTokenStore(directory: server.scratch("tokens"))
            let manager = OAuthTokenManager(store: store, mailboxes: ["app": server.settings(.clientCredentials)])
            let first = try await manager.accessToken(for: "app")
            #expect(try await server.introspect(first)["username"] as? String == "bench")
            #expect(try await manager.accessToken(for: "app") == first)
            await manager.tokenRejected(for: "app")
            let second = try await manager.accessToken(for: "app")
            #expect(second != first)
            #expect(try await server.tokenRequests(grant: "client_credentials") == (2, 2))
            #expect(try store.load("app")?.refreshToken == nil)
        }
    }

    @Test func twentyConcurrentCallersShareOneRefresh() async throws {
        try await OAuthTokenServer.with { server in
            let store = try OAuthTokenStore(directory: server.scratch("tokens"))
            _ = try await server.seed(store, mailbox: "support")
            try await server.control("expire-access")
            try await server.control("delay", ["count": "1", "seconds": "0.3"])
            let manager = OAuthTokenManager(store: store, mailboxes: ["support": server.settings(.authorizationCode)])
            await manager.tokenRejected(for: "support")
            let tokens = try await withThrowingTaskGroup(of: String.self) { group in
                for _ in 0..<20 { group.addTask { try await manager.accessToken(for: "support") } }
                return try await group.reduce(into: Set<String>()) { $0.insert($1) }
            }
            #expect(tokens.count == 1)
            #expect(try await server.tokenRequests(grant: "refresh_token") == (1, 1))
            #expect(try await server.introspect(tokens.first!)["active"] as? Bool == true)
        }
    }

    @Test func healthWarnsBeforeTheSecretAndAnUnusedRefreshTokenExpire() async throws {
        try await OAuthTokenServer.with { server in
            let store = try OAuthTokenStore(directory: server.scratch("tokens"))
            var old = try await server.seed(store, mailbox: "support")
            old.refreshTokenObtainedAt = Date().addingTimeInterval(-85 * 86_400)
            try store.save(old, for: "support")
            var settings = server.settings(.authorizationCode)
            settings.provider.refreshTokenLifetime = 90 * 86_400
            settings.clientSecretExpiresAt = Date().addingTimeInterval(5 * 86_400 + 600)
            let manager = OAuthTokenManager(store: store, mailboxes: ["support": settings])
            let health = await manager.health(for: "support")
            #expect(abs(health.refreshTokenAge()! - 85 * 86_400) < 60)
            let warnings = health.expiryWarnings()
            #expect(warnings.count == 2)
            #expect(warnings.contains { $0.contains("client secret expires") && $0.contains("in 5 days") })
            #expect(warnings.contains { $0.contains("unused refresh token expires") && $0.contains("in 4 days") })

            // A refresh issues a new (rotated) refresh token: its age starts again and the warning goes.
            await manager.tokenRejected(for: "support")
            _ = try await manager.accessToken(for: "support")
            let refreshed = await manager.health(for: "support")
            #expect(refreshed.refreshTokenAge()! < 60)
            #expect(refreshed.expiryWarnings().count == 1)
        }
    }

    /// Client secrets and tokens never go over plain http to another machine.
    @Test func plainHTTPToAnotherHostIsRefusedBeforeSendingAnything() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("oauth-http-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let provider = OAuthProvider.generic(
            authorizationURL: nil, tokenURL: URL(string: "http://192.0.2.1/token")!, deviceAuthorizationURL: nil,
            scopes: ["mail"])
        let manager = OAuthTokenManager(
            store: try OAuthTokenStore(directory: directory),
            mailboxes: [
                "app": OAuthClientSettings(
                    provider: provider, clientID: "c", clientSecret: "s", flow: .clientCredentials)
            ])
        // .notConfigured, not .unavailable: refused before any connection was tried.
        let error = await #expect(throws: OAuthError.self) { try await manager.accessToken(for: "app") }
        #expect(error?.kind == .notConfigured && error?.detail.contains("https") == true)
    }

    @Test func mailboxWithoutTokensOrSettingsSaysWhatToDo() async throws {
        try await OAuthTokenServer.with { server in
            let store = try OAuthTokenStore(directory: server.scratch("tokens"))
            let manager = OAuthTokenManager(store: store, mailboxes: ["support": server.settings(.authorizationCode)])
            let missing = await #expect(throws: OAuthError.self) { try await manager.accessToken(for: "support") }
            #expect(missing?.kind == .consentRequired)
            #expect(missing?.description.contains("postdesk oauth login support") == true)
            let unknown = await #expect(throws: OAuthError.self) { try await manager.accessToken(for: "nope") }
            #expect(unknown?.kind == .notConfigured)
            #expect(try await server.log().filter { $0["path"] as? String == "/token" }.isEmpty)

            // A reload that adds the mailbox as app-only makes it work; one that removes it stops it.
            await manager.update(mailboxes: ["support": server.settings(.clientCredentials)])
            #expect(
                try await server.introspect(try await manager.accessToken(for: "support"))["active"] as? Bool == true)
            await manager.update(mailboxes: [:])
            let removed = await #expect(throws: OAuthError.self) { try await manager.accessToken(for: "support") }
            #expect(removed?.kind == .notConfigured)
        }
    }
}
