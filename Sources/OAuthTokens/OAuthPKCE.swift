import Crypto
import Foundation
import MailParser

/// A PKCE pair (RFC 7636): the verifier stays here, the S256 challenge goes into the consent URL, and the
/// token endpoint checks one against the other, so an intercepted code is useless to anyone else.
public struct OAuthPKCE: Sendable, Equatable {
    /// 43 characters of base64url from 32 random bytes (RFC 7636 §4.1 asks for 43 to 128).
    public let verifier: String

    /// A fresh random verifier.
    public init() {
        self.init(verifier: Self.randomToken(byteCount: 32))
    }

    /// A given verifier (tests, or the RFC's example).
    public init(verifier: String) {
        self.verifier = verifier
    }

    /// BASE64URL(SHA256(ASCII(verifier))), without padding.
    public var challenge: String {
        Self.base64URL(Data(SHA256.hash(data: Data(verifier.utf8))))
    }

    /// The only method we send: `plain` would put the verifier itself in the URL.
    public static let method = "S256"

    /// Random bytes as unpadded base64url: PKCE verifiers and `state` values.
    static func randomToken(byteCount: Int) -> String {
        var generator = SystemRandomNumberGenerator()
        return base64URL(Data((0..<byteCount).map { _ in UInt8.random(in: 0...255, using: &generator) }))
    }

    static func base64URL(_ data: Data) -> String {
        Base64URL.encode(data)
    }
}
