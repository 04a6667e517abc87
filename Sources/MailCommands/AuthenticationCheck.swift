/// Whether a message carries the authentication verdicts a requirement asks for, and why.
public enum AuthenticationCheck: Sendable, Hashable {
    /// Every required method passed in our own `Authentication-Results` (or nothing was required).
    case passed(reason: String)
    /// A required method did not pass, our header is malformed, or there is no header of ours.
    case failed(reason: String)

    /// Whether the check passed.
    public var isPassed: Bool {
        if case .passed = self { return true }
        return false
    }

    /// The reason, for the message's record.
    public var reason: String {
        switch self {
        case .passed(let reason), .failed(let reason): reason
        }
    }
}
