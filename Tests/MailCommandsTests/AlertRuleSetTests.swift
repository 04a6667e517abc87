import MailParser
import Testing

@testable import MailCommands

/// Seed 001's automated-email rules: detection (sender AND/OR subject), skip, account detection.
@Suite("Alert rules")
struct AlertRuleSetTests {
    static let accounts = [
        AlertAccount(name: "Acme", id: "C-1001", senders: ["@acme.example.test"]),
        AlertAccount(name: "Acme Corp", id: "C-1002"),
        AlertAccount(name: "Globex", id: "G7", senders: ["monitor@globex.example.test"]),
    ]

    /// Seed 001's example: from alerts@externalsystem.com with "Alert" in the subject.
    static let seedRules = AlertRuleSet(
        detection: [
            AlertDetectionRule(
                name: "External system", senders: ["alerts@externalsystem.example.test"],
                subjectPhrases: ["Alert"])
        ],
        skip: [AlertSkipRule(name: "Self healed", subjectPhrase: "Alert Self Healed", forwardTo: "noc@ours.test")],
        accounts: accounts,
        accountDetection: [.between("Alert for Site", ",")])

    @Test func seedDetectionNeedsSenderAndSubject() {
        let rules = Self.seedRules
        #expect(rules.evaluate(sender: "alerts@externalsystem.example.test", subject: "Weekly report") == nil)
        #expect(rules.evaluate(sender: "someone@externalsystem.example.test", subject: "Alert for Site Acme, x") == nil)
        let verdict = rules.evaluate(
            sender: "Alerts@ExternalSystem.example.test", subject: "Alert for Site Acme, disk C: 95% full")
        #expect(
            verdict
                == .alert(
                    rule: "External system", account: "Acme",
                    reason:
                        "alert rule \"External system\": sender alerts@externalsystem.example.test and subject \"Alert\"; account \"Acme\" between \"Alert for Site\" and \",\""
                ))
    }

    @Test func seedSkipRuleForwardsSelfHealedAlerts() {
        let verdict = Self.seedRules.evaluate(
            sender: "alerts@externalsystem.example.test", subject: "ALERT SELF HEALED: Alert for Site Acme, disk")
        #expect(
            verdict
                == .skip(
                    rule: "Self healed", forwardTo: "noc@ours.test",
                    reason:
                        "alert rule \"External system\": sender alerts@externalsystem.example.test and subject \"Alert\"; skip rule \"Self healed\": subject \"Alert Self Healed\", forwarded to noc@ours.test"
                ))
    }

    @Test func skipRulesApplyOnlyToDetectedAlerts() {
        // A customer's own mail that happens to say "Alert Self Healed" is not an alert: no detection, no skip.
        #expect(Self.seedRules.evaluate(sender: "bob@customer.test", subject: "Alert Self Healed?") == nil)
    }

    @Test func subjectOnlyAndSenderOnlyRules() {
        let rules = AlertRuleSet(detection: [
            AlertDetectionRule(name: "By subject", senders: [], subjectPhrases: ["[RMM]"]),
            AlertDetectionRule(name: "By domain", senders: ["@rmm.example.test"], subjectPhrases: []),
        ])
        #expect(rules.evaluate(sender: "x@anywhere.test", subject: "[rmm] CPU high")?.rule == "By subject")
        #expect(rules.evaluate(sender: "probe+7@RMM.example.test", subject: "CPU high")?.rule == "By domain")
        // The domain is matched exactly: neither a subdomain nor a longer name.
        #expect(rules.evaluate(sender: "probe@eu.rmm.example.test", subject: "CPU high") == nil)
        #expect(rules.evaluate(sender: "probe@notrmm.example.test", subject: "CPU high") == nil)
    }

    @Test func anyCombinationNeedsOneCondition() {
        let rules = AlertRuleSet(detection: [
            AlertDetectionRule(
                name: "Either", senders: ["nagios@ops.test"], subjectPhrases: ["PROBLEM", "RECOVERY"],
                combination: .any)
        ])
        #expect(
            rules.evaluate(sender: "nagios@ops.test", subject: "hello")?.reason
                == "alert rule \"Either\": sender nagios@ops.test; no account found")
        #expect(
            rules.evaluate(sender: "x@y.test", subject: "** Recovery Service Alert **")?.reason
                == "alert rule \"Either\": subject \"RECOVERY\"; no account found")
        #expect(rules.evaluate(sender: "x@y.test", subject: "hello") == nil)
    }

    @Test func rulesWithoutConditionsOrWithBlankPhrasesNeverMatch() {
        let rules = AlertRuleSet(detection: [
            AlertDetectionRule(name: "Empty", senders: [], subjectPhrases: []),
            AlertDetectionRule(name: "Blank", senders: [" "], subjectPhrases: ["", "  \t"]),
        ])
        #expect(rules.evaluate(sender: "a@b.test", subject: "anything at all") == nil)
        #expect(rules.evaluate(sender: "", subject: "") == nil)
    }

    @Test func firstMatchingRuleWinsInOrder() {
        let rules = AlertRuleSet(detection: [
            AlertDetectionRule(name: "Specific", senders: ["@rmm.test"], subjectPhrases: ["Disk"]),
            AlertDetectionRule(name: "General", senders: ["@rmm.test"], subjectPhrases: []),
            AlertDetectionRule(name: "Never reached", senders: ["@rmm.test"], subjectPhrases: ["Disk"]),
        ])
        #expect(rules.evaluate(sender: "a@rmm.test", subject: "Disk low")?.rule == "Specific")
        #expect(rules.evaluate(sender: "a@rmm.test", subject: "CPU high")?.rule == "General")
        let skips = AlertRuleSet(
            detection: [AlertDetectionRule(name: "All", senders: ["@rmm.test"], subjectPhrases: [])],
            skip: [
                AlertSkipRule(name: "First", subjectPhrase: "healed", forwardTo: "one@ours.test"),
                AlertSkipRule(name: "Second", subjectPhrase: "self healed", forwardTo: "two@ours.test"),
            ])
        guard case .skip(let rule, let forwardTo, _) = skips.evaluate(sender: "a@rmm.test", subject: "Self healed")
        else {
            Issue.record("expected a skip")
            return
        }
        #expect(rule == "First" && forwardTo == "one@ours.test")
    }

    // MARK: - Account detection

    static func rules(_ detection: [AlertAccountDetection]) -> AlertRuleSet {
        AlertRuleSet(
            detection: [AlertDetectionRule(name: "RMM", senders: ["@rmm.example.test"], subjectPhrases: [])],
            accounts: accounts, accountDetection: detection)
    }

    func account(_ detection: [AlertAccountDetection], _ subject: String, sender: String = "x@rmm.example.test")
        -> String?
    {
        guard case .alert(_, let account, _) = Self.rules(detection).evaluate(sender: sender, subject: subject) else {
            Issue.record("not an alert: \(subject)")
            return nil
        }
        return account
    }

    @Test func accountAfterPhrase() {
        #expect(account([.after("Customer:")], "Disk space low - Customer: Acme") == "Acme")
        #expect(account([.after("customer:")], "Disk low - CUSTOMER:   acme corp (server 3)") == "Acme Corp")
        #expect(account([.after("Customer:")], "Customer: Acme - disk") == "Acme")
        // By id, and only at a word boundary: "Acme2" is not "Acme".
        #expect(account([.after("Client #")], "Client #c-1002 backup failed") == "Acme Corp")
        #expect(account([.after("Customer:")], "Customer: Acme2 disk") == nil)
    }

    @Test func accountBeforePhrase() {
        #expect(account([.before("] - alert")], "[Globex] - Alert: CPU") == "Globex")
        // Phrases are trimmed, and only blanks are skipped between the account and the phrase.
        #expect(account([.before(" - alert ")], "[Globex] - Alert: CPU") == nil)
        #expect(account([.before(":")], "Acme Corp: backup failed") == "Acme Corp")
        #expect(account([.before(":")], "NotAcme: backup failed") == nil)
        #expect(account([.before("reported")], "G7 reported a failure") == "Globex")
    }

    @Test func accountBetweenPhrases() {
        #expect(account([.between("Alert for Site", ",")], "Alert for Site  Globex , CPU") == "Globex")
        // The closing phrase is looked for after the opening one; without it nothing is found.
        #expect(account([.between("Site", ",")], "a, Site Acme") == nil)
        // Exactly the account, not a prefix.
        #expect(account([.between("Site", ",")], "Site Acme Corp Ltd, x") == nil)
    }

    @Test func accountBySenderAndRuleOrder() {
        let rules = AlertRuleSet(
            detection: [AlertDetectionRule(name: "Any", senders: [], subjectPhrases: ["CPU"])],
            accounts: Self.accounts, accountDetection: [.after("Customer:"), .bySender])
        #expect(rules.evaluate(sender: "Monitor@Globex.example.test", subject: "CPU high")?.account == "Globex")
        #expect(rules.evaluate(sender: "a@acme.example.test", subject: "CPU high")?.account == "Acme")
        // The subject rule comes first and finds Globex; the sender would have said Acme.
        #expect(
            rules.evaluate(sender: "a@acme.example.test", subject: "CPU high Customer: Globex")?.account == "Globex")
        #expect(
            rules.evaluate(sender: "a@acme.example.test", subject: "CPU high Customer: Globex")?.reason
                == "alert rule \"Any\": subject \"CPU\"; account \"Globex\" after \"Customer:\"")
    }

    @Test func unknownAccountIsNamedInTheReason() {
        let verdict = Self.rules([.after("Customer:"), .bySender]).evaluate(
            sender: "x@rmm.example.test", subject: "Disk low - Customer: Initech\u{1B}[2J")
        #expect(
            verdict
                == .alert(
                    rule: "RMM", account: nil,
                    reason:
                        "alert rule \"RMM\": sender @rmm.example.test; no known account (after \"Customer:\": \"initech\\u{1B}[2j\" is not a known account; by sender: \"x@rmm.example.test\" is no known account's sender)"
                ))
        #expect(
            Self.rules([.after("Customer:")]).evaluate(sender: "x@rmm.example.test", subject: "Disk")?.reason
                == "alert rule \"RMM\": sender @rmm.example.test; no account found")
    }
}
