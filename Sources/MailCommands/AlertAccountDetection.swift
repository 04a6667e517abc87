/// Where an alert names its account. The name or id found is compared with the known accounts in
/// `CaseFolding`'s sense; phrases are matched the same way, at their first occurrence in the subject.
public enum AlertAccountDetection: Sendable, Hashable {
    /// Right after the phrase (blanks skipped): the longest account name or id that the rest of the subject starts
    /// with, ending at a word boundary (`Customer: Acme Corp - disk` names "Acme Corp", not "Acme" when both exist).
    case after(String)
    /// Just before the phrase (blanks skipped): the longest account name or id that the subject's text before the
    /// phrase ends with, starting at a word boundary.
    case before(String)
    /// Between the first phrase and the next occurrence of the second after it, trimmed: exactly an account name
    /// or id (`Alert for Site Acme, disk low` with "Alert for Site" and ",").
    case between(String, String)
    /// The sender's address (or domain) is one of a known account's `senders`.
    case bySender
}
