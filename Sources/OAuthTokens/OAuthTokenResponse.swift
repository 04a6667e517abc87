/// A successful token answer (RFC 6749 §5.1), decoded strictly: `access_token` and `token_type` must be
/// there and be strings, the type must be Bearer (RFC 6750), and `expires_in` a whole number of seconds (a
/// string of digits is accepted too: Azure AD v1 endpoints send it quoted). Other fields (`id_token`,
/// Microsoft's `ext_expires_in`) are ignored. `description` shows no token.
struct OAuthTokenResponse: Decodable, Sendable, CustomStringConvertible {
    var accessToken: String
    var tokenType: String
    var expiresIn: Int?
    var refreshToken: String?
    var scope: String?

    enum CodingKeys: String, CodingKey {
        case accessToken = "access_token"
        case tokenType = "token_type"
        case expiresIn = "expires_in"
        case refreshToken = "refresh_token"
        case scope
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        accessToken = try container.decode(String.self, forKey: .accessToken)
        tokenType = try container.decode(String.self, forKey: .tokenType)
        refreshToken = try container.decodeIfPresent(String.self, forKey: .refreshToken)
        scope = try container.decodeIfPresent(String.self, forKey: .scope)
        if let seconds = try? container.decodeIfPresent(Int.self, forKey: .expiresIn) {
            expiresIn = seconds
        } else if let text = try container.decodeIfPresent(String.self, forKey: .expiresIn) {
            guard let seconds = Int(text) else {
                throw DecodingError.dataCorruptedError(
                    forKey: .expiresIn, in: container, debugDescription: "expires_in is not a number of seconds")
            }
            expiresIn = seconds
        } else {
            expiresIn = nil
        }
        guard !accessToken.isEmpty else {
            throw DecodingError.dataCorruptedError(
                forKey: .accessToken, in: container, debugDescription: "access_token is empty")
        }
        guard tokenType.lowercased() == "bearer" else {
            throw DecodingError.dataCorruptedError(
                forKey: .tokenType, in: container, debugDescription: "token_type is not Bearer")
        }
        if let expiresIn, expiresIn <= 0 {
            throw DecodingError.dataCorruptedError(
                forKey: .expiresIn, in: container, debugDescription: "expires_in is not positive")
        }
    }

    var description: String {
        "token response (Bearer, expires_in \(expiresIn.map(String.init) ?? "absent"), refresh token "
            + "\(refreshToken == nil ? "absent" : "present"))"
    }
}
