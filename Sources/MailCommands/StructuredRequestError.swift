/// Why a structured-request block is not a request. Its `description` is the ticket's error activity, one line
/// naming the problem and where it is, e.g. `structured request: type "Accès VPN" is unknown (line 3)`, so a
/// saved search on "structured request:" finds every such ticket.
public struct StructuredRequestError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Kind: Sendable, Hashable {
        /// The opening token has no closing token after it.
        case unterminatedBlock(token: String)
        /// The block has no `Type:` line.
        case missingType
        /// `Type:` names no configured type (the text as written).
        case unknownType(String)
        /// The sender may not send this type (`StructuredRequestType.allowedSenders`).
        case senderNotAllowed(sender: String)
        /// A `Label: value` line whose label is not the type's in French nor in English.
        case unknownField(label: String)
        /// A line that is neither `Label: value`, a `--- ` section title, nor part of a long text.
        case unexpectedLine(String)
        /// The block's labels are French and English; this one is in the language the block did not start in.
        case mixedLanguages(label: String)
        /// The same field twice.
        case duplicateField
        /// A mandatory field (or requester, or user) absent or empty.
        case missingMandatoryField
        /// A requester or user over `limit` bytes (`StructuredRequestParser.maximumPersonBytes`): no login or
        /// address is that long, and the pipeline looks them up.
        case tooLong(limit: Int)
        /// A number or date field whose value is not one.
        case invalidValue(kind: TicketFieldKind, value: String)
        /// A choice field whose value is not one of its choices.
        case unknownChoice(value: String, choices: [String])
    }

    public var kind: Kind
    /// The type's configured name, once the block's type is known.
    public var type: String?
    /// The field's configured name (or `Type`, `Requester`, `User`), for errors about a field.
    public var field: String?
    /// The 1-based line of the text the error is about.
    public var line: Int

    public init(_ kind: Kind, type: String? = nil, field: String? = nil, line: Int) {
        self.kind = kind
        self.type = type
        self.field = field
        self.line = line
    }

    public var description: String {
        let fieldName = CommandText.excerpt(field ?? "")
        let ofType = type.map { " of type \(CommandText.excerpt($0))" } ?? ""
        let problem: String
        switch kind {
        case .unterminatedBlock(let token):
            problem = "the block opened by \(CommandText.excerpt(token)) is not closed by another \(token) line"
        case .missingType: problem = "the block has no Type line"
        case .unknownType(let name): problem = "type \(CommandText.excerpt(name)) is unknown"
        case .senderNotAllowed(let sender):
            problem = "sender \(CommandText.excerpt(sender)) may not send type \(CommandText.excerpt(type ?? ""))"
        case .unknownField(let label): problem = "label \(CommandText.excerpt(label)) is not a field\(ofType)"
        case .unexpectedLine(let text):
            problem = "line \(CommandText.excerpt(text)) is not \"Label: value\", a \"--- \" title or a long text"
        case .mixedLanguages(let label):
            problem = "label \(CommandText.excerpt(label)) is in another language than the block's first labels"
        case .duplicateField: problem = "field \(fieldName) is given twice"
        case .missingMandatoryField: problem = "mandatory field \(fieldName)\(ofType) is missing or empty"
        case .tooLong(let limit): problem = "field \(fieldName) names someone over \(limit) bytes long"
        case .invalidValue(let kind, let value):
            let expected = kind == .date ? "a date (YYYY-MM-DD, or JJ/MM/AAAA in French)" : "a \(kind.rawValue)"
            problem = "field \(fieldName) has \(CommandText.excerpt(value)), not \(expected)"
        case .unknownChoice(let value, let choices):
            let listed = choices.prefix(10).map { CommandText.excerpt($0) }.joined(separator: ", ")
            problem = "field \(fieldName) has \(CommandText.excerpt(value)), not one of \(listed)"
        }
        return "structured request: \(problem) (line \(line))"
    }
}
