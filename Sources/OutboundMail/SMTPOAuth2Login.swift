import MailServerClient

/// How the submission client logs in to the relay with OAuth2 (AUTH XOAUTH2): as whom, and whose access tokens it
/// uses. The tokens are a polled mailbox's (`outbound.auth.oauth2_mailbox`), from the daemon's one token manager,
/// so the relay and the mailbox share one consent, one refresh and one store.
public struct SMTPOAuth2Login: Sendable {
    /// The XOAUTH2 `user=`: the account the token was issued for.
    public var username: String
    /// The token manager's key: the mailbox whose tokens are used.
    public var tokenSource: String
    public var tokens: any AccessTokenSource

    public init(username: String, tokenSource: String, tokens: any AccessTokenSource) {
        self.username = username
        self.tokenSource = tokenSource
        self.tokens = tokens
    }

    /// Names the token source in errors and logs, the way an operator configured it.
    var source: String { "mailbox \(tokenSource)'s OAuth2 tokens (outbound.auth.oauth2_mailbox)" }
}
