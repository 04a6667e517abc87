/// One `LIST` answer: a message number and the message's size in octets as the server counts it (with CRLF line
/// ends, before dot-stuffing).
public struct POP3ScanEntry: Sendable, Hashable {
    /// The message number in this session (1-based).
    public let messageNumber: Int
    /// The size in octets.
    public let size: Int

    /// Makes an entry from parts.
    public init(messageNumber: Int, size: Int) {
        self.messageNumber = messageNumber
        self.size = size
    }

    /// Reads the `+OK n size` answer to `LIST n`. O(n) in the line.
    public init(statusLine: POP3StatusLine) throws(POP3ProtocolError) {
        let bytes = Array(statusLine.text.utf8)
        guard let entry = Self.parse(bytes[...]) else {
            throw POP3ProtocolError(
                .malformedListingLine, context: "LIST answer", streamOffset: nil, bytes: bytes)
        }
        self = entry
    }

    /// `number SP size [SP anything]` (RFC 1939 leaves what follows the size open), or nil. O(n) in the line.
    static func parse(_ line: ArraySlice<UInt8>) -> POP3ScanEntry? {
        var fields = POP3ListingFields(line)
        guard let number = fields.messageNumber(), let size = fields.number() else { return nil }
        guard fields.atEnd || fields.skipBlank() else { return nil }
        return POP3ScanEntry(messageNumber: number, size: size)
    }
}
