/// An item a FETCH command asks for.
public enum IMAPFetchItem: Sendable, Hashable {
    case uid
    case rfc822Size
    case flags
    case internalDate
    case envelope
    case bodyStructure
    case modSequence
    /// `BODY.PEEK[section]<offset.length>`: does not set `\Seen`. Section `""` is the whole message.
    case bodyPeek(section: String = "", partial: ClosedRange<UInt64>? = nil)
    /// `BODY[section]`: sets `\Seen`.
    case body(section: String = "", partial: ClosedRange<UInt64>? = nil)

    var wireText: String {
        switch self {
        case .uid: return "UID"
        case .rfc822Size: return "RFC822.SIZE"
        case .flags: return "FLAGS"
        case .internalDate: return "INTERNALDATE"
        case .envelope: return "ENVELOPE"
        case .bodyStructure: return "BODYSTRUCTURE"
        case .modSequence: return "MODSEQ"
        case .bodyPeek(let section, let partial): return "BODY.PEEK[\(section)]" + Self.partialText(partial)
        case .body(let section, let partial): return "BODY[\(section)]" + Self.partialText(partial)
        }
    }

    private static func partialText(_ partial: ClosedRange<UInt64>?) -> String {
        guard let partial else { return "" }
        return "<\(partial.lowerBound).\(partial.upperBound - partial.lowerBound + 1)>"
    }
}
