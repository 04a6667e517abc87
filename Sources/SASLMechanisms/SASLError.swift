/// Why a SASL exchange could not go on. No case carries a password or token: the values are safe to log.
public enum SASLError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A credential cannot be sent in this mechanism's message (for example a NUL in a PLAIN password, or a token
    /// that is not an RFC 6750 `b64token`). `field` names it ("password", "accessToken", …); the value is not kept.
    case invalidCredential(mechanism: SASLMechanism, field: String, reason: String)
    /// The server sent a challenge this mechanism does not expect at this step (`step` counts challenges from 1).
    /// `challenge` is a short, escaped preview of what the server sent.
    case unexpectedChallenge(mechanism: SASLMechanism, step: Int, challenge: String)
    /// A challenge line was not base64: `offset` of the offending byte in the line.
    case invalidBase64(offset: Int, reason: String)

    public var description: String {
        switch self {
        case .invalidCredential(let mechanism, let field, let reason):
            return "SASL \(mechanism.rawValue): the \(field) cannot be sent: \(reason)"
        case .unexpectedChallenge(let mechanism, let step, let challenge):
            return "SASL \(mechanism.rawValue): unexpected server challenge #\(step): \"\(challenge)\""
        case .invalidBase64(let offset, let reason):
            return "SASL: the server's challenge is not base64 at byte \(offset): \(reason)"
        }
    }
}
