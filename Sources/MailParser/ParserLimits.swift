/// Bounds that keep parsing linear and memory-bounded on hostile input. Exceeding one never fails the
/// parse: the rest is kept opaque (or skipped) and a defect is recorded.
public struct ParserLimits: Sendable, Hashable {
    /// Deepest MIME nesting (multipart or message/rfc822) that is still parsed; deeper content is kept as
    /// one opaque attachment.
    public var maxDepth: Int
    /// Most MIME parts read from one message; further parts are ignored.
    public var maxParts: Int
    /// Most header fields kept per header section; further fields are skipped.
    public var maxHeaderCount: Int
    /// Longest HTML (in bytes) converted to text; longer HTML is cut before conversion.
    public var maxHTMLBytesForText: Int
    /// Most bytes examined when guessing the charset of unlabelled or mislabelled text.
    public var maxCharsetDetectionBytes: Int
    /// Largest encoded attachment decoded into memory. A larger one is read in chunks to measure and hash it,
    /// and its content stays in the raw message (`ParsedAttachment.deferred`) for whoever stores it.
    public var maxInMemoryAttachmentBytes: Int
    /// Largest encoded message/rfc822 attachment parsed recursively; a larger one is kept unparsed.
    public var maxEmbeddedMessageBytes: Int
    /// Most encoded bytes of embedded messages (all levels and siblings together) parsed recursively for one
    /// message. Each parsed level keeps its own decoded copy, so without it a chain of large forwarded
    /// messages held a copy per level; the rest stay opaque attachments with a defect.
    public var maxEmbeddedMessageTotalBytes: Int

    public init(
        maxDepth: Int = 32, maxParts: Int = 1000, maxHeaderCount: Int = 10_000,
        maxHTMLBytesForText: Int = 16 << 20, maxCharsetDetectionBytes: Int = 64 << 10,
        maxInMemoryAttachmentBytes: Int = 1 << 20, maxEmbeddedMessageBytes: Int = 16 << 20,
        maxEmbeddedMessageTotalBytes: Int = 16 << 20
    ) {
        self.maxDepth = maxDepth
        self.maxParts = maxParts
        self.maxHeaderCount = maxHeaderCount
        self.maxHTMLBytesForText = maxHTMLBytesForText
        self.maxCharsetDetectionBytes = maxCharsetDetectionBytes
        self.maxInMemoryAttachmentBytes = maxInMemoryAttachmentBytes
        self.maxEmbeddedMessageBytes = maxEmbeddedMessageBytes
        self.maxEmbeddedMessageTotalBytes = maxEmbeddedMessageTotalBytes
    }

    /// The limits the daemon uses: depth 32, 1,000 parts, 10,000 header fields,
    /// attachments over 1 MiB (encoded) left in the raw message, 16 MiB of embedded messages parsed.
    public static let `default` = ParserLimits()
}
