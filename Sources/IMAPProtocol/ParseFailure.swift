/// Where a response broke the grammar: the kind and the buffer index of the offending byte. The parser turns it
/// into an `IMAPProtocolError` with the stream offset and an excerpt.
struct ParseFailure: Error {
    var kind: IMAPProtocolError.Kind
    var index: Int

    init(_ kind: IMAPProtocolError.Kind, at index: Int) {
        self.kind = kind
        self.index = index
    }
}
