/// A client command, before encoding (see `IMAPCommandEncoder`). Only the commands a mail poller needs.
public enum IMAPCommand: Sendable, Hashable {
    case capability
    case noop
    case logout
    /// On the tagged OK (before calling `next()` again) the driver checks `IMAPResponseParser.isAtResponseBoundary`,
    /// starts TLS and keeps
    /// feeding the same parser (no new greeting comes). Bytes the server sent after the OK in plain text (not at
    /// a boundary) are an injection attempt (CVE-2011-0411 style): drop the connection instead.
    case startTLS
    case login(username: String, password: String)
    /// SASL: `initialResponse` is the client's first message (raw, not base64), sent with the command when the
    /// server has SASL-IR, else as the second segment after the server's `+`. nil: the mechanism starts with
    /// a server challenge.
    case authenticate(mechanism: String, initialResponse: [UInt8]?)
    case enable([String])
    case select(IMAPMailboxName)
    case examine(IMAPMailboxName)
    /// Creates a folder (after a `[TRYCREATE]` answer to UID MOVE/COPY).
    case create(IMAPMailboxName)
    /// `LIST reference pattern`; the pattern is a mailbox name with `*` and `%` wildcards, encoded like one.
    case list(reference: String, pattern: String)
    case status(IMAPMailboxName, [IMAPStatusItem])
    case uidSearch(IMAPSearchKey)
    case uidFetch(IMAPUIDSet, [IMAPFetchItem])
    /// `UID STORE set [+|-]FLAGS[.SILENT] (flags)`.
    case uidStore(IMAPUIDSet, IMAPStoreOperation, [IMAPFlag], silent: Bool)
    case uidCopy(IMAPUIDSet, IMAPMailboxName)
    case uidMove(IMAPUIDSet, IMAPMailboxName)
    /// RFC 4315: expunges only these UIDs (never a bare EXPUNGE, which could remove mail not yet stored).
    case uidExpunge(IMAPUIDSet)
    /// The server answers `+`; the driver then sends `IMAPCommandEncoder.idleDone` to end it.
    case idle
}
