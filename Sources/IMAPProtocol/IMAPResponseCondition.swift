/// A status response: the greeting, an untagged OK/NO/BAD/BYE, or the condition of a tagged completion.
public struct IMAPResponseCondition: Sendable, Hashable {
    /// The status word.
    public enum Status: String, Sendable, Hashable {
        case ok = "OK"
        case no = "NO"
        case bad = "BAD"
        case bye = "BYE"
        case preauth = "PREAUTH"
    }

    public var status: Status
    /// The bracketed response code (`[UIDVALIDITY 3857529045]`), if any.
    public var code: IMAPResponseCode?
    /// The human-readable text after the code (UTF-8, invalid bytes replaced).
    public var text: String

    public init(status: Status, code: IMAPResponseCode? = nil, text: String) {
        self.status = status
        self.code = code
        self.text = text
    }
}
