import MailCommands
import TestSupport
import Testing

/// Seeded random subjects and senders built from the rules' own phrases, names and awkward scalars: evaluation
/// never crashes, and its verdict names only configured rules and accounts.
@Suite("Alert rules: random subjects")
struct AlertRuleFuzzTests {
    static let pieces = [
        "Customer:", "customer:", " - ", ",", "[", "]", "Acme", "ACME CORP", "acme", "G7", "Alert", "Healed", " ", "\t",
        "é", "E\u{301}", "\u{301}", "İ", "ß", "ẞ", "山田", "商事", "🔥", "\u{1B}", "\u{0}", "x", "1", "Σ", "ς",
    ]
    static let senders = ["a@rmm.test", "probe@acme.test", "", "@", "x@", "é@rmm.test", "<A@RMM.TEST>", "a\u{301}@x"]

    static let rules = AlertRuleSet(
        detection: [
            AlertDetectionRule(name: "RMM", senders: ["@rmm.test"], subjectPhrases: ["alert"]),
            AlertDetectionRule(
                name: "Any", senders: ["probe@acme.test"], subjectPhrases: ["🔥", "ß"], combination: .any),
        ],
        skip: [AlertSkipRule(name: "Healed", subjectPhrase: "healed", forwardTo: "noc@ours.test")],
        accounts: [
            AlertAccount(name: "Acme", id: "G7", senders: ["@acme.test"]), AlertAccount(name: "Acme Corp"),
            AlertAccount(name: "山田商事"), AlertAccount(name: "İß"),
        ],
        accountDetection: [
            .after("customer:"), .before(" - "), .before("]"), .between("[", "]"), .between("customer:", ","),
            .bySender,
        ])

    @Test func randomSubjectsNeverCrash() {
        var generator = SplitMix64(seed: 0xA1E7_5EED)
        var alerts = 0
        for _ in 0..<3_000 {
            let count = Int(generator.next() % 24)
            var subject = ""
            for _ in 0..<count { subject += Self.pieces[Int(generator.next() % UInt64(Self.pieces.count))] }
            let sender = Self.senders[Int(generator.next() % UInt64(Self.senders.count))]
            guard let verdict = Self.rules.evaluate(sender: sender, subject: subject) else { continue }
            switch verdict {
            case .skip(let rule, let forwardTo, _):
                #expect(rule == "Healed" && forwardTo == "noc@ours.test")
            case .alert(let rule, let account, let reason):
                alerts += 1
                #expect(["RMM", "Any"].contains(rule))
                #expect(account == nil || ["Acme", "Acme Corp", "山田商事", "İß"].contains(account!))
                #expect(reason.unicodeScalars.count < 1_000)
            }
        }
        #expect(alerts > 100)
    }
}
