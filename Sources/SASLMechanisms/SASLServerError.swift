import Foundation
import MailParser

/// The error details an OAuth server sends in its SASL failure challenge (XOAUTH2, RFC 7628 OAUTHBEARER): a
/// base64 JSON object such as `{"status":"400","schemes":"Bearer","scope":"https://mail.google.com/"}` or
/// `{"status":"invalid_token","scope":"…","openid-configuration":"…"}`. Kept so that the daemon can log the
/// server's own words next to the final `NO`/`-ERR`.
public struct SASLServerError: Sendable, Hashable, CustomStringConvertible {
    /// `status`: an HTTP-like code (Google: "400", "401") or an RFC 6749 error ("invalid_token").
    public var status: String?
    /// `scope`: the scope the token lacks or the resource needs.
    public var scope: String?
    /// `schemes`: the HTTP authentication schemes the server accepts (XOAUTH2).
    public var schemes: String?
    /// `openid-configuration`: where the server's OAuth metadata lives (RFC 7628).
    public var openIDConfiguration: String?
    /// The decoded challenge as text (UTF-8, invalid sequences replaced), control characters escaped; also set
    /// when the challenge is not JSON at all.
    public var rawText: String

    /// Reads a decoded failure challenge. Never fails: text that is not a JSON object keeps only `rawText`.
    /// O(n) in the challenge (one JSON parse, one escaping pass).
    public init(challenge: [UInt8]) {
        rawText = TerminalText.escaped(String(decoding: challenge, as: UTF8.self))
        guard
            let object = try? JSONSerialization.jsonObject(with: Data(challenge), options: []) as? [String: Any]
        else { return }
        status = Self.text(object["status"])
        scope = Self.text(object["scope"])
        schemes = Self.text(object["schemes"])
        openIDConfiguration = Self.text(object["openid-configuration"])
    }

    public var description: String {
        var parts: [String] = []
        if let status { parts.append("status=\(TerminalText.escaped(status))") }
        if let scope { parts.append("scope=\(TerminalText.escaped(scope))") }
        if let schemes { parts.append("schemes=\(TerminalText.escaped(schemes))") }
        if parts.isEmpty { parts.append("raw=\(rawText)") }
        return "server error: " + parts.joined(separator: " ")
    }

    /// A JSON string or number as text; other JSON values are ignored.
    private static func text(_ value: Any?) -> String? {
        switch value {
        case let string as String: return string
        case let number as NSNumber: return number.stringValue
        default: return nil
        }
    }
}
