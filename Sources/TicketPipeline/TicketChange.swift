import Foundation

/// What an agent changes on a ticket through the API; nil leaves a field as it is. For the optional fields
/// (category, priority, type, assignee) `.some(nil)` clears the value.
public struct TicketChange: Sendable, Hashable {
    /// The statuses a ticket can have.
    public static let statuses: Set<String> = ["new", "open", "pending", "solved", "closed"]

    public var status: String?
    public var priority: String??
    public var category: String??
    public var type: String??
    public var assignee: String??

    public init(
        status: String? = nil, priority: String?? = nil, category: String?? = nil, type: String?? = nil,
        assignee: String?? = nil
    ) {
        self.status = status
        self.priority = priority
        self.category = category
        self.type = type
        self.assignee = assignee
    }

    public var isEmpty: Bool {
        status == nil && priority == nil && category == nil && type == nil && assignee == nil
    }
}
