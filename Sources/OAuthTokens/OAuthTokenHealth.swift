import Foundation

/// What `postdesk mailboxes` shows about one mailbox's OAuth state, and what expiry warnings are computed from.
public struct OAuthTokenHealth: Sendable, Equatable {
    public var mailbox: String
    public var flow: OAuthFlow?
    /// Whether any tokens are stored.
    public var hasTokens: Bool
    public var accessTokenExpiresAt: Date?
    /// When the current refresh token was issued (its age: `refreshTokenAge(at:)`).
    public var refreshTokenObtainedAt: Date?
    public var lastRefreshAt: Date?
    /// The last failure's description, with the server's words; nil after a success.
    public var lastError: String?
    public var lastErrorAt: Date?
    /// No tokens, or the refresh token was refused: someone must run `postdesk oauth login NAME`.
    public var consentRequired: Bool
    /// From the configuration (`client_secret_expires`).
    public var clientSecretExpiresAt: Date?
    /// When the refresh token runs out if it stays unused (obtained + the provider's documented lifetime).
    public var refreshTokenExpiresAt: Date?

    public init(
        mailbox: String, flow: OAuthFlow?, hasTokens: Bool, accessTokenExpiresAt: Date?,
        refreshTokenObtainedAt: Date?, lastRefreshAt: Date?, lastError: String?, lastErrorAt: Date?,
        consentRequired: Bool, clientSecretExpiresAt: Date?, refreshTokenExpiresAt: Date? = nil
    ) {
        self.mailbox = mailbox
        self.flow = flow
        self.hasTokens = hasTokens
        self.accessTokenExpiresAt = accessTokenExpiresAt
        self.refreshTokenObtainedAt = refreshTokenObtainedAt
        self.lastRefreshAt = lastRefreshAt
        self.lastError = lastError
        self.lastErrorAt = lastErrorAt
        self.consentRequired = consentRequired
        self.clientSecretExpiresAt = clientSecretExpiresAt
        self.refreshTokenExpiresAt = refreshTokenExpiresAt
    }

    /// Seconds since the refresh token was issued, nil without one.
    public func refreshTokenAge(at now: Date = Date()) -> TimeInterval? {
        refreshTokenObtainedAt.map { now.timeIntervalSince($0) }
    }

    /// Seconds until the client secret expires (negative once it has), nil when not configured.
    public func clientSecretRemaining(at now: Date = Date()) -> TimeInterval? {
        clientSecretExpiresAt.map { $0.timeIntervalSince(now) }
    }

    /// Sentences for the log about what will stop working within `window` (or already has): the client secret,
    /// an unused refresh token, a needed consent. Empty when nothing is due.
    public func expiryWarnings(at now: Date = Date(), window: TimeInterval = 14 * 86_400) -> [String] {
        var warnings: [String] = []
        if consentRequired {
            warnings.append("mailbox \(mailbox): re-consent needed (postdesk oauth login \(mailbox))")
        }
        if let expires = clientSecretExpiresAt, expires.timeIntervalSince(now) < window {
            warnings.append("mailbox \(mailbox): the OAuth client secret \(Self.due(expires, now)); create a new one")
        }
        if !consentRequired, let expires = refreshTokenExpiresAt, expires.timeIntervalSince(now) < window {
            warnings.append("mailbox \(mailbox): the unused refresh token \(Self.due(expires, now))")
        }
        return warnings
    }

    private static func due(_ date: Date, _ now: Date) -> String {
        let days = Int((date.timeIntervalSince(now) / 86_400).rounded(.down))
        return date <= now ? "expired on \(date)" : "expires on \(date) (in \(days) days)"
    }
}
