/// A typed ticket field set by a transaction (`<Field name="…" kind="…">value</Field>`): the same name/kind/value
/// triple as MailCommands' `TicketField`, which the pipeline maps it to.
public struct XMLTicketField: Sendable, Hashable, Codable {
    public var name: String
    public var kind: XMLTicketFieldKind
    /// The canonical form: a number as decimal digits (optional leading `-`, no leading zeros), a date as
    /// `YYYY-MM-DD`, any other kind as written (trimmed).
    public var value: String

    public init(name: String, kind: XMLTicketFieldKind, value: String) {
        self.name = name
        self.kind = kind
        self.value = value
    }
}

/// The kinds a `<Field>` may declare; the raw values are what the `kind` attribute says.
public enum XMLTicketFieldKind: String, Sendable, Hashable, Codable, CaseIterable {
    case text
    case longText = "long_text"
    case number, date, choice
}
