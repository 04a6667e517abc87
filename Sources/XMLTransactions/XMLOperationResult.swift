/// What one operation of a transaction came to, for the response: the ticket it created or changed, or why not.
public struct XMLOperationResult: Sendable, Hashable {
    public enum Outcome: Sendable, Hashable {
        case succeeded(ticket: Int)
        /// `code` is a stable token (e.g. `ticket-not-found`, `not-allowed`); `message` says it for a person.
        case failed(ticket: Int?, code: String, message: String)
    }

    public var operation: XMLOperationKind
    public var outcome: Outcome

    public init(operation: XMLOperationKind, outcome: Outcome) {
        self.operation = operation
        self.outcome = outcome
    }

    public static func succeeded(_ operation: XMLOperationKind, ticket: Int) -> XMLOperationResult {
        XMLOperationResult(operation: operation, outcome: .succeeded(ticket: ticket))
    }

    public static func failed(
        _ operation: XMLOperationKind, ticket: Int? = nil, code: String, message: String
    ) -> XMLOperationResult {
        XMLOperationResult(operation: operation, outcome: .failed(ticket: ticket, code: code, message: message))
    }
}
