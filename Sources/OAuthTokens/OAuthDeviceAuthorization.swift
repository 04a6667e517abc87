import Foundation

/// What a person needs to consent from another device (RFC 8628 §3.2): open `verificationURI` and type
/// `userCode`. The device code itself stays inside; `description` shows only what the person sees.
public struct OAuthDeviceAuthorization: Sendable, Decodable, CustomStringConvertible {
    /// The short code the person types.
    public var userCode: String
    /// Where the person types it.
    public var verificationURI: String
    /// The same page with the code filled in, when the server offers it.
    public var verificationURIComplete: String?
    /// Seconds until the device code expires.
    public var expiresIn: Int
    /// Seconds between polls the server asks for (5 when it does not say).
    public var interval: Int
    /// The server's ready-made sentence (Microsoft sends one), if any.
    public var message: String?
    let deviceCode: String

    enum CodingKeys: String, CodingKey {
        case userCode = "user_code"
        case deviceCode = "device_code"
        case verificationURI = "verification_uri"
        case verificationURL = "verification_url"  // Google's older name for the same field
        case verificationURIComplete = "verification_uri_complete"
        case expiresIn = "expires_in"
        case interval
        case message
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        userCode = try container.decode(String.self, forKey: .userCode)
        deviceCode = try container.decode(String.self, forKey: .deviceCode)
        if let uri = try container.decodeIfPresent(String.self, forKey: .verificationURI) {
            verificationURI = uri
        } else {
            verificationURI = try container.decode(String.self, forKey: .verificationURL)
        }
        verificationURIComplete = try container.decodeIfPresent(String.self, forKey: .verificationURIComplete)
        expiresIn = try container.decode(Int.self, forKey: .expiresIn)
        interval = try container.decodeIfPresent(Int.self, forKey: .interval) ?? 5
        message = try container.decodeIfPresent(String.self, forKey: .message)
        guard expiresIn > 0, interval >= 0, !deviceCode.isEmpty, !userCode.isEmpty else {
            throw DecodingError.dataCorruptedError(
                forKey: .expiresIn, in: container, debugDescription: "device authorization out of range")
        }
    }

    public var description: String {
        "open \(verificationURI) and enter the code \(userCode) (expires in \(expiresIn) s)"
    }
}
