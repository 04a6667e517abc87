import AsyncHTTPClient
import Foundation
import Logging

/// Hands out valid access tokens for the configured mailboxes: refreshes when less than `refreshMargin`
/// remains or after the caller reports a token rejected; one refresh per mailbox at a time however many
/// callers wait (they share its result); rotated refresh tokens are stored durably BEFORE the new access token
/// is handed out, so a crash can never leave only the old, already invalidated refresh token on disk.
///
/// Tokens live in an `OAuthTokenStore`; before each refresh the store is read again, so tokens stored by
/// `postdesk oauth login` while the daemon runs are picked up without a restart.
public actor OAuthTokenManager {
    private let store: OAuthTokenStore
    private var mailboxes: [String: OAuthClientSettings]
    private let client: HTTPClient
    private let requestTimeout: Duration
    private let refreshMargin: TimeInterval
    private let logger: Logger

    private var cached: [String: OAuthTokenRecord] = [:]
    private var rejected: Set<String> = []
    private var refreshing: [String: Task<Result<String, OAuthError>, Never>] = [:]
    /// Tokens the endpoint answered that could not be stored yet: stored before anything else is tried, so a
    /// rotated refresh token is not lost to a passing disk error.
    private var unsaved: [String: OAuthTokenRecord] = [:]
    private var failures: [String: (description: String, at: Date)] = [:]

    /// - Parameters:
    ///   - mailboxes: the OAuth settings by mailbox name (`update(mailboxes:)` replaces them on reload).
    ///   - httpClient: the client for token requests (default: the shared one, which needs no shutdown).
    ///   - requestTimeout: the deadline of one token request.
    ///   - refreshMargin: refresh when less than this remains of an access token's life.
    public init(
        store: OAuthTokenStore, mailboxes: [String: OAuthClientSettings], httpClient: HTTPClient = .shared,
        requestTimeout: Duration = .seconds(30), refreshMargin: Duration = .seconds(300),
        logger: Logger = Logger(label: "postdesk.oauth")
    ) {
        self.store = store
        self.mailboxes = mailboxes
        self.client = httpClient
        self.requestTimeout = requestTimeout
        self.refreshMargin = TimeInterval(refreshMargin.nanoseconds) / 1e9
        self.logger = logger
    }

    /// Replaces the settings (configuration reload); tokens of mailboxes that stay are kept.
    public func update(mailboxes: [String: OAuthClientSettings]) {
        for name in self.mailboxes.keys where mailboxes[name] != self.mailboxes[name] {
            cached[name] = nil
        }
        self.mailboxes = mailboxes
    }

    /// A valid access token for `mailbox`, refreshed first when needed. Concurrent callers for one mailbox share
    /// one refresh. A refresh that fails for a passing reason (5xx, timeout) still answers the current token
    /// while it has not expired and was not rejected.
    public func accessToken(for mailbox: String) async throws(OAuthError) -> String {
        guard let settings = mailboxes[mailbox] else {
            throw OAuthError(
                kind: .notConfigured, mailbox: mailbox, endpoint: store.directory,
                detail: "no oauth2 settings for this mailbox")
        }
        if let running = refreshing[mailbox] { return try await running.value.get() }
        if let pending = unsaved[mailbox] {
            try remembering(mailbox) { () throws(OAuthError) in try store.save(pending, for: mailbox) }
            unsaved[mailbox] = nil
            cached[mailbox] = pending
            rejected.remove(mailbox)  // these tokens are new: nobody has used, let alone rejected, them
            logger.info("oauth tokens stored after an earlier failure", metadata: ["mailbox": "\(mailbox)"])
        }
        if cached[mailbox] == nil {
            cached[mailbox] = try remembering(mailbox) { () throws(OAuthError) in try store.load(mailbox) }
        }
        if let record = cached[mailbox], !rejected.contains(mailbox), !record.consentRequired,
            record.accessTokenExpiresAt.timeIntervalSinceNow > refreshMargin
        {
            return record.accessToken
        }
        let task = Task { await self.refresh(mailbox, settings) }
        refreshing[mailbox] = task
        return try await task.value.get()
    }

    /// The server refused the last access token (e.g. IMAP `AUTHENTICATE` failed): the next call refreshes.
    public func tokenRejected(for mailbox: String) {
        rejected.insert(mailbox)
    }

    /// Expiries, ages and the last error of `mailbox`'s tokens, read from the store.
    public func health(for mailbox: String) -> OAuthTokenHealth {
        let settings = mailboxes[mailbox]
        var record = unsaved[mailbox] ?? cached[mailbox]
        var lastError = failures[mailbox]
        do {
            if unsaved[mailbox] == nil, let stored = try store.load(mailbox) { record = stored }
        } catch {
            lastError = (error.description, Date())
        }
        if let stored = record?.lastError, let at = record?.lastErrorAt, at > lastError?.at ?? .distantPast {
            lastError = (stored, at)
        }
        if let refreshed = record?.lastRefreshAt, let failed = lastError?.at, refreshed > failed { lastError = nil }
        return OAuthTokenHealth(
            mailbox: mailbox, flow: settings?.flow, hasTokens: record != nil,
            accessTokenExpiresAt: record?.accessTokenExpiresAt,
            refreshTokenObtainedAt: record?.refreshToken == nil ? nil : record?.refreshTokenObtainedAt,
            lastRefreshAt: record?.lastRefreshAt, lastError: lastError?.description, lastErrorAt: lastError?.at,
            consentRequired: settings?.flow != .clientCredentials && (record == nil || record!.consentRequired),
            clientSecretExpiresAt: settings?.clientSecretExpiresAt,
            refreshTokenExpiresAt: record?.refreshToken == nil
                ? nil
                : settings?.provider.refreshTokenLifetime.flatMap { lifetime in
                    record?.refreshTokenObtainedAt?.addingTimeInterval(lifetime)
                })
    }

    private func refresh(_ mailbox: String, _ settings: OAuthClientSettings) async -> Result<String, OAuthError> {
        defer { refreshing[mailbox] = nil }
        let current: OAuthTokenRecord?
        do {
            current = try store.load(mailbox)
        } catch {
            failures[mailbox] = (error.description, Date())
            return .failure(error)
        }
        // Another process (`postdesk oauth login`) may have stored fresher tokens since we last looked.
        if let stored = current, stored.accessToken != cached[mailbox]?.accessToken, !stored.consentRequired,
            stored.accessTokenExpiresAt.timeIntervalSinceNow > refreshMargin
        {
            cached[mailbox] = stored
            rejected.remove(mailbox)
            return .success(stored.accessToken)
        }
        let grant: OAuthTokenEndpoint.Grant
        if settings.flow == .clientCredentials {
            grant = .clientCredentials
        } else if let record = current, let refreshToken = record.refreshToken, !record.consentRequired {
            grant = .refresh(refreshToken: refreshToken)
        } else {
            let reason =
                current == nil
                ? "no tokens stored" : current!.consentRequired ? "the refresh token was refused" : "no refresh token"
            let error = OAuthError(
                kind: .consentRequired, mailbox: mailbox, endpoint: store.path(for: mailbox), detail: reason)
            // Keep the server's words from when the refresh token was refused: they say why.
            if current?.lastError == nil { failures[mailbox] = (error.description, Date()) }
            return .failure(error)
        }
        let endpoint = OAuthTokenEndpoint(settings: settings, mailbox: mailbox, client: client, timeout: requestTimeout)
        let response: OAuthTokenResponse
        do {
            response = try await endpoint.requestTokens(grant)
        } catch {
            return failed(mailbox, error, current: current)
        }
        let now = Date()
        let rotated = response.refreshToken != nil && response.refreshToken != current?.refreshToken
        let record = OAuthTokenRecord(
            accessToken: response.accessToken,
            accessTokenExpiresAt: now.addingTimeInterval(TimeInterval(response.expiresIn ?? 3600)),
            refreshToken: response.refreshToken ?? current?.refreshToken,
            refreshTokenObtainedAt: rotated ? now : current?.refreshTokenObtainedAt, lastRefreshAt: now)
        // Durable BEFORE use: with rotation the server has already invalidated the refresh token on disk.
        do {
            try store.save(record, for: mailbox)
        } catch {
            unsaved[mailbox] = record
            failures[mailbox] = (error.description, now)
            logger.error(
                "oauth tokens obtained but not stored; access token withheld",
                metadata: ["mailbox": "\(mailbox)", "error": "\(error)"])
            return .failure(error)
        }
        cached[mailbox] = record
        rejected.remove(mailbox)
        failures[mailbox] = nil
        logger.info(
            "oauth access token obtained",
            metadata: [
                "mailbox": "\(mailbox)", "grant": "\(grant.name)",
                "expires_at": "\(record.accessTokenExpiresAt)",
                "refresh_token": "\(settings.flow == .clientCredentials ? "none" : rotated ? "rotated" : "kept")",
            ])
        return .success(record.accessToken)
    }

    /// Records a failed token request; answers the current token if it is still good and the failure passing.
    private func failed(_ mailbox: String, _ error: OAuthError, current: OAuthTokenRecord?) -> Result<
        String, OAuthError
    > {
        let now = Date()
        failures[mailbox] = (error.description, now)
        if var record = current {
            record.lastError = error.description
            record.lastErrorAt = now
            if error.needsConsent { record.consentRequired = true }
            try? store.save(record, for: mailbox)
            cached[mailbox] = record
        }
        if error.isRetryable, let record = current, !rejected.contains(mailbox), !record.consentRequired,
            record.accessTokenExpiresAt.timeIntervalSince(now) > 10
        {
            logger.warning(
                "oauth refresh failed; the current access token is still valid",
                metadata: ["mailbox": "\(mailbox)", "error": "\(error)"])
            return .success(record.accessToken)
        }
        logger.error("oauth token request failed", metadata: ["mailbox": "\(mailbox)", "error": "\(error)"])
        return .failure(error)
    }

    private func remembering<Value>(
        _ mailbox: String, _ body: () throws(OAuthError) -> Value
    ) throws(OAuthError) -> Value {
        do {
            return try body()
        } catch {
            failures[mailbox] = (error.description, Date())
            throw error
        }
    }
}
