/// An ESEARCH response (RFC 4731): the result of `SEARCH RETURN (...)`.
public struct IMAPExtendedSearch: Sendable, Hashable {
    /// The tag of the command this answers (`(TAG "a16")`), if sent.
    public var tag: String?
    /// Whether the numbers are UIDs.
    public var uid: Bool
    public var min: UInt32?
    public var max: UInt32?
    public var count: UInt32?
    public var all: IMAPUIDSet?
    public var modSequence: UInt64?

    public init(tag: String? = nil, uid: Bool = false) {
        self.tag = tag
        self.uid = uid
    }
}
