/// Why an XML transaction was refused, with where: the element it concerns (for an unknown or missing element,
/// the element it was in) and the line. `description` is what the message's record and the response say;
/// `code` is the stable machine code the response carries.
public struct XMLTransactionError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Kind: Sendable, Hashable {
        /// libxml2 refused the document (not well-formed, invalid UTF-8, undeclared entity…): its message.
        case notXML(reason: String)
        /// Only UTF-8, US-ASCII, ISO-8859-n and windows-125n documents are read.
        case unsupportedEncoding(String)
        /// A `<!DOCTYPE>`: refused outright, before libxml2 parses it (no DTD, no entity declarations).
        case doctypeRefused
        case tooLarge(bytes: Int, limit: Int)
        case tooDeep(limit: Int)
        case tooManyElements(limit: Int)
        case textTooLong(limit: Int)
        /// The root's `version` attribute is missing (nil) or not `1`.
        case wrongVersion(found: String?)
        case unknownElement(String)
        case unknownAttribute(String)
        case missingElement(String)
        case missingAttribute(String)
        case duplicateElement(String)
        /// Non-blank text where only elements may be.
        case unexpectedText
        case invalidValue(String)
    }

    public var kind: Kind
    /// The element the error concerns, or the one an unknown or missing element was (to be) in.
    public var element: String?
    /// The 1-based line in the document, when known.
    public var line: Int?

    public init(_ kind: Kind, element: String? = nil, line: Int? = nil) {
        self.kind = kind
        self.element = element
        self.line = line
    }

    /// A stable code for the response's `<Error code="…">`.
    public var code: String {
        switch kind {
        case .notXML: "not-xml"
        case .unsupportedEncoding: "unsupported-encoding"
        case .doctypeRefused: "doctype-refused"
        case .tooLarge: "too-large"
        case .tooDeep: "too-deep"
        case .tooManyElements: "too-many-elements"
        case .textTooLong: "text-too-long"
        case .wrongVersion: "wrong-version"
        case .unknownElement: "unknown-element"
        case .unknownAttribute: "unknown-attribute"
        case .missingElement: "missing-element"
        case .missingAttribute: "missing-attribute"
        case .duplicateElement: "duplicate-element"
        case .unexpectedText: "unexpected-text"
        case .invalidValue: "invalid-value"
        }
    }

    public var description: String {
        let place = element.map { " in <\($0)>" } ?? ""
        let what: String
        switch kind {
        case .notXML(let reason): what = "not well-formed XML: \(reason)"
        case .unsupportedEncoding(let name): what = "encoding \"\(name)\" is not supported"
        case .doctypeRefused: what = "a DOCTYPE is refused (no DTDs, no entity declarations)"
        case .tooLarge(let bytes, let limit): what = "\(bytes) bytes is more than the limit of \(limit)"
        case .tooDeep(let limit): what = "elements nested deeper than \(limit)\(place)"
        case .tooManyElements(let limit): what = "more than \(limit) elements"
        case .textTooLong(let limit): what = "text longer than \(limit) bytes\(place)"
        case .wrongVersion(let found):
            what = found.map { "version \"\($0)\" is not supported (only \"1\")" } ?? "the version attribute is missing"
        case .unknownElement(let name): what = "element <\(name)> is not allowed\(place)"
        case .unknownAttribute(let name): what = "attribute \"\(name)\" is not allowed\(place)"
        case .missingElement(let name): what = "element <\(name)> is missing\(place)"
        case .missingAttribute(let name): what = "attribute \"\(name)\" is missing\(place)"
        case .duplicateElement(let name): what = "<\(name)> appears more than once\(place)"
        case .unexpectedText: what = "text is not allowed\(place)"
        case .invalidValue(let reason): what = "\(reason)\(place)"
        }
        return "XML transaction: \(what)" + (line.map { " (line \($0))" } ?? "")
    }
}
