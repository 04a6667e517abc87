/// An error answer (RFC 6749 §5.2; RFC 8628 §3.5 adds `authorization_pending`, `slow_down`, `expired_token`).
struct OAuthErrorResponse: Decodable, Sendable {
    var error: String
    var errorDescription: String?

    enum CodingKeys: String, CodingKey {
        case error
        case errorDescription = "error_description"
    }
}
