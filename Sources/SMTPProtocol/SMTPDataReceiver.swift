#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Receives the DATA section: finds the end marker, undoes dot-stuffing and enforces the size and line limits.
///
/// Only `CRLF . CRLF` ends the data (RFC 5321 §4.1.1.4); a "." after a bare LF or bare CR never does, which
/// rules out SMTP smuggling. Bare LF and bare CR bytes are kept exactly as received (we are the final
/// destination, not a relay, and the parser copes with them), but a "." after a bare LF is not unstuffed
/// because that line did not start after CRLF. A bare LF still ends a line for the 1000-octet length limit
/// so that a LF-only message is not refused as one long line.
struct SMTPDataReceiver {
    private enum Position {
        case lineStart
        case midLine
        case afterLeadingDot
        case afterLeadingDotCR
    }

    private static let cr = UInt8(ascii: "\r")
    private static let lf = UInt8(ascii: "\n")
    private static let dot = UInt8(ascii: ".")

    private var position = Position.lineStart
    private var previousWasCR = false
    private var lineLength = 0
    private let maxMessageSize: Int
    private let maxLineLength: Int
    private(set) var body: [UInt8] = []
    /// Octets after unstuffing, including those discarded past the limit.
    private(set) var receivedSize = 0
    private(set) var exceededMessageSize = false
    private(set) var exceededLineLength = false

    init(maxMessageSize: Int, maxLineLength: Int, expectedSize: Int?, spoolThreshold: Int? = nil) {
        self.maxMessageSize = maxMessageSize
        self.maxLineLength = maxLineLength
        // SIZE= is the client's word: never reserve more than is held before spooling.
        let expected = min(maxMessageSize, expectedSize.map { $0 + 1024 } ?? 16_384)
        body.reserveCapacity(min(expected, spoolThreshold.map { $0 + 65_536 } ?? expected))
    }

    /// Hands the body over, leaving the receiver empty.
    mutating func takeBody() -> [UInt8] {
        var taken: [UInt8] = []
        swap(&taken, &body)
        return taken
    }

    /// Consumes input up to and including the end marker. Returns the octets consumed and whether the end was
    /// reached; everything short of the end marker is always consumed.
    mutating func receive(_ input: UnsafeBufferPointer<UInt8>) -> (consumed: Int, finished: Bool) {
        var index = 0
        let count = input.count
        while index < count {
            switch position {
            case .lineStart:
                if input[index] == Self.dot {
                    position = .afterLeadingDot
                    index += 1
                } else {
                    position = .midLine
                    previousWasCR = false
                }
            case .afterLeadingDot:
                // The leading dot is dropped either way: it is the end marker or transparency stuffing.
                if input[index] == Self.cr {
                    position = .afterLeadingDotCR
                    index += 1
                } else {
                    position = .midLine
                    previousWasCR = false
                }
            case .afterLeadingDotCR:
                if input[index] == Self.lf {
                    return (index + 1, true)
                }
                // ".<CR>x": the CR was data.
                appendCarriageReturn()
                lineLength += 1
                position = .midLine
                previousWasCR = true
            case .midLine:
                let remaining = UnsafeBufferPointer(rebasing: input[index..<count])
                if let offset = Self.firstLineFeed(in: remaining) {
                    let endsWithCRLF = offset > 0 ? remaining[offset - 1] == Self.cr : previousWasCR
                    append(UnsafeBufferPointer(rebasing: remaining[0...offset]))
                    lineLength += offset + 1
                    checkLineLength()
                    lineLength = 0
                    previousWasCR = false
                    position = endsWithCRLF ? .lineStart : .midLine
                    index += offset + 1
                } else {
                    append(remaining)
                    lineLength += remaining.count
                    checkLineLength()
                    previousWasCR = remaining[remaining.count - 1] == Self.cr
                    index = count
                }
            }
        }
        return (count, false)
    }

    private mutating func checkLineLength() {
        if lineLength > maxLineLength && !exceededLineLength {
            exceededLineLength = true
            // The message will be refused: stop holding it.
            body = []
        }
    }

    private mutating func appendCarriageReturn() {
        receivedSize += 1
        if exceededMessageSize || exceededLineLength { return }
        if receivedSize > maxMessageSize {
            exceededMessageSize = true
            body = []
            return
        }
        body.append(Self.cr)
    }

    private mutating func append(_ bytes: UnsafeBufferPointer<UInt8>) {
        receivedSize += bytes.count
        if exceededMessageSize || exceededLineLength { return }
        if receivedSize > maxMessageSize {
            exceededMessageSize = true
            body = []
            return
        }
        body.append(contentsOf: bytes)
    }

    static func firstLineFeed(in bytes: UnsafeBufferPointer<UInt8>) -> Int? {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return nil }
        guard let found = memchr(base, Int32(lf), bytes.count) else { return nil }
        return UnsafeRawPointer(found) - UnsafeRawPointer(base)
    }
}
