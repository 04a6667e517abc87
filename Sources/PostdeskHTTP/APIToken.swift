import Crypto
import Foundation
import MailParser

/// What a token may do: `read` reads everything, `write` also changes tickets and replays quarantine.
public enum APIScope: String, Sendable, Hashable, CaseIterable, Codable {
    case read, write

    /// Whether a token of this scope may do what `required` asks.
    public func allows(_ required: APIScope) -> Bool {
        self == .write || required == .read
    }
}

/// Bearer tokens of the API: `pd_` and 32 random bytes in unpadded base64url. Only their SHA-256 is stored, and a
/// presented token is checked by comparing hashes in constant time.
public enum APIToken {
    public static let prefix = "pd_"

    /// A new random token (43 base64url characters after the prefix), from the system's CSPRNG.
    public static func generate() -> String {
        let key = SymmetricKey(size: .bits256)
        return prefix + key.withUnsafeBytes { Base64URL.encode(Data($0)) }
    }

    /// The lower-case hex SHA-256 of `token`: what the store keeps.
    public static func hash(_ token: String) -> String {
        HexEncoding.lowercase(SHA256.hash(data: Data(token.utf8)))
    }

    /// Compares two hex hashes in time that does not depend on where they differ (MailParser's one comparison).
    static func constantTimeEquals(_ lhs: String, _ rhs: String) -> Bool {
        ConstantTimeComparison.equals(lhs, rhs)
    }
}
