/// How a mailbox obtains its first tokens, and so what a refresh does.
public enum OAuthFlow: String, Sendable, Codable, CaseIterable {
    /// A person consents once in a browser (RFC 6749 §4.1 with PKCE, RFC 7636); refresh tokens keep it alive.
    case authorizationCode = "authorization_code"
    /// App-only access with the client's own secret (RFC 6749 §4.4); no refresh token, no person involved.
    case clientCredentials = "client_credentials"
    /// A person consents on another device with a short code (RFC 8628), for servers without a browser.
    case deviceCode = "device_code"
}
