/// A structured-request configuration that a mail could read two ways (see
/// `StructuredRequestParser.configurationErrors`); its `description` is what `postdesk check-config` prints.
public struct StructuredRequestConfigurationError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Kind: Sendable, Hashable {
        /// The token is empty or has blanks inside: no line could be it, or prose could.
        case badToken(String)
        /// Two types answer to this name (lower-cased); `other` is the first type's name.
        case ambiguousTypeName(String, other: String)
        /// Two fields of one type share a name.
        case duplicateFieldName
        /// A label (lower-cased) that another field of the type, or a built-in line, uses in that language.
        case ambiguousFieldLabel(String, language: StructuredRequest.Language)
        /// A `.choice` field with no choices: no value could be valid.
        case choiceWithoutChoices
    }

    public var kind: Kind
    public var type: String?
    public var field: String?

    public init(_ kind: Kind, type: String? = nil, field: String? = nil) {
        self.kind = kind
        self.type = type
        self.field = field
    }

    public var description: String {
        let place = [type.map { "type \(CommandText.excerpt($0))" }, field.map { "field \(CommandText.excerpt($0))" }]
            .compactMap { $0 }.joined(separator: ", ")
        let problem: String
        switch kind {
        case .badToken(let token): problem = "token \(CommandText.excerpt(token)) is empty or has blanks inside"
        case .ambiguousTypeName(let name, let other):
            problem = "name \(CommandText.excerpt(name)) also names type \(CommandText.excerpt(other))"
        case .duplicateFieldName: problem = "two fields have this name"
        case .ambiguousFieldLabel(let label, let language):
            problem = "\(language.rawValue) label \(CommandText.excerpt(label)) is another field's or a built-in line's"
        case .choiceWithoutChoices: problem = "a choice field without choices"
        }
        return "structured request configuration: " + (place.isEmpty ? problem : "\(place): \(problem)")
    }
}
