import Foundation

/// One mailbox's stored tokens and what health reports about them. `description` shows no token.
public struct OAuthTokenRecord: Codable, Sendable, Equatable, CustomStringConvertible {
    public var accessToken: String
    public var accessTokenExpiresAt: Date
    /// Nil with client credentials (they need none) or when the server gave none.
    public var refreshToken: String?
    /// When the current refresh token was issued: its age tells how close an unused one is to expiring
    /// (Microsoft: 90 days).
    public var refreshTokenObtainedAt: Date?
    /// The last time the token endpoint answered tokens.
    public var lastRefreshAt: Date?
    /// The last failure's description (our words and the server's), cleared by the next success.
    public var lastError: String?
    public var lastErrorAt: Date?
    /// Set when the refresh token was refused (`invalid_grant`): only a new consent helps.
    public var consentRequired: Bool

    public init(
        accessToken: String, accessTokenExpiresAt: Date, refreshToken: String?, refreshTokenObtainedAt: Date?,
        lastRefreshAt: Date?, lastError: String? = nil, lastErrorAt: Date? = nil, consentRequired: Bool = false
    ) {
        self.accessToken = accessToken
        self.accessTokenExpiresAt = accessTokenExpiresAt
        self.refreshToken = refreshToken
        self.refreshTokenObtainedAt = refreshTokenObtainedAt
        self.lastRefreshAt = lastRefreshAt
        self.lastError = lastError
        self.lastErrorAt = lastErrorAt
        self.consentRequired = consentRequired
    }

    public var description: String {
        "oauth tokens (access token expires \(accessTokenExpiresAt), refresh token "
            + "\(refreshToken == nil ? "absent" : "present")\(consentRequired ? ", re-consent needed" : ""))"
    }
}
