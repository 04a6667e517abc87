/// A non-body attribute of a FETCH response. Bodies come as `bodyBegin`/`bodyBytes`/`bodyEnd` events; ENVELOPE,
/// BODYSTRUCTURE and attributes this codec does not know are checked for well-formedness and skipped.
public enum IMAPFetchAttribute: Sendable, Hashable {
    case uid(UInt32)
    case rfc822Size(UInt64)
    case flags([IMAPFlag])
    /// The INTERNALDATE text as sent (`"05-Dec-2026 08:50:59 +0000"`, without the quotes).
    case internalDate(String)
    /// RFC 7162 CONDSTORE `MODSEQ (n)`.
    case modSequence(UInt64)
}
