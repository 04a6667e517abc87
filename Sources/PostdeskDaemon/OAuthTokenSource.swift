import Foundation
import MailServerClient
import MailboxPolling
import OAuthTokens

/// The poller's OAuth2 access tokens, from the token manager; and the mapping from a mailbox's configuration to
/// the manager's client settings.
struct OAuthTokenSource: AccessTokenSource, AccessTokenHealthSource {
    let manager: OAuthTokenManager

    func accessToken(for mailbox: String) async throws -> String {
        try await manager.accessToken(for: mailbox)
    }

    func tokenRejected(for mailbox: String) async {
        await manager.tokenRejected(for: mailbox)
    }

    func tokenHealth(for mailbox: String) async -> AccessTokenHealthReport {
        let health = await manager.health(for: mailbox)
        return AccessTokenHealthReport(
            accessTokenExpires: health.accessTokenExpiresAt, refreshTokenIssued: health.refreshTokenObtainedAt,
            warnings: health.expiryWarnings())
    }
}
