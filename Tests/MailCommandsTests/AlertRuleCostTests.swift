import MailCommands
import MailParser
import Testing

/// Huge and hostile subjects: evaluation is linear in the subject for a given rule set. These are hang-only checks
/// with a generous limit (5 minutes, for a loaded machine running the whole suite; a quadratic scan of these
/// megabytes takes hours), never timing assertions.
@Suite("Alert rules: huge subjects")
struct AlertRuleCostTests {
    static let megabyte = 1 << 20

    static let rules = AlertRuleSet(
        detection: [
            AlertDetectionRule(name: "Near miss", senders: [], subjectPhrases: ["aaaaaaaaaaaaaaab"]),
            AlertDetectionRule(name: "Any", senders: ["@rmm.test"], subjectPhrases: []),
        ],
        skip: [AlertSkipRule(name: "Healed", subjectPhrase: "aaaaaaaaaaaaaaaac", forwardTo: "noc@ours.test")],
        accounts: (0..<200).map { AlertAccount(name: "Customer \($0)", id: "ID-\($0)") },
        accountDetection: [
            .after("aaaaaaaab"), .before("aaaaaaaab"), .between("a", "aaaaaaaaaab"), .after("a"), .before("a"),
            .between("a", "a"), .bySender,
        ])

    @Test(
        .timeLimit(.minutes(5)),
        arguments: [
            String(repeating: "a", count: megabyte),
            String(repeating: "É", count: megabyte / 2),
            "e" + String(repeating: "\u{301}", count: megabyte / 2),  // one long run of combining marks
            String(repeating: "山田🔥", count: megabyte / 10),
            String(repeating: "Customer 1 ", count: megabyte / 11),
        ])
    func hugeSubjectFinishes(_ subject: String) {
        guard case .alert(let rule, _, let reason) = Self.rules.evaluate(sender: "a@rmm.test", subject: subject) else {
            Issue.record("expected an alert")
            return
        }
        #expect(rule == "Any")
        #expect(reason.utf8.count < 4_096)  // found text is quoted at most 80 scalars long
    }

    @Test(.timeLimit(.minutes(5))) func foldingIsOnePass() {
        let text = String(repeating: "İSTANBUL ẞ ΌΡΟΣ ", count: Self.megabyte / 32)
        let folded = CaseFolding.folded(text)
        #expect(folded.hasPrefix("istanbul ss όροσ "))
    }

    /// Senders are compared as bytes: Swift's `==` on strings normalizes, which is quadratic on a long run of
    /// out-of-order combining marks (measured by the commands helper: over 10 minutes for 600 KB).
    @Test(.timeLimit(.minutes(5))) func senderWithCombiningMarksIsComparedAsBytes() {
        let marks = String(repeating: "\u{316}\u{301}", count: 150_000)  // 600 KB, every pair out of canonical order
        let rules = AlertRuleSet(
            detection: [
                AlertDetectionRule(name: "Address", senders: ["a\u{301}\u{316}@rmm.test"], subjectPhrases: []),
                AlertDetectionRule(name: "Domain", senders: ["@e\u{301}\u{316}.test"], subjectPhrases: []),
            ],
            accounts: [AlertAccount(name: "Acme", senders: ["a\u{301}\u{316}@acme.test", "@e\u{301}\u{316}.test"])],
            accountDetection: [.bySender])
        #expect(rules.evaluate(sender: "a\(marks)@rmm.test", subject: "CPU") == nil)
        #expect(rules.evaluate(sender: "x@e\(marks).test", subject: "CPU") == nil)
        // A huge sender named in a reason is cut to 80 scalars.
        let bySubject = AlertRuleSet(
            detection: [AlertDetectionRule(name: "CPU", senders: [], subjectPhrases: ["CPU"])],
            accountDetection: [.bySender])
        let reason = bySubject.evaluate(sender: "a\(marks)@rmm.test", subject: "CPU")?.reason ?? ""
        let expected = "alert rule \"CPU\": subject \"CPU\"; no known account (by sender: \"a\u{316}\u{301}"
        #expect(reason.utf8.starts(with: expected.utf8))  // bytes: `hasPrefix` compares whole characters
        #expect(reason.unicodeScalars.count < 200)
        // The configured forms still match themselves.
        #expect(rules.evaluate(sender: "A\u{301}\u{316}@RMM.test", subject: "CPU")?.rule == "Address")
    }
}
