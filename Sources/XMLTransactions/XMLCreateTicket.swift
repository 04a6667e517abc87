import MailCommands

/// `<CreateTicket>`: opens a ticket for the requester.
public struct XMLCreateTicket: Sendable, Hashable {
    /// The queue's name; nil: the queue the mail was delivered to.
    public var queue: String?
    public var subject: String
    /// The first article's text, exactly as written (line breaks and surrounding white space kept).
    public var text: String
    public var requester: XMLRequester
    public var priority: String?
    public var category: String?
    public var type: String?
    public var fields: [TicketField]

    public init(
        queue: String? = nil, subject: String, text: String, requester: XMLRequester, priority: String? = nil,
        category: String? = nil, type: String? = nil, fields: [TicketField] = []
    ) {
        self.queue = queue
        self.subject = subject
        self.text = text
        self.requester = requester
        self.priority = priority
        self.category = category
        self.type = type
        self.fields = fields
    }
}
