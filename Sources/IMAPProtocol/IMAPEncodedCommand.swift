/// A command as bytes, cut where the client must wait for the server: send `segments[0]`; before each later
/// segment wait for a continuation request (`+`) — a tagged NO/BAD instead ends the command. With LITERAL+
/// (or no literal at all) there is one segment.
public struct IMAPEncodedCommand: Sendable, Hashable {
    /// The tag the tagged completion will carry.
    public let tag: String
    /// The bytes to send, in order; each ends in CRLF.
    public let segments: [[UInt8]]

    public init(tag: String, segments: [[UInt8]]) {
        self.tag = tag
        self.segments = segments
    }

    /// All segments joined (what the server receives in the end).
    public var bytes: [UInt8] { Array(segments.joined()) }
}
