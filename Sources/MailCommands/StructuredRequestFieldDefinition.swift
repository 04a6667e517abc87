/// One field of a configured structured-request type: how a mail may label it, what it holds, whether it
/// must be there.
public struct StructuredRequestFieldDefinition: Sendable, Hashable {
    /// The name the ticket field gets (`TicketField.name`).
    public var name: String
    public var kind: TicketFieldKind
    /// The labels a mail may write before `:`, French first: `labels[0]` is the French label, the others are
    /// English. A single label serves both languages; none: the name does. Matched ignoring case.
    public var labels: [String]
    /// Whether a request without this field (or with it empty) is refused.
    public var mandatory: Bool
    /// For `.choice`: the accepted values, stored exactly as written here.
    public var choices: [String]

    public init(
        name: String, kind: TicketFieldKind, labels: [String] = [], mandatory: Bool = false, choices: [String] = []
    ) {
        self.name = name
        self.kind = kind
        self.labels = labels
        self.mandatory = mandatory
        self.choices = choices
    }

    /// The labels a mail in `language` may use for this field.
    func labels(in language: StructuredRequest.Language) -> ArraySlice<String> {
        guard !labels.isEmpty else { return [name][...] }
        guard labels.count > 1 else { return labels[...] }
        return language == .french ? labels.prefix(1) : labels.dropFirst()
    }
}
