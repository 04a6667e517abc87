import MailCommands

/// `<ChangeTicket ticket="N">`: changes ticket N's status, classification, assignee or fields. At least one
/// change is present (the parser refuses an empty one).
public struct XMLChangeTicket: Sendable, Hashable {
    public var ticket: Int
    public var status: String?
    public var priority: String?
    public var category: String?
    public var type: String?
    /// The agent's login or address, as written.
    public var assignee: String?
    public var fields: [TicketField]

    public init(
        ticket: Int, status: String? = nil, priority: String? = nil, category: String? = nil, type: String? = nil,
        assignee: String? = nil, fields: [TicketField] = []
    ) {
        self.ticket = ticket
        self.status = status
        self.priority = priority
        self.category = category
        self.type = type
        self.assignee = assignee
        self.fields = fields
    }
}
