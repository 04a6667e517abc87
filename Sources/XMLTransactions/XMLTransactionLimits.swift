/// Bounds that keep an XML transaction's parse linear and memory-bounded on hostile input. The byte limit is
/// checked before libxml2 sees a byte; depth, element count and text length as the reader streams, so no
/// oversized tree is ever built.
public struct XMLTransactionLimits: Sendable, Hashable {
    /// Largest document, in bytes (default 1 MiB).
    public var maxBytes: Int
    /// Deepest element nesting, the root being depth 1 (default 32; the format itself needs 3).
    public var maxDepth: Int
    /// Most elements in one document (default 10,000).
    public var maxElements: Int
    /// Longest text of one element, in UTF-8 bytes after decoding (default 512 KiB).
    public var maxTextBytes: Int

    public init(maxBytes: Int = 1 << 20, maxDepth: Int = 32, maxElements: Int = 10_000, maxTextBytes: Int = 512 << 10) {
        self.maxBytes = maxBytes
        self.maxDepth = maxDepth
        self.maxElements = maxElements
        self.maxTextBytes = maxTextBytes
    }
}
