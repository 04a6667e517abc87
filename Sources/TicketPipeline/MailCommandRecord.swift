import Foundation

/// One row of the command audit trail as `postdesk commands` reads it back: what a message asked, who sent it,
/// what became of it and why.
public struct MailCommandRecord: Sendable, Hashable, Codable {
    public var id: Int64
    public var receivedAt: Date
    /// The lower-cased From address, `""` for none.
    public var sender: String
    /// `alert`, `xml`, `structured-request` or `variable-command`.
    public var kind: String
    /// The operation (`create`, `update`, `solve`, …, `transaction`) or, for alerts, the rule's name.
    public var operation: String
    public var ticketNumber: Int?
    public var outcome: NewMailCommandRecord.Outcome
    public var detail: String

    public init(
        id: Int64, receivedAt: Date, sender: String, kind: String, operation: String, ticketNumber: Int?,
        outcome: NewMailCommandRecord.Outcome, detail: String
    ) {
        self.id = id
        self.receivedAt = receivedAt
        self.sender = sender
        self.kind = kind
        self.operation = operation
        self.ticketNumber = ticketNumber
        self.outcome = outcome
        self.detail = detail
    }
}
