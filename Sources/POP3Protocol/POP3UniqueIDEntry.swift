/// One `UIDL` answer: a message number and the message's unique-id, which stays the same across sessions.
public struct POP3UniqueIDEntry: Sendable, Hashable {
    /// The message number in this session (1-based).
    public let messageNumber: Int
    /// The unique-id: 1–70 characters in 0x21–0x7E (RFC 1939 §7), so always ASCII.
    public let uniqueID: String

    /// Makes an entry from parts.
    public init(messageNumber: Int, uniqueID: String) {
        self.messageNumber = messageNumber
        self.uniqueID = uniqueID
    }

    /// Reads the `+OK n unique-id` answer to `UIDL n`. O(n) in the line.
    public init(statusLine: POP3StatusLine) throws(POP3ProtocolError) {
        let bytes = Array(statusLine.text.utf8)
        let parsed = Self.parse(bytes[...])
        guard let entry = parsed.entry else {
            throw POP3ProtocolError(
                parsed.problem ?? .malformedListingLine, context: "UIDL answer", streamOffset: nil, bytes: bytes)
        }
        self = entry
    }

    /// `number SP unique-id` with optional trailing blanks; the id validated. O(n) in the line.
    static func parse(_ line: ArraySlice<UInt8>) -> (entry: POP3UniqueIDEntry?, problem: POP3ProtocolError.Kind?) {
        var fields = POP3ListingFields(line)
        guard let number = fields.messageNumber(), let id = fields.word(), fields.atEnd else {
            return (nil, .malformedListingLine)
        }
        guard id.count <= 70, id.allSatisfy({ $0 >= 0x21 && $0 <= 0x7E }) else { return (nil, .invalidUniqueID) }
        return (POP3UniqueIDEntry(messageNumber: number, uniqueID: String(decoding: id, as: UTF8.self)), nil)
    }
}
