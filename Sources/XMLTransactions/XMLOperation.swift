/// One operation of a transaction, in document order.
public enum XMLOperation: Sendable, Hashable {
    case createTicket(XMLCreateTicket)
    case addArticle(XMLAddArticle)
    case changeTicket(XMLChangeTicket)

    public var kind: XMLOperationKind {
        switch self {
        case .createTicket: .createTicket
        case .addArticle: .addArticle
        case .changeTicket: .changeTicket
        }
    }

    /// The ticket the operation targets; nil for a ticket still to be created.
    public var ticket: Int? {
        switch self {
        case .createTicket: nil
        case .addArticle(let article): article.ticket
        case .changeTicket(let change): change.ticket
        }
    }
}

/// Which operation a result answers; the raw value is the element's name.
public enum XMLOperationKind: String, Sendable, Hashable, CaseIterable {
    case createTicket = "CreateTicket"
    case addArticle = "AddArticle"
    case changeTicket = "ChangeTicket"
}
