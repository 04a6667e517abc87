/// Lets a detected alert through without a ticket: it is forwarded to an internal address instead (seed 001's
/// "Alert Self Healed" status updates).
public struct AlertSkipRule: Sendable, Hashable {
    /// The rule's name, as the verdict names it.
    public var name: String
    /// The phrase that, anywhere in the subject, skips the alert; matched in `CaseFolding`'s sense. A blank
    /// phrase never matches.
    public var subjectPhrase: String
    /// Where the skipped alert is forwarded.
    public var forwardTo: String

    public init(name: String, subjectPhrase: String, forwardTo: String) {
        self.name = name
        self.subjectPhrase = subjectPhrase
        self.forwardTo = forwardTo
    }
}
