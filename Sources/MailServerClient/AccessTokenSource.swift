/// Where OAuth2 access tokens come from (the daemon's token manager) for a polled mailbox's login and for the
/// outbound relay's AUTH XOAUTH2. A rejection from the server is reported back, so the next token is a fresh one.
public protocol AccessTokenSource: Sendable {
    func accessToken(for mailbox: String) async throws -> String
    func tokenRejected(for mailbox: String) async
}
