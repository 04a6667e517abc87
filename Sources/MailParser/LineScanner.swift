import Glibc

/// The lines of a byte buffer, found with `memchr`: one forward pass, O(n) in the bytes scanned, each
/// `next()` advancing past at least one byte. The one line splitter for mail text (CRLF or LF line ends, and
/// bare CR in `.anyBreak`).
public struct LineScanner: IteratorProtocol {
    public struct Line: Sendable, Hashable {
        /// The line's bytes without its line end (LF, or CR LF; in `.anyBreak` also a bare CR).
        public var content: Range<Int>
        /// The index after the line end: where the next line starts.
        public var next: Int
        /// Whether a line end ended the line (false only for a last line without one).
        public var hasLineFeed: Bool
    }

    /// Which bytes end a line.
    public enum LineEnds: Sendable {
        /// LF, or CR LF: mail text after transport, where a lone CR is data.
        case lineFeed
        /// LF, CR LF, or a bare CR (a CR not before a LF), as Python's `email` splits a header section: mail
        /// from old Mac OS clients and some scripts ends its lines in CR alone. A run of CRs before a LF
        /// (CR CR LF, from mail converted twice) is one line end, where Python would see empty lines.
        case anyBreak
    }

    let buffer: UnsafeBufferPointer<UInt8>
    let end: Int
    let lineEnds: LineEnds
    /// Where the next line starts.
    public private(set) var position: Int
    /// `.anyBreak` only: where the last run of CRs walked ends, so that a run of bare CRs (empty lines) is
    /// walked once, not once per line it ends.
    private var crRunEnd = -1

    /// Lines of `buffer[range]` (the whole buffer by default). A line end at the very end does not start
    /// another, empty line.
    public init(_ buffer: UnsafeBufferPointer<UInt8>, in range: Range<Int>? = nil, lineEnds: LineEnds = .lineFeed) {
        self.buffer = buffer
        self.lineEnds = lineEnds
        position = range?.lowerBound ?? 0
        end = range?.upperBound ?? buffer.count
    }

    public mutating func next() -> Line? {
        guard position < end, let base = buffer.baseAddress else { return nil }
        let start = position
        if lineEnds == .anyBreak { return nextAtAnyBreak(base, from: start) }
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

    /// The next line ending at LF, CR LF, CR+ LF or a bare CR. O(the line's bytes): one byte loop, not `memchr`,
    /// so that no search runs past the line (a header section is read line by line and must not touch the body
    /// of a large, mapped message); a run of CRs is walked once however many lines it ends.
    private mutating func nextAtAnyBreak(_ base: UnsafePointer<UInt8>, from start: Int) -> Line {
        var lineBreak = start
        while lineBreak < end, base[lineBreak] != ASCIIByte.lf, base[lineBreak] != ASCIIByte.cr { lineBreak += 1 }
        guard lineBreak < end else {
            position = end
            return Line(content: start..<end, next: end, hasLineFeed: false)
        }
        if base[lineBreak] == ASCIIByte.lf {
            position = lineBreak + 1
        } else {
            if crRunEnd <= lineBreak {
                crRunEnd = lineBreak + 1
                while crRunEnd < end, base[crRunEnd] == ASCIIByte.cr { crRunEnd += 1 }
            }
            position = crRunEnd < end && base[crRunEnd] == ASCIIByte.lf ? crRunEnd + 1 : lineBreak + 1
        }
        return Line(content: start..<lineBreak, next: position, hasLineFeed: true)
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
