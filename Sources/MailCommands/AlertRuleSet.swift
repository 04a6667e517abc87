import MailParser

/// The automated-email rules of seed 001: which mail is a monitoring system's alert, which alerts are only
/// forwarded, and which account an alert is about. Rules are tried in order and the first that applies wins;
/// every comparison is case-insensitive (`CaseFolding` for subjects and names, `MailAddressForm` for senders).
public struct AlertRuleSet: Sendable, Hashable {
    /// Decide whether a message is an alert; the first matching rule names it.
    public var detection: [AlertDetectionRule]
    /// Tried on a detected alert before its account is looked for: a match forwards it without a ticket.
    public var skip: [AlertSkipRule]
    /// The known accounts an alert may name.
    public var accounts: [AlertAccount]
    /// Where to find the account, tried in order until one finds a known account.
    public var accountDetection: [AlertAccountDetection]

    public init(
        detection: [AlertDetectionRule], skip: [AlertSkipRule] = [], accounts: [AlertAccount] = [],
        accountDetection: [AlertAccountDetection] = []
    ) {
        self.detection = detection
        self.skip = skip
        self.accounts = accounts
        self.accountDetection = accountDetection
    }

    /// The verdict for one message, nil when no detection rule matches (not an alert). As in seed 001, skip rules
    /// apply only to mail a detection rule recognised, and are tried before the account is looked for.
    ///
    /// - Parameters:
    ///   - sender: the sender's address (normalized again here with `MailAddressForm`).
    ///   - subject: the decoded Subject ("" when there is none).
    /// - Complexity: nothing in the subject when only `.all` rules with senders exist and none names the sender
    ///   (ordinary mail); otherwise O(n) to fold the subject once (n its bytes, when the first rule needs it), then
    ///   O(n × m) byte comparisons at worst per configured phrase of m bytes (`ByteText.firstRange`), and O(a × k)
    ///   per account detection rule (a accounts, k their names' bytes): linear in the subject for a given rule set,
    ///   whatever it contains.
    public func evaluate(sender: String, subject: String) -> AlertVerdict? {
        let sender = MailAddressForm.normalized(sender)
        var folded: AlertRuleSubject?
        guard let (rule, detectionReason) = firstDetection(sender: sender, subject: subject, folded: &folded) else {
            return nil
        }
        let subject = folded ?? AlertRuleSubject(subject)
        let detected = "alert rule \"\(rule.name)\": \(detectionReason)"
        for skipRule in skip {
            guard let key = AlertRuleSubject.key(skipRule.subjectPhrase), subject.firstRange(of: key) != nil else {
                continue
            }
            return .skip(
                rule: skipRule.name, forwardTo: skipRule.forwardTo,
                reason:
                    "\(detected); skip rule \"\(skipRule.name)\": subject \"\(skipRule.subjectPhrase)\", forwarded to \(skipRule.forwardTo)"
            )
        }
        let (account, accountReason) = findAccount(sender: sender, subject: subject)
        return .alert(rule: rule.name, account: account?.name, reason: "\(detected); \(accountReason)")
    }

    // MARK: - Detection

    /// The first rule that matches and what it matched. The subject is folded into `folded` the first time a rule
    /// needs it: ordinary mail that fails every rule's sender condition never pays for it.
    private func firstDetection(
        sender: String, subject: String, folded: inout AlertRuleSubject?
    ) -> (AlertDetectionRule, String)? {
        for rule in detection {
            if let reason = Self.match(rule, sender: sender, subject: subject, folded: &folded) {
                return (rule, reason)
            }
        }
        return nil
    }

    /// What the rule matched, or nil.
    private static func match(
        _ rule: AlertDetectionRule, sender: String, subject: String, folded: inout AlertRuleSubject?
    ) -> String? {
        let senders = rule.senders.filter { !ByteText.trimmed($0).isEmpty }
        let matchedSender = senders.first { senderMatches(sender, $0) }
        if rule.combination == .all && !senders.isEmpty && matchedSender == nil { return nil }
        let phrases = rule.subjectPhrases.compactMap { phrase in AlertRuleSubject.key(phrase).map { (phrase, $0) } }
        guard !phrases.isEmpty || !senders.isEmpty else { return nil }
        var matchedPhrase: String?
        if !phrases.isEmpty {
            let searched = folded ?? AlertRuleSubject(subject)
            folded = searched
            matchedPhrase = phrases.first { searched.firstRange(of: $0.1) != nil }?.0
        }
        switch rule.combination {
        case .all:
            if !phrases.isEmpty && matchedPhrase == nil { return nil }
        case .any:
            if matchedSender == nil && matchedPhrase == nil { return nil }
        }
        let senderPart = matchedSender.map { "sender \(ByteText.trimmed($0))" }
        let subjectPart = matchedPhrase.map { "subject \"\($0)\"" }
        return [senderPart, subjectPart].compactMap { $0 }.joined(separator: " and ")
    }

