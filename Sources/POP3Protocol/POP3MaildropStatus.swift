/// The `STAT` answer: how many messages the maildrop holds and their total size in octets.
public struct POP3MaildropStatus: Sendable, Hashable {
    /// Messages in the maildrop (not counting those marked deleted in this session).
    public let messageCount: Int
    /// Their total size in octets.
    public let totalSize: Int

    /// Makes a status from parts.
    public init(messageCount: Int, totalSize: Int) {
        self.messageCount = messageCount
        self.totalSize = totalSize
    }

    /// Reads `+OK count size [anything]`. O(n) in the line.
    public init(statusLine: POP3StatusLine) throws(POP3ProtocolError) {
        let bytes = Array(statusLine.text.utf8)
        var fields = POP3ListingFields(bytes[...])
        guard let count = fields.number(), let size = fields.number(), fields.atEnd || fields.skipBlank() else {
            throw POP3ProtocolError(.malformedListingLine, context: "STAT answer", streamOffset: nil, bytes: bytes)
        }
        self.init(messageCount: count, totalSize: size)
    }
}
