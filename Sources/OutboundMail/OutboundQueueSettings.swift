import MailParser

/// What the worker needs to write one queue's mail.
public struct OutboundQueueSettings: Sendable {
    /// The subject tag, `Support` in `[Support #12]`.
    public var tag: String
    /// The From of the queue's mail (and the envelope sender).
    public var from: MailAddress
    /// The acknowledgement's templates.
    public var acknowledgement: OutboundTemplates

    public init(tag: String, from: MailAddress, acknowledgement: OutboundTemplates) {
        self.tag = tag
        self.from = from
        self.acknowledgement = acknowledgement
    }
}
