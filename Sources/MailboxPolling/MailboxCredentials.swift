import Foundation
import MailServerClient
import SASLMechanisms

/// The secret a mailbox logs in with, read at each connection and never logged.
enum MailboxCredentials {
    case password(String)
    case accessToken(String, mechanism: OAuthMailboxSettings.Mechanism)

    static func resolve(
        _ settings: MailboxSettings, tokens: (any AccessTokenSource)?
    ) async throws(MailboxError) -> MailboxCredentials {
        switch settings.authentication {
        case .password(.file(let path)):
            guard let data = FileManager.default.contents(atPath: path) else {
                throw MailboxError(.configuration, "cannot read the password file \(path)")
            }
            // One trailing newline is the file's, not the password's.
            var text = String(decoding: data, as: UTF8.self)
            if text.hasSuffix("\r\n") {
                text.removeLast(2)
            } else if text.hasSuffix("\n") {
                text.removeLast()
            }
            return .password(text)
        case .password(.environment(let name)):
            guard let value = ProcessInfo.processInfo.environment[name] else {
                throw MailboxError(.configuration, "the environment variable \(name) is not set")
            }
            return .password(value)
        case .oauth2(let oauth):
            guard let tokens else { throw MailboxError(.token, "no OAuth2 token manager is running") }
            do {
                return .accessToken(try await tokens.accessToken(for: settings.name), mechanism: oauth.mechanism)
            } catch {
                throw MailboxError(.token, "\(error)")
            }
        }
    }

    /// The SASL exchange of an OAuth2 access token (XOAUTH2 or OAUTHBEARER); nil for a password, whose login
    /// depends on what the server offers.
    func oauthExchange(for settings: MailboxSettings) throws(MailboxError) -> SASLExchange? {
        guard case .accessToken(let token, let mechanism) = self else { return nil }
        do {
            switch mechanism {
            case .xoauth2: return try .xoauth2(username: settings.username, accessToken: token)
            case .oauthbearer:
                return try .oauthBearer(
                    username: settings.username, accessToken: token, host: settings.host, port: settings.port)
            }
        } catch {
            throw MailboxError(.authentication, "\(error)")
        }
    }
}
