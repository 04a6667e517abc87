/// How a detection rule combines its sender and subject conditions.
public enum AlertRuleCombination: String, Sendable, Hashable, CaseIterable {
    /// Every condition the rule defines must hold: the sender AND the subject when it names both (seed 001's
    /// default, which narrows the rule).
    case all
    /// Any condition the rule defines is enough: the sender OR the subject.
    case any
}
