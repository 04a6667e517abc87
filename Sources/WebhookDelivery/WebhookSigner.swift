import Crypto
import Foundation

/// Signs webhook requests the Standard Webhooks way (standardwebhooks.com): `webhook-signature: v1,<base64 of
/// HMAC-SHA256 over "id.timestamp.body">`. A secret written `whsec_<base64>` is the base64-decoded bytes after
/// the prefix, as the Standard Webhooks libraries read it; any other secret is used as its UTF-8 bytes.
public struct WebhookSigner: Sendable {
    private let key: SymmetricKey

    /// - Parameter secret: the content of `secret_file`, surrounding white space ignored.
    public init(secret: String) throws(WebhookSecretError) {
        let trimmed = secret.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else { throw WebhookSecretError(reason: "the secret is empty") }
        if trimmed.hasPrefix("whsec_") {
            guard let bytes = Data(base64Encoded: String(trimmed.dropFirst(6))), !bytes.isEmpty else {
                throw WebhookSecretError(reason: "a whsec_ secret must be base64 after the prefix")
            }
            key = SymmetricKey(data: bytes)
        } else {
            guard trimmed.utf8.count >= 16 else {
                throw WebhookSecretError(reason: "the secret must have at least 16 characters")
            }
            key = SymmetricKey(data: Data(trimmed.utf8))
        }
    }

    /// Whether `other` signs with the same secret (a reload tells a changed endpoint by it).
    func hasSameKey(as other: WebhookSigner) -> Bool {
        key.withUnsafeBytes { mine in other.key.withUnsafeBytes { theirs in mine.elementsEqual(theirs) } }
    }

    /// The `webhook-signature` header value for one request.
    public func signature(id: String, timestamp: Int, body: [UInt8]) -> String {
        var hmac = HMAC<SHA256>(key: key)
        hmac.update(data: Array("\(id).\(timestamp).".utf8))
        hmac.update(data: body)
        return "v1," + Data(hmac.finalize()).base64EncodedString()
    }
}

/// Why a webhook secret cannot be used; the secret itself is never part of it.
public struct WebhookSecretError: Error, Sendable, CustomStringConvertible {
    public var reason: String

    public init(reason: String) { self.reason = reason }

    public var description: String { reason }
}
