import AsyncHTTPClient
import Foundation

/// The first consent of a mailbox (`postdesk oauth login NAME`): runs the configured flow to its end and stores
/// the tokens, so the daemon's `OAuthTokenManager` finds them at its next refresh (no restart needed).
public enum OAuthConsent {
    /// Runs `settings.flow` for `mailbox` and stores the tokens; returns the stored tokens' health.
    /// - authorization code: a loopback listener on 127.0.0.1 waits for the redirect while
    ///   `presenter.showAuthorizationURL` shows the URL; a pasted redirect URL or code is accepted too.
    /// - device code: `presenter.showDeviceCode` shows the code; the token endpoint is polled at the server's
    ///   interval (`slow_down` adds 5 s) until consent, refusal or expiry.
    /// - client credentials: one token request proves the client id and secret, and its token is stored.
    /// - Parameter timeout: how long a person has to consent.
    public static func run(
        settings: OAuthClientSettings, mailbox: String, store: OAuthTokenStore, presenter: OAuthConsentPresenter,
        loginHint: String? = nil, httpClient: HTTPClient = .shared, timeout: Duration = .seconds(900),
        requestTimeout: Duration = .seconds(30)
    ) async throws(OAuthError) -> OAuthTokenHealth {
        let endpoint = OAuthTokenEndpoint(
            settings: settings, mailbox: mailbox, client: httpClient, timeout: requestTimeout)
        let response: OAuthTokenResponse
        switch settings.flow {
        case .authorizationCode:
            response = try await authorizationCode(
                settings: settings, mailbox: mailbox, endpoint: endpoint, presenter: presenter, loginHint: loginHint,
                timeout: timeout)
        case .deviceCode:
            response = try await deviceCode(endpoint: endpoint, presenter: presenter, timeout: timeout)
        case .clientCredentials:
            response = try await endpoint.requestTokens(.clientCredentials)
        }
        let now = Date()
        let record = OAuthTokenRecord(
            accessToken: response.accessToken,
            accessTokenExpiresAt: now.addingTimeInterval(TimeInterval(response.expiresIn ?? 3600)),
            refreshToken: response.refreshToken, refreshTokenObtainedAt: response.refreshToken == nil ? nil : now,
            lastRefreshAt: now)
        if settings.flow != .clientCredentials && response.refreshToken == nil {
            throw OAuthError(
                kind: .malformedResponse, mailbox: mailbox,
                endpoint: "POST \(settings.provider.tokenURL.absoluteString)",
                detail: "the consent answered no refresh token (Microsoft: add offline_access to the scopes; "
                    + "Google: the consent URL must ask for offline access)")
        }
        try store.save(record, for: mailbox)
        return await OAuthTokenManager(store: store, mailboxes: [mailbox: settings], httpClient: httpClient)
            .health(for: mailbox)
    }

    private static func authorizationCode(
        settings: OAuthClientSettings, mailbox: String, endpoint: OAuthTokenEndpoint,
        presenter: OAuthConsentPresenter, loginHint: String?, timeout: Duration
    ) async throws(OAuthError) -> OAuthTokenResponse {
        let state = OAuthPKCE.randomToken(byteCount: 16)
        let listener = try await OAuthLoopbackListener.start(mailbox: mailbox) { target in
            Result { () throws(OAuthError) in
                try OAuthAuthorizationRequest.authorizationCode(
                    from: target, state: state, mailbox: mailbox, endpoint: "loopback redirect")
            }
        }
        let request: OAuthAuthorizationRequest
        do {
            request = try OAuthAuthorizationRequest(
                settings: settings, mailbox: mailbox, redirectURI: listener.redirectURI, loginHint: loginHint,
                state: state)
        } catch {
            await listener.close()
            throw error
        }
        let (answers, answer) = AsyncStream.makeStream(of: Result<String, OAuthError>.self)
        let fromListener = Task {
            for await verdict in listener.verdicts { answer.yield(verdict) }
        }
        let fromPaste = presenter.readPastedResponse.map { read in
            Task {
                guard let text = await read() else { return }
                answer.yield(
                    Result { () throws(OAuthError) in try request.authorizationCode(from: text, mailbox: mailbox) })
            }
        }
        let deadline = Task {
            guard (try? await Task.sleep(for: timeout)) != nil else { return }  // cancelled: an answer came
            answer.yield(
                .failure(
                    OAuthError(
                        kind: .consentExpired, mailbox: mailbox, endpoint: listener.redirectURI,
                        detail: "no consent within \(timeout)")))
        }
        await presenter.showAuthorizationURL(request.url)
        var first: Result<String, OAuthError>?
        for await verdict in answers {
            first = verdict
            break
        }
        deadline.cancel()
        fromListener.cancel()
        fromPaste?.cancel()
        answer.finish()
        await listener.close()
        let code = try
            (first
            ?? .failure(
                OAuthError(kind: .consentExpired, mailbox: mailbox, endpoint: listener.redirectURI, detail: "no answer")
            ))
            .get()
        return try await endpoint.requestTokens(
            .authorizationCode(code: code, redirectURI: request.redirectURI, verifier: request.pkce.verifier))
    }

    private static func deviceCode(
        endpoint: OAuthTokenEndpoint, presenter: OAuthConsentPresenter, timeout: Duration
    ) async throws(OAuthError) -> OAuthTokenResponse {
        let authorization = try await endpoint.requestDeviceAuthorization()
        await presenter.showDeviceCode(authorization)
        let limit = min(TimeInterval(authorization.expiresIn), TimeInterval(timeout.nanoseconds) / 1e9)
        let deadline = Date().addingTimeInterval(limit)
        var interval = max(authorization.interval, 1)
        while true {
            do {
                try await Task.sleep(for: .seconds(interval))
            } catch {
                throw OAuthError(
                    kind: .consentExpired, mailbox: endpoint.mailbox, endpoint: authorization.verificationURI,
                    detail: "the wait for consent was cancelled")
            }
            guard Date() < deadline else {
                throw OAuthError(
                    kind: .consentExpired, mailbox: endpoint.mailbox, endpoint: authorization.verificationURI,
                    detail: "no consent within \(Int(limit)) s")
            }
            switch await endpoint.answer(.deviceCode(authorization.deviceCode)) {
            case .tokens(let response):
                return response
            case .error(let error) where error.serverError == "authorization_pending" || error.isRetryable:
                continue
            case .error(let error) where error.serverError == "slow_down":
                interval += 5  // RFC 8628 §3.5: this and every later poll waits 5 s longer.
            case .error(let error):
                throw error
            }
        }
    }
}
