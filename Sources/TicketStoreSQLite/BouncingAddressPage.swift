import TicketPipeline

/// One page of the addresses our mail bounced from, and where the next page starts (nil: this is the last).
public struct BouncingAddressPage: Sendable, Hashable {
    /// A position in the list: the flag's exact time and the contact's id, which orders addresses flagged at the
    /// same moment.
    public struct Position: Sendable, Hashable {
        public var since: Double
        public var contactID: Int64

        public init(since: Double, contactID: Int64) {
            self.since = since
            self.contactID = contactID
        }
    }

    public var items: [BouncingAddress]
    public var next: Position?

    public init(items: [BouncingAddress], next: Position?) {
        self.items = items
        self.next = next
    }
}
