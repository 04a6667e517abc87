import Foundation

/// One mailbox's OAuth client: who we are to the provider and how consent is obtained. The client secret is
/// read from its file by the caller; `description` never shows it.
public struct OAuthClientSettings: Sendable, Equatable, CustomStringConvertible {
    public var provider: OAuthProvider
    public var clientID: String
    /// Confidential clients' secret; nil for public clients (PKCE alone). Required by client credentials.
    public var clientSecret: String?
    public var flow: OAuthFlow
    /// When the client secret stops working (Microsoft secrets expire after at most 2 years), for health.
    public var clientSecretExpiresAt: Date?
    /// Replaces the provider's default scopes when set.
    public var scopes: [String]?

    public init(
        provider: OAuthProvider, clientID: String, clientSecret: String? = nil, flow: OAuthFlow,
        clientSecretExpiresAt: Date? = nil, scopes: [String]? = nil
    ) {
        self.provider = provider
        self.clientID = clientID
        self.clientSecret = clientSecret
        self.flow = flow
        self.clientSecretExpiresAt = clientSecretExpiresAt
        self.scopes = scopes
    }

    /// The scopes requested: the override, else the provider's app-only or delegated ones for this flow.
    public var effectiveScopes: [String] {
        scopes ?? (flow == .clientCredentials ? provider.appOnlyScopes : provider.delegatedScopes)
    }

    public var description: String {
        "\(provider.name) client \(clientID), \(flow.rawValue), secret \(clientSecret == nil ? "none" : "set")"
    }
}
