/// A server sent bytes the response parser cannot accept. The parser is dead afterwards: every later `next()`
/// throws the same error, and the driver drops the connection (IMAP has no way to resynchronise safely).
public struct IMAPProtocolError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What was wrong.
    public enum Kind: Sendable, Hashable {
        /// A response line (without its literals) grew past `IMAPParserLimits.maxLineLength`.
        case lineTooLong(limit: Int)
        /// A literal inside a response (not a message body) is larger than `IMAPParserLimits.maxLiteralSize`.
        case literalTooLarge(size: UInt64, limit: Int)
        /// A message body literal is larger than `IMAPParserLimits.maxBodySize`.
        case bodyTooLarge(size: UInt64, limit: UInt64)
        /// A response with its buffered literals grew past `IMAPParserLimits.maxBufferedResponse`.
        case responseTooLarge(limit: Int)
        /// A literal size that is not a decimal number fitting 64 bits (`{-1}`, `{}`, `{99999999999999999999}`).
        case invalidLiteralSize(String)
        /// Parenthesised lists nested deeper than `IMAPParserLimits.maxNesting`.
        case nestingTooDeep(limit: Int)
        /// A SEARCH response with more numbers than `IMAPParserLimits.maxSearchResults`.
        case tooManySearchResults(limit: Int)
        /// A FETCH response with more attributes than `IMAPParserLimits.maxFetchAttributes`.
        case tooManyFetchAttributes(limit: Int)
        /// A number that does not fit its field (a UID or sequence number over 2^32-1, a size over 2^64-1).
        case numberOutOfRange(String)
        /// A NUL byte in a response line (RFC 9051 forbids it outside binary literals).
        case nulByte
        /// The bytes do not follow the grammar; `expected` says what the parser wanted there.
        case syntax(expected: String)
        /// The first response was not an untagged OK, PREAUTH or BYE.
        case unexpectedGreeting
        /// The stream ended (`finish()`) in the middle of a response.
        case truncated
    }

    /// What was wrong.
    public var kind: Kind
    /// Offset of the offending byte in the whole stream fed to the parser (0 = the first byte of the greeting).
    public var offset: UInt64
    /// The first bytes of the response the error is in, non-printable bytes escaped (`\r`, `\n`, `\xNN`); at
    /// most `IMAPProtocolError.excerptLimit` bytes of input.
    public var excerpt: String

    /// How many input bytes an excerpt shows.
    public static let excerptLimit = 80

    public init(_ kind: Kind, offset: UInt64, excerpt: String) {
        self.kind = kind
        self.offset = offset
        self.excerpt = excerpt
    }

    public var description: String {
        "IMAP protocol error at byte \(offset): \(kind) in \"\(excerpt)\""
    }

    /// `bytes` as printable ASCII: `\r`, `\n`, `\t`, `\\` and `\xNN` for every other byte outside 0x20...0x7E;
    /// at most `excerptLimit` bytes. O(excerptLimit).
    static func escaped(_ bytes: some Collection<UInt8>) -> String {
        var text = ""
        for byte in bytes.prefix(excerptLimit) {
            switch byte {
            case 0x0D: text += "\\r"
            case 0x0A: text += "\\n"
            case 0x09: text += "\\t"
            case 0x5C: text += "\\\\"
            case 0x20...0x7E: text.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                let digits = Array("0123456789ABCDEF".unicodeScalars)
                text += "\\x"
                text.unicodeScalars.append(digits[Int(byte >> 4)])
                text.unicodeScalars.append(digits[Int(byte & 0x0F)])
            }
        }
        return text
    }
}
