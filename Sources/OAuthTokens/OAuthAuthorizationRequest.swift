import Foundation

/// One consent in a browser (RFC 6749 §4.1 with PKCE S256): the URL to open, and the check of what comes back
/// (a redirect to the loopback listener, or what the person pastes), which must carry our `state`.
public struct OAuthAuthorizationRequest: Sendable {
    /// The provider's consent page with every parameter filled in.
    public let url: URL
    public let redirectURI: String
    /// Random, 128 bits: a redirect with another value was not caused by this request.
    public let state: String
    public let pkce: OAuthPKCE

    /// Builds the consent URL (`state` random unless given). Fails when the provider has no authorization
    /// endpoint.
    public init(
        settings: OAuthClientSettings, mailbox: String, redirectURI: String, loginHint: String? = nil,
        state: String? = nil, pkce: OAuthPKCE = OAuthPKCE()
    ) throws(OAuthError) {
        let state = state ?? OAuthPKCE.randomToken(byteCount: 16)
        guard let base = settings.provider.authorizationURL else {
            throw OAuthError(
                kind: .notConfigured, mailbox: mailbox, endpoint: settings.provider.name,
                detail: "the provider has no authorization endpoint (set authorize_url, or use another flow)")
        }
        var parameters = [
            ("response_type", "code"), ("client_id", settings.clientID), ("redirect_uri", redirectURI),
            ("scope", settings.effectiveScopes.joined(separator: " ")), ("state", state),
            ("code_challenge", pkce.challenge), ("code_challenge_method", OAuthPKCE.method),
        ]
        parameters += settings.provider.extraAuthorizationParameters.sorted { $0.key < $1.key }.map {
            ($0.key, $0.value)
        }
        if let loginHint { parameters.append(("login_hint", loginHint)) }
        let separator = base.absoluteString.contains("?") ? "&" : "?"
        guard let url = URL(string: base.absoluteString + separator + OAuthFormEncoding.encode(parameters)) else {
            throw OAuthError(
                kind: .notConfigured, mailbox: mailbox, endpoint: base.absoluteString,
                detail: "the consent URL cannot be built")
        }
        self.url = url
        self.redirectURI = redirectURI
        self.state = state
        self.pkce = pkce
    }

    /// The code in a redirect URL, its query, or a bare code the person pasted. A URL or query must carry
    /// this request's `state`; an `error` in it becomes a typed error with the server's words.
    public func authorizationCode(from text: String, mailbox: String) throws(OAuthError) -> String {
        try Self.authorizationCode(from: text, state: state, mailbox: mailbox, endpoint: redirectURI)
    }

    /// See `authorizationCode(from:mailbox:)`; for the listener, which exists before the request.
    /// O(n) in the text's bytes.
    static func authorizationCode(
        from text: String, state: String, mailbox: String, endpoint: String
    ) throws(OAuthError) -> String {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        let query: Substring
        if let mark = trimmed.firstIndex(of: "?") {
            query = trimmed[trimmed.index(after: mark)...].prefix { $0 != "#" }
        } else if trimmed.contains("=") {
            query = Substring(trimmed)
        } else {
            guard !trimmed.isEmpty, !trimmed.contains(where: \.isWhitespace) else {
                throw OAuthError(
                    kind: .refused, mailbox: mailbox, endpoint: endpoint,
                    detail: "neither a redirect URL nor an authorization code")
            }
            return trimmed
        }
        let pairs = Dictionary(OAuthFormEncoding.decode(query), uniquingKeysWith: { first, _ in first })
        if let error = pairs["error"] {
            throw OAuthError(
                kind: error == "access_denied" ? .accessDenied : .refused, mailbox: mailbox, endpoint: endpoint,
                serverError: error, serverDescription: pairs["error_description"],
                detail: "the provider answered the consent with an error")
        }
        guard pairs["state"] == state else {
            throw OAuthError(
                kind: .stateMismatch, mailbox: mailbox, endpoint: endpoint,
                detail: "the redirect's state is not the one sent (a stale or forged redirect)")
        }
        guard let code = pairs["code"], !code.isEmpty else {
            throw OAuthError(
                kind: .refused, mailbox: mailbox, endpoint: endpoint, detail: "the redirect carries no code")
        }
        return code
    }
}
