/// An untagged (`* `) response other than FETCH (which streams as events) and the greeting.
public enum IMAPUntaggedResponse: Sendable, Hashable {
    /// `* OK|NO|BAD|BYE|PREAUTH [code] text`.
    case condition(IMAPResponseCondition)
    case capability(IMAPCapabilities)
    /// RFC 5161 `* ENABLED ...`.
    case enabled([String])
    case exists(UInt32)
    case expunge(UInt32)
    case recent(UInt32)
    case flags([IMAPFlag])
    /// LIST or LSUB; the mailbox name is decoded from modified UTF-7.
    case list(IMAPListEntry)
    case status(IMAPMailboxName, IMAPMailboxStatus)
    /// `* SEARCH n n ...` (UIDs after UID SEARCH), with the CONDSTORE `(MODSEQ n)` when sent.
    case search([UInt32], modSequence: UInt64?)
    case extendedSearch(IMAPExtendedSearch)
    /// RFC 7162 QRESYNC: these UIDs are gone; `earlier` when the answer to a QRESYNC SELECT (not new news).
    case vanished(IMAPUIDSet, earlier: Bool)
    /// A response this codec does not interpret (`ID`, `NAMESPACE`, `METADATA`...): its name upper-cased (or
    /// the number and name, `5 XYZ`) and the rest of the line, escaped like `IMAPProtocolError.excerpt`, at
    /// most 1 KiB.
    case other(name: String, text: String)
}
