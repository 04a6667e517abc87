import Foundation
import MailboxPolling
import OAuthTokens

/// How a mailbox's OAuth2 configuration becomes the token manager's client settings, and where the tokens live;
/// shared by the daemon and `postdesk oauth login`.
public enum MailboxOAuth {
    /// Where tokens are kept: `oauth/` next to the database (0700), encrypted with `oauth/oauth-tokens.key` (0600).
    public static func storeDirectory(forDatabase path: String) -> String {
        URL(fileURLWithPath: path).deletingLastPathComponent().appendingPathComponent("oauth").path
    }

    /// The manager's settings for every OAuth mailbox. The client secret is read from its file here (the daemon
    /// starts or reloads); it is never logged.
    public static func clientSettings(_ mailboxes: [MailboxSettings]) throws(OAuthConfigurationError) -> [String:
        OAuthClientSettings]
    {
        var result: [String: OAuthClientSettings] = [:]
        for mailbox in mailboxes {
            guard case .oauth2(let oauth) = mailbox.authentication else { continue }
            result[mailbox.name] = try clientSettings(oauth, mailbox: mailbox.name)
        }
        return result
    }

    public static func clientSettings(
        _ oauth: OAuthMailboxSettings, mailbox: String
    ) throws(OAuthConfigurationError) -> OAuthClientSettings {
        func url(_ text: String?, _ key: String) throws(OAuthConfigurationError) -> URL? {
            guard let text else { return nil }
            guard let url = URL(string: text) else {
                throw OAuthConfigurationError(mailbox: mailbox, key: key, detail: "not a URL")
            }
            return url
        }
        var provider: OAuthProvider
        switch oauth.provider {
        case .microsoft: provider = .microsoft(tenant: oauth.tenant ?? "organizations")
        case .google: provider = .google
        case .generic:
            guard let tokenURL = try url(oauth.tokenURL, "token_url") else {
                throw OAuthConfigurationError(mailbox: mailbox, key: "token_url", detail: "missing")
            }
            provider = .generic(
                authorizationURL: try url(oauth.authorizeURL, "authorize_url"), tokenURL: tokenURL,
                deviceAuthorizationURL: try url(oauth.deviceURL, "device_url"), scopes: oauth.scopes)
        }
        // Overrides of a preset's endpoints (a proxy, a sovereign cloud).
        if oauth.provider != .generic {
            if let tokenURL = try url(oauth.tokenURL, "token_url") { provider.tokenURL = tokenURL }
            if let authorizeURL = try url(oauth.authorizeURL, "authorize_url") {
                provider.authorizationURL = authorizeURL
            }
            if let deviceURL = try url(oauth.deviceURL, "device_url") { provider.deviceAuthorizationURL = deviceURL }
        }
        var secret: String?
        if let file = oauth.clientSecretFile {
            guard let data = FileManager.default.contents(atPath: file) else {
                throw OAuthConfigurationError(
                    mailbox: mailbox, key: "client_secret_file", detail: "cannot read \(file)")
            }
            secret = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        }
        let flow: OAuthFlow =
            switch oauth.flow {
            case .authorizationCode: .authorizationCode
            case .clientCredentials: .clientCredentials
            case .deviceCode: .deviceCode
            }
        return OAuthClientSettings(
            provider: provider, clientID: oauth.clientID, clientSecret: secret, flow: flow,
            clientSecretExpiresAt: oauth.clientSecretExpires,
            scopes: oauth.scopes.isEmpty || oauth.provider == .generic ? nil : oauth.scopes)
    }
}

/// A mailbox's OAuth settings that cannot be used (the secret file vanished since `check-config`).
public struct OAuthConfigurationError: Error, Sendable, CustomStringConvertible {
    public var mailbox: String
    public var key: String
    public var detail: String

    public var description: String { "mailboxes.\(mailbox).auth.oauth2.\(key): \(detail)" }
}
