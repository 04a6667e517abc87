/// What the alert rules decided for one message.
public enum AlertVerdict: Sendable, Hashable {
    /// A detected alert that a skip rule matched: forward it to `forwardTo`, open no ticket.
    case skip(rule: String, forwardTo: String, reason: String)
    /// A detected alert: open (or thread) a ticket; `account` is the known account's name, nil when none was found.
    case alert(rule: String, account: String?, reason: String)
}
