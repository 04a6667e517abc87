import Foundation

/// Which tickets a page of the API's ticket list holds: filters, and where the previous page ended.
///
/// Pages are ordered by ticket number, newest first, and continue after `beforeNumber`: a ticket created while a
/// client pages never shifts the pages it has not read yet, so paging has no duplicates and no gaps.
public struct TicketListQuery: Sendable, Hashable {
    public var queue: String?
    public var status: String?
    /// The requester's address, compared lower-cased.
    public var requester: String?
    /// Only tickets updated at or after this time.
    public var updatedSince: Date?
    /// Only tickets with a smaller number (the last number of the previous page).
    public var beforeNumber: Int?
    /// At most this many tickets.
    public var limit: Int

    public init(
        queue: String? = nil, status: String? = nil, requester: String? = nil, updatedSince: Date? = nil,
        beforeNumber: Int? = nil, limit: Int = 50
    ) {
        self.queue = queue
        self.status = status
        self.requester = requester
        self.updatedSince = updatedSince
        self.beforeNumber = beforeNumber
        self.limit = limit
    }
}

/// One ticket of the API's list: the summary plus the fields an agent sorts by.
public struct TicketListing: Sendable, Hashable {
    public var number: Int
    public var queue: String
    public var status: String
    public var subject: String
    public var requesterName: String?
    public var requesterAddress: String?
    public var category: String?
    public var priority: String?
    public var type: String?
    public var assignee: String?
    public var articleCount: Int
    public var createdAt: Date
    public var updatedAt: Date
}

/// A page of tickets; `hasMore` says whether a page follows the last one here.
public struct TicketPage: Sendable, Hashable {
    public var tickets: [TicketListing]
    public var hasMore: Bool
}
