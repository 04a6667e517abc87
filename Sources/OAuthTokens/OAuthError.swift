/// Why a token could not be obtained, with the mailbox, the endpoint (or the store's file), the HTTP status
/// and the server's own words (`error`, `error_description`). Never carries a token or a secret.
public struct OAuthError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What the caller can do about it.
    public enum Kind: String, Sendable {
        /// The mailbox has no OAuth settings.
        case notConfigured = "not configured"
        /// No tokens are stored, or the refresh token was revoked or expired (`invalid_grant` on a refresh): a
        /// person must consent again (`postdesk oauth login NAME`). Retrying does not help.
        case consentRequired = "re-consent needed"
        /// The client id or secret was refused (`invalid_client`, `unauthorized_client`).
        case invalidClient = "client refused"
        /// The server refused the request for another reason (`invalid_scope`, `invalid_request`, a used code).
        case refused = "refused"
        /// The server failed or could not be reached (5xx, 429, timeout, connection error): retry later.
        case unavailable = "unavailable"
        /// The server's answer is not a valid token response.
        case malformedResponse = "malformed response"
        /// The person declined (`access_denied`).
        case accessDenied = "access denied"
        /// The device code or the wait for consent ran out (`expired_token`).
        case consentExpired = "consent expired"
        /// A redirect carried another `state` than the one we sent (a forged or stale redirect).
        case stateMismatch = "state mismatch"
        /// The token store or its key file cannot be read, written or decrypted.
        case store = "token store"
    }

    public var kind: Kind
    /// The configured mailbox name; nil for errors of the whole store (its key file).
    public var mailbox: String?
    /// The URL called, or the file read or written.
    public var endpoint: String
    public var httpStatus: Int?
    /// The server's RFC 6749 `error` code.
    public var serverError: String?
    /// The server's `error_description`, or the start of a non-JSON error body.
    public var serverDescription: String?
    /// Our own words: which step failed.
    public var detail: String

    public init(
        kind: Kind, mailbox: String?, endpoint: String, httpStatus: Int? = nil, serverError: String? = nil,
        serverDescription: String? = nil, detail: String
    ) {
        self.kind = kind
        self.mailbox = mailbox
        self.endpoint = endpoint
        self.httpStatus = httpStatus
        self.serverError = serverError
        self.serverDescription = serverDescription
        self.detail = detail
    }

    /// Whether trying again later can succeed without anyone acting.
    public var isRetryable: Bool { kind == .unavailable }

    /// Whether a person must run the consent again.
    public var needsConsent: Bool { kind == .consentRequired }

    public var description: String {
        var text = mailbox.map { "mailbox \($0): " } ?? ""
        text += "oauth \(kind.rawValue): \(detail) (\(endpoint)"
        if let httpStatus { text += ", HTTP \(httpStatus)" }
        text += ")"
        if let serverError { text += ": \(serverError)" }
        if let serverDescription { text += serverError == nil ? ": \(serverDescription)" : " – \(serverDescription)" }
        if kind == .consentRequired, let mailbox { text += " – re-consent needed (postdesk oauth login \(mailbox))" }
        return text
    }
}
