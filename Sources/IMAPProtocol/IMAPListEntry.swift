/// One LIST (or LSUB) response: a mailbox, its attributes and hierarchy delimiter.
public struct IMAPListEntry: Sendable, Hashable {
    /// Name attributes as sent (`\HasNoChildren`, `\Noselect`, `\Trash`).
    public var attributes: [String]
    /// The hierarchy delimiter, or nil for a flat name space (`NIL`).
    public var delimiter: Character?
    public var mailbox: IMAPMailboxName

    public init(attributes: [String], delimiter: Character?, mailbox: IMAPMailboxName) {
        self.attributes = attributes
        self.delimiter = delimiter
        self.mailbox = mailbox
    }

    /// Whether the mailbox can be selected (no `\Noselect` or `\NonExistent`).
    public var isSelectable: Bool {
        !attributes.contains { IMAPCapabilities.equalIgnoringCase($0, "\\Noselect") }
            && !attributes.contains { IMAPCapabilities.equalIgnoringCase($0, "\\NonExistent") }
    }
}
