/// What `POP3ResponseParser` read from the server. A response is one `ok`/`error` (or one `saslChallenge`),
/// followed for a multi-line `+OK` by its listing or by its body chunks and `bodyEnd`.
public enum POP3Event: Sendable, Hashable {
    /// `+OK` and its text. For a listing or a message body, the lines follow in the next events.
    case ok(POP3StatusLine)
    /// `-ERR` and its text. The response ends here (no lines follow, whatever was expected).
    case error(POP3StatusLine)
    /// A `+ ` line during AUTH: the server's challenge, base64-decoded. Answer it with
    /// `POP3Command.authResponse` (or cancel with `.authCancel`) and expect another `.authenticationStep`.
    case saslChallenge([UInt8])
    /// The complete CAPA listing.
    case capabilities([POP3Capability])
    /// The complete LIST listing, in the server's order.
    case scanListing([POP3ScanEntry])
    /// The complete UIDL listing, in the server's order; unique-ids validated and distinct.
    case uniqueIDListing([POP3UniqueIDEntry])
    /// The next bytes of a RETR/TOP message, dot-unstuffed, line ends and 8-bit bytes exactly as sent. Never empty.
    case bodyBytes([UInt8])
    /// The message ended (`.CRLF` seen); `byteCount` is the total of its `bodyBytes`.
    case bodyEnd(byteCount: Int)
}
