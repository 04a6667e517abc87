import Foundation

/// One command a message carried, as the audit trail keeps it: who sent it, what it asked, what became of it and
/// why. Rate limits per sender count these rows.
public struct NewMailCommandRecord: Sendable, Hashable {
    /// What became of a command.
    public enum Outcome: String, Sendable, Hashable, Codable {
        /// Carried out.
        case applied
        /// Well formed but not obeyed: not authorised, over the rate, failed authentication, wrong password.
        case refused
        /// Not readable as a command of its syntax.
        case invalid
    }

    public var receivedAt: Date
    /// The lower-cased From address, `""` for none.
    public var sender: String
    /// `alert`, `xml`, `structured-request` or `variable-command`.
    public var kind: String
    /// The operation (`create`, `update`, `solve`, ...) or, for alerts, the rule's name.
    public var operation: String
    public var ticketNumber: Int?
    public var outcome: Outcome
    /// Which rule or command applied and why (or why not).
    public var detail: String
    public var rawSHA256: String

    public init(
        receivedAt: Date, sender: String, kind: String, operation: String, ticketNumber: Int?, outcome: Outcome,
        detail: String, rawSHA256: String
    ) {
        self.receivedAt = receivedAt
        self.sender = sender
        self.kind = kind
        self.operation = operation
        self.ticketNumber = ticketNumber
        self.outcome = outcome
        self.detail = detail
        self.rawSHA256 = rawSHA256
    }
}
