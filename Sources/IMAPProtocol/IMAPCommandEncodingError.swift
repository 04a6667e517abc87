/// A command that cannot be written in IMAP syntax.
public struct IMAPCommandEncodingError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Which argument (`password`, `mechanism`, `flag`, `UID set`, `tag`).
    public var argument: String
    public var reason: String

    public init(argument: String, reason: String) {
        self.argument = argument
        self.reason = reason
    }

    public var description: String { "cannot encode IMAP \(argument): \(reason)" }
}
