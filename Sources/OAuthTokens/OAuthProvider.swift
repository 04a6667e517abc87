import Foundation

/// The endpoints and default scopes of one authorization server.
public struct OAuthProvider: Sendable, Equatable {
    /// `microsoft`, `google` or `generic`: shown in errors and health.
    public var name: String
    /// Where a person consents (authorization code flow); nil when the server offers no such flow.
    public var authorizationURL: URL?
    /// Where codes, refresh tokens, client credentials and device codes are exchanged for tokens.
    public var tokenURL: URL
    /// Where a device code is requested (RFC 8628 §3.1); nil when the server offers no device flow.
    public var deviceAuthorizationURL: URL?
    /// Scopes asked for on behalf of a person (authorization code and device flows).
    public var delegatedScopes: [String]
    /// Scopes asked for with client credentials (app-only access).
    public var appOnlyScopes: [String]
    /// Extra query parameters of the consent URL (Google needs `access_type=offline` to answer a refresh token).
    public var extraAuthorizationParameters: [String: String]
    /// Whether token requests repeat the scope (Microsoft expects it on every grant; Google does not take it
    /// on a refresh).
    public var sendsScopeWithGrants: Bool
    /// How long an unused refresh token lives, when the provider documents it (Microsoft: 90 days of
    /// inactivity); health warns before it runs out. Nil: no known limit.
    public var refreshTokenLifetime: TimeInterval?

    public init(
        name: String, authorizationURL: URL?, tokenURL: URL, deviceAuthorizationURL: URL?,
        delegatedScopes: [String], appOnlyScopes: [String], extraAuthorizationParameters: [String: String] = [:],
        sendsScopeWithGrants: Bool = true, refreshTokenLifetime: TimeInterval? = nil
    ) {
        self.name = name
        self.authorizationURL = authorizationURL
        self.tokenURL = tokenURL
        self.deviceAuthorizationURL = deviceAuthorizationURL
        self.delegatedScopes = delegatedScopes
        self.appOnlyScopes = appOnlyScopes
        self.extraAuthorizationParameters = extraAuthorizationParameters
        self.sendsScopeWithGrants = sendsScopeWithGrants
        self.refreshTokenLifetime = refreshTokenLifetime
    }

    /// Microsoft identity platform v2.0 for Exchange Online IMAP/POP. `tenant` is the directory (tenant) id or
    /// a verified domain; `organizations` or `common` for multi-tenant apps. App-only access (client
    /// credentials) needs a specific tenant.
    public static func microsoft(tenant: String) -> OAuthProvider {
        var segmentCharacters = CharacterSet.urlPathAllowed
        segmentCharacters.remove("/")
        let segment = tenant.addingPercentEncoding(withAllowedCharacters: segmentCharacters) ?? "common"
        let base = "https://login.microsoftonline.com/\(segment)/oauth2/v2.0/"
        return OAuthProvider(
            name: "microsoft",
            authorizationURL: URL(string: base + "authorize"),
            tokenURL: URL(string: base + "token")!,
            deviceAuthorizationURL: URL(string: base + "devicecode"),
            delegatedScopes: [
                "https://outlook.office.com/IMAP.AccessAsUser.All",
                "https://outlook.office.com/POP.AccessAsUser.All",
                "offline_access",
            ],
            appOnlyScopes: ["https://outlook.office365.com/.default"], refreshTokenLifetime: 90 * 86_400)
    }

    /// Google for Gmail IMAP/POP. Google answers a refresh token only when the consent URL asks for offline
    /// access, and refuses the mail scope in its device flow (limited-input devices get a few basic scopes):
    /// use the authorization code flow for Gmail.
    public static let google = OAuthProvider(
        name: "google",
        authorizationURL: URL(string: "https://accounts.google.com/o/oauth2/v2/auth"),
        tokenURL: URL(string: "https://oauth2.googleapis.com/token")!,
        deviceAuthorizationURL: URL(string: "https://oauth2.googleapis.com/device/code"),
        delegatedScopes: ["https://mail.google.com/"],
        appOnlyScopes: ["https://mail.google.com/"],
        extraAuthorizationParameters: ["access_type": "offline", "prompt": "consent"],
        sendsScopeWithGrants: false)

    /// Any RFC 6749 server: the endpoints and scopes come from the configuration.
    public static func generic(
        authorizationURL: URL?, tokenURL: URL, deviceAuthorizationURL: URL?, scopes: [String]
    ) -> OAuthProvider {
        OAuthProvider(
            name: "generic", authorizationURL: authorizationURL, tokenURL: tokenURL,
            deviceAuthorizationURL: deviceAuthorizationURL, delegatedScopes: scopes, appOnlyScopes: scopes)
    }
}
