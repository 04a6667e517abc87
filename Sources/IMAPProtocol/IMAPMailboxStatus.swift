/// The items of a STATUS response; an item the server did not send is nil.
public struct IMAPMailboxStatus: Sendable, Hashable {
    public var messages: UInt32?
    public var recent: UInt32?
    public var uidNext: UInt32?
    public var uidValidity: UInt32?
    public var unseen: UInt32?
    public var deleted: UInt32?
    /// RFC 8438 STATUS=SIZE.
    public var size: UInt64?
    /// RFC 7162 CONDSTORE.
    public var highestModSequence: UInt64?

    public init() {}
}
