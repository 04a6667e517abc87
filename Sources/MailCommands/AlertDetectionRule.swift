/// Recognises a monitoring system's automated mail by its sender and a phrase in its subject.
public struct AlertDetectionRule: Sendable, Hashable {
    /// The rule's name, as the record and the verdict's reason show it.
    public var name: String
    /// Sender addresses (`alerts@rmm.example`) or whole domains (`@rmm.example`, exactly that domain); compared in
    /// `MailAddressForm.normalized` form. Empty: the rule has no sender condition.
    public var senders: [String]
    /// Phrases, any one of which in the subject satisfies the subject condition, matched case-insensitively in
    /// `CaseFolding`'s sense. Blank phrases are ignored. Empty: the rule has no subject condition.
    public var subjectPhrases: [String]
    /// How the two conditions combine. A rule that defines neither condition never matches.
    public var combination: AlertRuleCombination

    public init(name: String, senders: [String], subjectPhrases: [String], combination: AlertRuleCombination = .all) {
        self.name = name
        self.senders = senders
        self.subjectPhrases = subjectPhrases
        self.combination = combination
    }
}
