/// Where and how outbound mail is submitted over SMTP (`outbound.relay`, `starttls`, `ca_file`, `username`,
/// `password_file`).
public struct SMTPRelaySettings: Sendable, Hashable {
    /// `outbound.starttls`.
    public enum StartTLSMode: String, Sendable, CaseIterable {
        /// Use STARTTLS when the relay offers it (the certificate is then verified all the same).
        case auto
        /// Fail the submission (temporarily) when the relay does not offer it.
        case required
        /// Never.
        case off
    }

    /// AUTH credentials; the password is read from `password_file` at each submission by the caller.
    public struct Credentials: Sendable, Hashable {
        public var username: String
        public var password: String

        public init(username: String, password: String) {
            self.username = username
            self.password = password
        }
    }

    public var host: String
    public var port: Int
    public var starttls: StartTLSMode
    /// A PEM file of CA certificates replacing the system's roots (a private CA).
    public var caFile: String?
    public var credentials: Credentials?
    /// The name we give in EHLO.
    public var heloName: String
    /// The longest wait for any one reply.
    public var stepTimeout: Duration
    /// The longest wait for the reply to the end of DATA (RFC 5321 §4.5.3.2.6 suggests 10 minutes).
    public var dataTimeout: Duration

    public init(
        host: String = "127.0.0.1", port: Int = 25, starttls: StartTLSMode = .auto, caFile: String? = nil,
        credentials: Credentials? = nil, heloName: String = "localhost", stepTimeout: Duration = .seconds(60),
        dataTimeout: Duration = .seconds(600)
    ) {
        self.host = host
        self.port = port
        self.starttls = starttls
        self.caFile = caFile
        self.credentials = credentials
        self.heloName = heloName
        self.stepTimeout = stepTimeout
        self.dataTimeout = dataTimeout
    }

    /// A password may cross an unencrypted connection only to this machine itself.
    var allowsPlaintextAuth: Bool {
        host == "127.0.0.1" || host == "::1" || host.lowercased() == "localhost"
    }
}