    /// Whether a normalized sender is `pattern`: an address, or `@domain` for any address at exactly that domain.
    /// Compared as bytes, O(length): `==` on strings normalizes, which is quadratic on a long run of combining marks.
    static func senderMatches(_ sender: String, _ pattern: String) -> Bool {
        let pattern = ByteText.trimmed(pattern)
        if pattern.utf8.first == 0x40 {
            guard let domain = MailAddressForm.domain(sender) else { return false }
            var wanted = ByteText.lowercasedASCII(pattern.dropFirst())
            if wanted.utf8.last == 0x2E { wanted.removeLast() }
            return !wanted.isEmpty && domain.utf8.elementsEqual(wanted.utf8)
        }
        return sender.utf8.elementsEqual(MailAddressForm.normalized(pattern).utf8)
    }

    // MARK: - Accounts

    /// The known account and why, or nil and what was (not) found. Per entry: O(n × m) to find its phrases (m their
    /// bytes), then O(a × k) to compare the a accounts' names and ids (k bytes each) at that place.
    private func findAccount(sender: String, subject: AlertRuleSubject) -> (AlertAccount?, String) {
        let keys = accounts.map { account in
            (account, [AlertRuleSubject.key(account.name), account.id.flatMap(AlertRuleSubject.key)].compactMap { $0 })
        }
        var unknown: [String] = []
        for detection in accountDetection {
            switch detection {
            case .after(let phrase):
                guard let key = AlertRuleSubject.key(phrase), let found = subject.firstRange(of: key) else { continue }
                let rest = subject.trimmed(found.upperBound..<subject.bytes.count)
                let best = keys.compactMap { account, names in
                    names.filter { subject.startsWord($0, at: rest.lowerBound, end: rest.upperBound) }.max {
                        $0.count < $1.count
                    }.map { (account, $0.count) }
                }.max { $0.1 < $1.1 }
                if let (account, _) = best { return (account, "account \"\(account.name)\" after \"\(phrase)\"") }
                unknown.append("after \"\(phrase)\": \(subject.quoted(rest)) is not a known account")
            case .before(let phrase):
                guard let key = AlertRuleSubject.key(phrase), let found = subject.firstRange(of: key) else { continue }
                let head = subject.trimmed(0..<found.lowerBound)
                let best = keys.compactMap { account, names in
                    names.filter { subject.endsWord($0, before: head.upperBound, start: head.lowerBound) }.max {
                        $0.count < $1.count
                    }.map { (account, $0.count) }
                }.max { $0.1 < $1.1 }
                if let (account, _) = best { return (account, "account \"\(account.name)\" before \"\(phrase)\"") }
                unknown.append("before \"\(phrase)\": \(subject.quoted(head)) is not a known account")
            case .between(let start, let end):
                guard let startKey = AlertRuleSubject.key(start), let endKey = AlertRuleSubject.key(end),
                    let opening = subject.firstRange(of: startKey),
                    let closing = subject.firstRange(of: endKey, from: opening.upperBound)
                else { continue }
                let inner = subject.trimmed(opening.upperBound..<closing.lowerBound)
                let text = subject.bytes[inner]
                if let (account, _) = keys.first(where: { _, names in names.contains { text.elementsEqual($0) } }) {
                    return (account, "account \"\(account.name)\" between \"\(start)\" and \"\(end)\"")
                }
                unknown.append(
                    "between \"\(start)\" and \"\(end)\": \(subject.quoted(inner)) is not a known account")
            case .bySender:
                for account in accounts {
                    if let pattern = account.senders.first(where: { Self.senderMatches(sender, $0) }) {
                        return (account, "account \"\(account.name)\" by sender \(ByteText.trimmed(pattern))")
                    }
                }
                unknown.append("by sender: \(AlertRuleSubject.quoted(sender)) is no known account's sender")
            }
        }
        if unknown.isEmpty { return (nil, "no account found") }
        return (nil, "no known account (" + unknown.joined(separator: "; ") + ")")
    }
}
