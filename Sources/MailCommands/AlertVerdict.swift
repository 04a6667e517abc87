/// What the alert rules decided for one message.
public enum AlertVerdict: Sendable, Hashable {
    /// A detected alert that a skip rule matched: forward it to `forwardTo`, open no ticket.
    case skip(rule: String, forwardTo: String, reason: String)
    /// A detected alert: open (or thread) a ticket; `account` is the known account's name, nil when none was found.
    case alert(rule: String, account: String?, reason: String)

    /// The name of the rule that decided: the skip rule for `.skip`, the detection rule for `.alert`.
    public var rule: String {
        switch self {
        case .skip(let rule, _, _), .alert(let rule, _, _): rule
        }
    }

    /// Why, for the message's record.
    public var reason: String {
        switch self {
        case .skip(_, _, let reason), .alert(_, _, let reason): reason
        }
    }

    /// The known account of an alert; nil for a skip or when none was found.
    public var account: String? {
        if case .alert(_, let account, _) = self { return account }
        return nil
    }
}
