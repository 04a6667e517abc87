/// Why a connection to a mail server failed: the step, and the detail (host, port, the TLS or socket error).
/// Carries no password or token: the connection never sees them.
public struct MailServerConnectionError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The step that failed; the raw values are the names the mailbox poller reports for the same steps.
    public enum Step: String, Sendable {
        case connect, tls, timeout, connection
    }

    public var step: Step
    public var detail: String

    public init(_ step: Step, _ detail: String) {
        self.step = step
        self.detail = detail
    }

    public var description: String { "\(step.rawValue): \(detail)" }
}
