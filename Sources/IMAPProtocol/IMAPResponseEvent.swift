/// One event from `IMAPResponseParser.next()`.
///
/// A FETCH response streams as `fetchBegin`, then in the server's order any number of `fetchAttribute`
/// events and bodies (`bodyBegin`, zero or more `bodyBytes`, `bodyEnd`; or `bodyNil`), then `fetchEnd`. The
/// UID may come after the body. Everything else is one event per response.
public enum IMAPResponseEvent: Sendable, Hashable {
    /// The server's first response: status `.ok`, `.preauth` or `.bye`.
    case greeting(IMAPResponseCondition)
    /// The completion of the command with this tag.
    case tagged(tag: String, IMAPResponseCondition)
    /// `+ ...`: send the next command segment, the next SASL response, or (after IDLE) the server is idling.
    case continuationRequest(IMAPContinuationRequest)
    case untagged(IMAPUntaggedResponse)
    /// `* n FETCH (`: message sequence number `n`.
    case fetchBegin(sequence: UInt32)
    case fetchAttribute(IMAPFetchAttribute)
    /// A body of `size` bytes follows in `bodyBytes` events.
    case bodyBegin(IMAPBodySection, size: UInt64)
    /// The next bytes of the body, exactly as sent (CRLF and 8-bit preserved); chunks follow the input chunks.
    case bodyBytes([UInt8])
    case bodyEnd
    /// The server answered the section with `NIL` (the message or part is gone or empty).
    case bodyNil(IMAPBodySection)
    /// The closing `)` of the FETCH response.
    case fetchEnd
}
