/// Why an `Authentication-Results` value is not RFC 8601 syntax, and where.
public struct AuthenticationResultsSyntaxError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What was wrong.
    public enum Kind: Sendable, Hashable {
        /// Nothing but blanks and comments.
        case empty
        /// A `(` comment without its `)`.
        case unterminatedComment
        /// A `"` string without its closing quote.
        case unterminatedQuotedString
        /// Something else was found where the grammar needs the named element.
        case expected(String)
    }

    public var kind: Kind
    /// The byte offset in the value where it went wrong.
    public var offset: Int
    /// The authserv-id, when it could be read before the error.
    public var authservID: String?

    public init(kind: Kind, offset: Int, authservID: String? = nil) {
        self.kind = kind
        self.offset = offset
        self.authservID = authservID
    }

    public var description: String {
        "Authentication-Results: \(summary)"
    }

    /// What went wrong and where, without the field's name.
    var summary: String {
        let what =
            switch kind {
            case .empty: "empty value"
            case .unterminatedComment: "unterminated comment"
            case .unterminatedQuotedString: "unterminated quoted string"
            case .expected(let element): "expected \(element)"
            }
        return "\(what) at byte \(offset)"
    }
}
