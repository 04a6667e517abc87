/// What a variable command does (seed 003's `@OPERATION@`).
public enum VariableOperation: String, Sendable, Hashable, Codable, CaseIterable {
    /// Open a ticket: no `@OPERATION@` and no `@RFC_NUMBER@`, or `@OPERATION@='CREATE'`.
    case create
    /// Set fields on the target ticket (also: no `@OPERATION@` but an `@RFC_NUMBER@`, as seed 003 says).
    case update
    /// Solve the target ticket (with `@CHOICE@`, answer an approval).
    case solve
    /// Reopen the target ticket.
    case restart
    /// Put the target ticket on hold.
    case stop
}
