/// The caps that bound what `IMAPResponseParser` holds in memory for one response. Every buffer the parser keeps
/// is bounded by one of these (plus the bytes of the last chunk fed); message bodies are never held whole.
public struct IMAPParserLimits: Sendable, Hashable {
    /// Longest response line, CRLF and literals not counted. 64 KiB by default.
    public var maxLineLength: Int
    /// Largest literal inside a response that is not a message body (an ENVELOPE subject, a PREVIEW, a LIST
    /// mailbox name): such literals are buffered. 64 KiB by default.
    public var maxLiteralSize: Int
    /// Most bytes one buffered response may hold: its lines plus its buffered literals. 1 MiB by default.
    public var maxBufferedResponse: Int
    /// Largest message body (a FETCH `BODY[...]`, `BINARY[...]` or `RFC822*` literal); bodies are streamed, so
    /// this is about refusing what the driver would not store (set it to the mailbox's size limit plus slack).
    /// 64 MiB by default.
    public var maxBodySize: UInt64
    /// Deepest nesting of parenthesised lists (BODYSTRUCTURE, ENVELOPE, unknown FETCH values), the FETCH
    /// response's own list counted. 32 by default.
    public var maxNesting: Int
    /// Most numbers in one SEARCH response; the numbers are parsed as they arrive (the line is not buffered), so
    /// the memory is 4 bytes per number. 1,000,000 by default.
    public var maxSearchResults: Int
    /// Most attributes in one FETCH response. 256 by default.
    public var maxFetchAttributes: Int

    public init(
        maxLineLength: Int = 64 * 1024, maxLiteralSize: Int = 64 * 1024, maxBufferedResponse: Int = 1024 * 1024,
        maxBodySize: UInt64 = 64 * 1024 * 1024, maxNesting: Int = 32, maxSearchResults: Int = 1_000_000,
        maxFetchAttributes: Int = 256
    ) {
        self.maxLineLength = maxLineLength
        self.maxLiteralSize = maxLiteralSize
        self.maxBufferedResponse = maxBufferedResponse
        self.maxBodySize = maxBodySize
        self.maxNesting = maxNesting
        self.maxSearchResults = maxSearchResults
        self.maxFetchAttributes = maxFetchAttributes
    }
}
