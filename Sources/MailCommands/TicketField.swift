/// A typed field a command sets on a ticket: what a structured request's form carries, kept per ticket by the
/// store and shown by the API and webhooks.
public struct TicketField: Sendable, Hashable, Codable {
    /// The field's configured name (not the label the mail used).
    public var name: String
    public var kind: TicketFieldKind
    /// The canonical form: a number as decimal digits (optional `-`, optional `.` fraction), a date as ISO 8601
    /// `YYYY-MM-DD`, a choice exactly as configured, text as written (trimmed; long text keeps its lines).
    public var value: String

    public init(name: String, kind: TicketFieldKind, value: String) {
        self.name = name
        self.kind = kind
        self.value = value
    }
}

/// What a ticket field holds, which decides how its value is checked and made canonical.
public enum TicketFieldKind: String, Sendable, Hashable, Codable, CaseIterable {
    /// One line, up to the end of the line.
    case text
    /// Several lines, from the line after the label to the next `- ` or `--- ` delimiter.
    case longText = "long_text"
    case number
    case date
    /// One of the field's configured choices.
    case choice
}
