import MailParser

/// A POP3 conversation that cannot go on, with enough context to log it: what was wrong, in which response or
/// command, where in the byte stream, and the first bytes of the offending line (escaped, at most 64 bytes).
/// A parser that threw one is dead and throws the same error again.
public struct POP3ProtocolError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What was wrong.
    public enum Kind: Sendable, Hashable {
        /// A line longer than the limit for its place (status line, listing line, or bytes nobody expected).
        case lineTooLong(limit: Int)
        /// A status line that is not `+OK…`, `-ERR…` (or `+ …` during AUTH).
        case malformedStatusLine
        /// A SASL challenge line whose text is not base64.
        case invalidChallenge(reason: String)
        /// A listing line that is not `number SP value` as its listing requires.
        case malformedListingLine
        /// A unique-id that is not 1–70 bytes of 0x21–0x7E (RFC 1939 §7).
        case invalidUniqueID
        /// The same unique-id twice in one UIDL listing: the mailbox cannot be tracked by UIDL.
        case duplicateUniqueID(String)
        /// The same message number twice in one listing.
        case duplicateMessageNumber(Int)
        /// A listing with more entries or bytes than the limit.
        case listingTooLarge(limit: Int)
        /// Bytes arrived while no response was expected, more than the limit allows to hold.
        case unsolicitedData(limit: Int)
        /// A command argument that cannot be sent (CR, LF or NUL: command injection; empty; out of range).
        case invalidArgument(reason: String)
    }

    /// What was wrong.
    public let kind: Kind
    /// Where: which response or command, which line ("UIDL listing line 12", "USER argument").
    public let context: String
    /// Offset in the server's byte stream (since the parser was created) where the offending line starts; nil for
    /// command encoding errors.
    public let streamOffset: Int?
    /// The first bytes of the offending line, control characters escaped (never a password: command arguments
    /// are not quoted here).
    public let excerpt: String

    /// Makes an error; `bytes` are cut to 64 and escaped. O(1) in the input beyond those 64 bytes.
    public init(_ kind: Kind, context: String, streamOffset: Int?, bytes: some Collection<UInt8>) {
        self.kind = kind
        self.context = context
        self.streamOffset = streamOffset
        let head = Array(bytes.prefix(64))
        excerpt =
            TerminalText.escaped(String(decoding: head, as: UTF8.self)) + (bytes.count > head.count ? "…" : "")
    }

    public var description: String {
        var text = "POP3 protocol error: \(kindText) in \(context)"
        if let streamOffset { text += " at byte \(streamOffset)" }
        if !excerpt.isEmpty { text += ": \"\(excerpt)\"" }
        return text
    }

    private var kindText: String {
        switch kind {
        case .lineTooLong(let limit): return "line longer than \(limit) bytes"
        case .malformedStatusLine: return "malformed status line"
        case .invalidChallenge(let reason): return "SASL challenge is not base64 (\(reason))"
        case .malformedListingLine: return "malformed listing line"
        case .invalidUniqueID: return "unique-id is not 1-70 printable ASCII characters"
        case .duplicateUniqueID(let uid): return "unique-id \"\(TerminalText.escaped(uid))\" appears twice"
        case .duplicateMessageNumber(let number): return "message number \(number) appears twice"
        case .listingTooLarge(let limit): return "listing larger than \(limit)"
        case .unsolicitedData(let limit): return "more than \(limit) bytes nobody asked for"
        case .invalidArgument(let reason): return "invalid argument (\(reason))"
        }
    }
}
