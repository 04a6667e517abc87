/// Which part of a message a FETCH body attribute carries: `BODY[]`, `BODY[HEADER]<0>`, `BINARY[1]`, `RFC822`.
public struct IMAPBodySection: Sendable, Hashable {
    /// The attribute family.
    public enum Kind: String, Sendable, Hashable {
        /// `BODY[section]` (the answer to `BODY[...]` and `BODY.PEEK[...]`).
        case body = "BODY"
        /// `BINARY[section]` (RFC 3516): content-transfer-decoded.
        case binary = "BINARY"
        /// `RFC822`: the whole message, like `BODY[]`.
        case rfc822 = "RFC822"
        case rfc822Header = "RFC822.HEADER"
        case rfc822Text = "RFC822.TEXT"
    }

    public var kind: Kind
    /// The text between the brackets, upper-cased as sent (`""` for the whole message, `"HEADER"`,
    /// `"HEADER.FIELDS (SUBJECT FROM)"`, `"1"`); empty for the RFC822 kinds.
    public var section: String
    /// The `<origin>` of a partial fetch, if present.
    public var origin: UInt64?

    public init(kind: Kind, section: String = "", origin: UInt64? = nil) {
        self.kind = kind
        self.section = section
        self.origin = origin
    }

    /// The whole message: `BODY[]` (what `BODY.PEEK[]` returns).
    public var isWholeMessage: Bool {
        switch kind {
        case .rfc822: return true
        case .body, .binary: return section.isEmpty && origin == nil
        case .rfc822Header, .rfc822Text: return false
        }
    }
}
