import Glibc

/// The lines of a byte buffer, found with `memchr`: one forward pass, O(n) in the bytes scanned, each
/// `next()` advancing past at least one byte. The one line splitter for mail text (CRLF or LF line ends).
public struct LineScanner: IteratorProtocol {
    public struct Line: Sendable, Hashable {
        /// The line's bytes without its line end (LF, or CR LF).
        public var content: Range<Int>
        /// The index after the line end: where the next line starts.
        public var next: Int
        /// Whether a LF ended the line (false only for a last line without one).
        public var hasLineFeed: Bool
    }

    let buffer: UnsafeBufferPointer<UInt8>
    let end: Int
    /// Where the next line starts.
    public private(set) var position: Int

    /// Lines of `buffer[range]` (the whole buffer by default). A LF at the very end does not start another,
    /// empty line.
    public init(_ buffer: UnsafeBufferPointer<UInt8>, in range: Range<Int>? = nil) {
        self.buffer = buffer
        position = range?.lowerBound ?? 0
        end = range?.upperBound ?? buffer.count
    }

    public mutating func next() -> Line? {
        guard position < end, let base = buffer.baseAddress else { return nil }
        let start = position
        let lineBreak: Int
        let hasLineFeed: Bool
        if let found = memchr(base + start, Int32(ASCIIByte.lf), end - start) {
            lineBreak = base.distance(to: found.assumingMemoryBound(to: UInt8.self))
            position = lineBreak + 1
            hasLineFeed = true
        } else {
            lineBreak = end
            position = end
            hasLineFeed = false
        }
        var contentEnd = lineBreak
        if contentEnd > start, base[contentEnd - 1] == ASCIIByte.cr { contentEnd -= 1 }
        return Line(content: start..<contentEnd, next: position, hasLineFeed: hasLineFeed)
    }

    /// The lines of `text` split at LF, a CR before it (or at the end) removed; empty lines kept, no empty line
    /// after a final LF. O(n). (Splitting a `String` on `"\n"` misses CRLF, which is one `Character`.)
    public static func lines(_ text: some StringProtocol) -> [Substring] {
        var string = Substring(text)
        let ranges: [Range<Int>] = string.withUTF8 { buffer in
            var ranges: [Range<Int>] = []
            var scanner = LineScanner(buffer)
            while let line = scanner.next() { ranges.append(line.content) }
            return ranges
        }
        // Line ends are ASCII, so these offsets are scalar boundaries; indices advance monotonically.
        let utf8 = string.utf8
        var index = utf8.startIndex
        var offset = 0
        var lines: [Substring] = []
        lines.reserveCapacity(ranges.count)
        for range in ranges {
            let lower = utf8.index(index, offsetBy: range.lowerBound - offset)
            let upper = utf8.index(lower, offsetBy: range.count)
            lines.append(string[lower..<upper])
            index = upper
            offset = range.upperBound
        }
        return lines
    }
}
