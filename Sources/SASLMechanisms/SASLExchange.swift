import MailParser

/// One client-side SASL exchange (PLAIN, LOGIN, XOAUTH2, OAUTHBEARER) as a value-type state machine, usable by any
/// protocol driver (IMAP `AUTHENTICATE`, POP3 `AUTH`): the driver sends `initialResponse` with the command when the
/// server allows an initial response (SASL-IR), then answers each server challenge with
/// `respond(toChallenge:)` until the server's final OK or NO/`-ERR`. The bytes here are raw; the driver base64s
/// them for the wire (`SASLBase64`).
///
/// When an OAuth server refuses the token it first sends a JSON failure challenge; `respond` then returns the
/// answer that ends the exchange (XOAUTH2: empty; OAUTHBEARER: `\x01`) and keeps the decoded details in
/// `serverError`, so the driver can report the server's words with the NO/`-ERR` that follows.
///
/// The password or token never appears in `description`, `debugDescription`, `dump` or any error.
public struct SASLExchange: Sendable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// Where the exchange stands.
    public enum Phase: Sendable, Hashable {
        /// Nothing sent yet (or only `initialResponse`, which the exchange cannot see unless told).
        case started
        /// The credentials (or, for LOGIN, the user name) went out; waiting for the outcome or the next prompt.
        case credentialsSent
        /// The server sent a failure challenge and the client acknowledged it; the final NO/`-ERR` comes next.
        case failureAcknowledged
    }

    /// The mechanism, for the `AUTH`/`AUTHENTICATE` command.
    public let mechanism: SASLMechanism
    /// The user name (authentication identity); not secret, shown in `description`.
    public let username: String
    /// Where the exchange stands.
    public private(set) var phase: Phase = .started
    /// The failure details the server sent in its last challenge (XOAUTH2, OAUTHBEARER), if any.
    public private(set) var serverError: SASLServerError?
    /// Challenges answered so far.
    public private(set) var challengeCount = 0

    /// The full credential message (PLAIN, XOAUTH2, OAUTHBEARER), or for LOGIN the password; secret either way.
    private let credentials: SASLSecret
    /// LOGIN's answer to its first prompt.
    private let loginUsername: [UInt8]

    private init(mechanism: SASLMechanism, username: String, credentials: SASLSecret, loginUsername: [UInt8] = []) {
        self.mechanism = mechanism
        self.username = username
        self.credentials = credentials
        self.loginUsername = loginUsername
    }

    // MARK: Mechanisms

    /// PLAIN (RFC 4616): `[authzid] NUL authcid NUL passwd`, all UTF-8. `authorizationIdentity` acts as another
    /// user (admin access to a shared mailbox); nil or empty leaves it out. Throws when a field is empty where the
    /// RFC requires text or contains NUL. O(n) in the credentials, as are the other constructors.
    public static func plain(
        username: String, password: String, authorizationIdentity: String? = nil
    ) throws(SASLError) -> SASLExchange {
        let authzid = Array((authorizationIdentity ?? "").utf8)
        let user = Array(username.utf8)
        let secret = Array(password.utf8)
        try require(!user.isEmpty, .plain, "username", "is empty")
        try require(!secret.isEmpty, .plain, "password", "is empty")
        try require(!authzid.contains(0), .plain, "authorizationIdentity", "contains NUL")
        try require(!user.contains(0), .plain, "username", "contains NUL")
        try require(!secret.contains(0), .plain, "password", "contains NUL")
        let message = authzid + [0] + user + [0] + secret
        return SASLExchange(mechanism: .plain, username: username, credentials: SASLSecret(bytes: message))
    }

    /// LOGIN: answers the server's first prompt (normally `Username:`) with the user name and the second
    /// (`Password:`) with the password, by order rather than by the prompt's wording, which varies by server.
    /// There is no initial response. O(n) in the credentials.
    public static func login(username: String, password: String) throws(SASLError) -> SASLExchange {
        try require(!username.isEmpty, .login, "username", "is empty")
        try require(!password.isEmpty, .login, "password", "is empty")
        return SASLExchange(
            mechanism: .login, username: username, credentials: SASLSecret(password),
            loginUsername: Array(username.utf8))
    }

    /// XOAUTH2 (Google, Microsoft): `user=U\x01auth=Bearer T\x01\x01`. The token must be an RFC 6750
    /// `b64token`; the user name must not contain control characters. O(n) in the credentials.
    public static func xoauth2(username: String, accessToken: String) throws(SASLError) -> SASLExchange {
        let user = Array(username.utf8)
        try require(!user.isEmpty, .xoauth2, "username", "is empty")
        try require(!user.contains(where: isControl), .xoauth2, "username", "contains a control character")
        let token = try bearerToken(accessToken, .xoauth2)
        let message = Array("user=".utf8) + user + Array("\u{1}auth=Bearer ".utf8) + token + [1, 1]
        return SASLExchange(mechanism: .xoauth2, username: username, credentials: SASLSecret(bytes: message))
    }

    /// OAUTHBEARER (RFC 7628): `n,a=U,\x01host=H\x01port=P\x01auth=Bearer T\x01\x01`. `username` becomes the GS2
    /// authorization identity (`,` and `=` escaped as `=2C`, `=3D`; empty leaves it out); `host` and `port` are
    /// the server as the client reached it (optional, but Microsoft and Dovecot accept them). O(n) in the
    /// credentials.
    public static func oauthBearer(
        username: String, accessToken: String, host: String? = nil, port: Int? = nil
    ) throws(SASLError) -> SASLExchange {
        let user = Array(username.utf8)
        try require(!user.contains(where: isControl), .oauthBearer, "username", "contains a control character")
        let token = try bearerToken(accessToken, .oauthBearer)
        var message = Array("n,".utf8)
        if !user.isEmpty {
            message += Array("a=".utf8)
            for byte in user {
                switch byte {
                case UInt8(ascii: ","): message += Array("=2C".utf8)
                case UInt8(ascii: "="): message += Array("=3D".utf8)
                default: message.append(byte)
                }
            }
        }
        message += Array(",".utf8)
        if let host {
            let hostBytes = Array(host.utf8)
            try require(!hostBytes.isEmpty, .oauthBearer, "host", "is empty")
            try require(!hostBytes.contains(where: isControl), .oauthBearer, "host", "contains a control character")
            message += Array("\u{1}host=".utf8) + hostBytes
        }
        if let port {
            try require((1...65535).contains(port), .oauthBearer, "port", "is not in 1...65535")
            message += Array("\u{1}port=\(port)".utf8)
        }
        message += Array("\u{1}auth=Bearer ".utf8) + token + [1, 1]
        return SASLExchange(mechanism: .oauthBearer, username: username, credentials: SASLSecret(bytes: message))
    }

    // MARK: The exchange

    /// The client's first message, for SASL-IR (sent with the command), or nil for LOGIN, which has none. Reading
    /// it changes nothing: if the driver does not send it, the server asks with an empty challenge and
    /// `respond` answers with these bytes. O(1): the message was built once, by the constructor.
    public var initialResponse: [UInt8]? {
        mechanism == .login ? nil : credentials.bytes
    }

    /// Tells the exchange that `initialResponse` went out with the command, so that a later empty challenge is
    /// recognised as unexpected instead of being answered with the credentials again.
    public mutating func initialResponseSent() {
        if mechanism != .login, phase == .started { phase = .credentialsSent }
    }

    /// The answer to one server challenge (already base64-decoded). Throws `SASLError.unexpectedChallenge` for a
    /// challenge this mechanism does not expect at this point; the driver should then cancel the exchange
    /// (`*`). O(n) in the challenge (a failure challenge is parsed once as JSON).
    public mutating func respond(toChallenge challenge: [UInt8]) throws(SASLError) -> [UInt8] {
        challengeCount += 1
        switch (mechanism, phase) {
        case (_, .failureAcknowledged):
            break
        case (.login, .started):
            phase = .credentialsSent
            return loginUsername
        case (.login, .credentialsSent) where challengeCount == 2:
            return credentials.bytes
        case (.plain, .started), (.xoauth2, .started), (.oauthBearer, .started):
            if challenge.isEmpty {
                phase = .credentialsSent
                return credentials.bytes
            }
            // An OAuth server may refuse at once, for example when the initial response was sent unseen.
            if mechanism != .plain { return acknowledgeFailure(challenge) }
        case (.xoauth2, .credentialsSent), (.oauthBearer, .credentialsSent):
            if !challenge.isEmpty { return acknowledgeFailure(challenge) }
        default:
            break
        }
        throw .unexpectedChallenge(mechanism: mechanism, step: challengeCount, challenge: Self.preview(challenge))
    }

    /// Keeps the server's failure details and returns the answer that lets the server send its final refusal.
    private mutating func acknowledgeFailure(_ challenge: [UInt8]) -> [UInt8] {
        serverError = SASLServerError(challenge: challenge)
        phase = .failureAcknowledged
        return mechanism == .oauthBearer ? [1] : []
    }

    // MARK: Text forms (never the secret)

    public var description: String {
        "SASLExchange(\(mechanism.rawValue) for \"\(TerminalText.escaped(username))\", \(phase), "
            + "\(challengeCount) challenge(s)" + (serverError.map { ", \($0)" } ?? "") + ")"
    }

    public var debugDescription: String { description }

    public var customMirror: Mirror {
        Mirror(
            self,
            children: [
                "mechanism": mechanism, "username": username, "phase": phase, "challengeCount": challengeCount,
                "serverError": serverError as Any,
            ], displayStyle: .struct)
    }

    // MARK: Validation

    private static func require(
        _ condition: Bool, _ mechanism: SASLMechanism, _ field: String, _ reason: String
    ) throws(SASLError) {
        guard condition else { throw .invalidCredential(mechanism: mechanism, field: field, reason: reason) }
    }

    /// The token's bytes if it is an RFC 6750 `b64token`: `1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" /
    /// "/" ) *"="`. O(n) in the token.
    private static func bearerToken(_ token: String, _ mechanism: SASLMechanism) throws(SASLError) -> [UInt8] {
        let bytes = Array(token.utf8)
        let body = bytes.prefix { isTokenCharacter($0) }
        let padding = bytes[body.endIndex...]
        try require(!body.isEmpty, mechanism, "accessToken", "is empty or starts with a character outside b64token")
        try require(
            padding.allSatisfy { $0 == UInt8(ascii: "=") }, mechanism, "accessToken",
            "has a character outside b64token")
        return bytes
    }

    private static func isTokenCharacter(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        default:
            return "-._~+/".utf8.contains(byte)
        }
    }

    private static func isControl(_ byte: UInt8) -> Bool { byte < 0x20 || byte == 0x7F }

    /// The first 64 bytes of a challenge as escaped text, for an error message.
    private static func preview(_ challenge: [UInt8]) -> String {
        TerminalText.escaped(String(decoding: challenge.prefix(64), as: UTF8.self))
            + (challenge.count > 64 ? "…" : "")
    }
}
