import MailParser
import Testing

@testable import MailClassification

@Suite("Queue filters")
struct MailFilterTests {
    static let message = Fixture.parsed(
        """
        From: Alice Customer <Alice@Sales.Customer.example>
        To: support@helpdesk.example
        Subject: URGENT: Invoice #4711 overdue
        Content-Type: text/plain; charset=utf-8

        Please pay the invoice. Unsubscribe-links are not here. Grüße aus Köln.
        """)

    struct RuleCase: Sendable, CustomTestStringConvertible {
        var rule: FilterRule
        var sender: String? = "bounces@mailer.example"
        /// What the rule should report as matched; nil: no match.
        var matched: String?
        var testDescription: String { rule.description + (sender.map { " / \($0)" } ?? "") }
    }

    static let cases: [RuleCase] = [
        RuleCase(rule: .address("alice@sales.customer.example"), matched: "alice@sales.customer.example"),
        RuleCase(rule: .address("<ALICE@sales.customer.example>"), matched: "alice@sales.customer.example"),
        RuleCase(rule: .address("alice@customer.example"), matched: nil),
        RuleCase(rule: .address("bounces@mailer.example"), matched: "bounces@mailer.example"),
        RuleCase(rule: .address("bounces@mailer.example"), sender: nil, matched: nil),
        RuleCase(
            rule: .domain("sales.customer.example", includeSubdomains: false), matched: "alice@sales.customer.example"),
        RuleCase(rule: .domain("customer.example", includeSubdomains: false), matched: nil),
        RuleCase(rule: .domain("customer.example", includeSubdomains: true), matched: "alice@sales.customer.example"),
        RuleCase(rule: .domain("@Customer.Example", includeSubdomains: true), matched: "alice@sales.customer.example"),
        RuleCase(rule: .domain("*.customer.example", includeSubdomains: true), matched: "alice@sales.customer.example"),
        RuleCase(rule: .domain("mer.example", includeSubdomains: true), matched: nil),
        RuleCase(rule: .domain("mailer.example", includeSubdomains: false), matched: "bounces@mailer.example"),
        RuleCase(rule: .keyword("urgent", match: .wholeWord, fields: .subject), matched: "\"urgent\" in subject"),
        RuleCase(
            rule: .keyword("Invoice", match: .wholeWord, fields: .subjectAndBody), matched: "\"Invoice\" in subject"),
        RuleCase(rule: .keyword("invoice", match: .wholeWord, fields: .body), matched: "\"invoice\" in body"),
        RuleCase(rule: .keyword("4711", match: .wholeWord, fields: .subject), matched: "\"4711\" in subject"),
        RuleCase(rule: .keyword("471", match: .wholeWord, fields: .subject), matched: nil),
        RuleCase(rule: .keyword("471", match: .substring, fields: .subject), matched: "\"471\" in subject"),
        RuleCase(rule: .keyword("subscribe", match: .wholeWord, fields: .body), matched: nil),
        RuleCase(rule: .keyword("subscribe", match: .substring, fields: .body), matched: "\"subscribe\" in body"),
        RuleCase(rule: .keyword("unsubscribe", match: .wholeWord, fields: .body), matched: "\"unsubscribe\" in body"),
        RuleCase(rule: .keyword("pay", match: .wholeWord, fields: .subject), matched: nil),
        RuleCase(rule: .keyword("GRÜSSE", match: .wholeWord, fields: .body), matched: nil),
        RuleCase(rule: .keyword("GRÜẞE", match: .wholeWord, fields: .body), matched: "\"GRÜẞE\" in body"),
        RuleCase(rule: .keyword("köln", match: .wholeWord, fields: .body), matched: "\"köln\" in body"),
        RuleCase(rule: .keyword("kö", match: .wholeWord, fields: .body), matched: nil),
        RuleCase(rule: .keyword("", match: .substring, fields: .subjectAndBody), matched: nil),
    ]

    @Test(arguments: cases)
    func ignoreRule(_ testCase: RuleCase) {
        let filter = MailFilter(ignore: [testCase.rule])
        let decision = filter.evaluate(Self.message, envelope: MailEnvelope(sender: testCase.sender))
        #expect(decision.matched == testCase.matched)
        if testCase.matched != nil {
            #expect(decision.outcome == .ignored)
            #expect(decision.list == .ignore)
            #expect(decision.rule == testCase.rule)
            #expect(decision.reason.hasPrefix("ignore list: \(testCase.rule.description) matched"))
        } else {
            #expect(decision.outcome == .accepted)
            #expect(decision.rule == nil)
        }
    }

    @Test(arguments: cases)
    func allowRule(_ testCase: RuleCase) {
        let filter = MailFilter(allow: [testCase.rule])
        let decision = filter.evaluate(Self.message, envelope: MailEnvelope(sender: testCase.sender))
        #expect(decision.outcome == (testCase.matched != nil ? .accepted : .ignored))
        #expect(decision.list == .allow)
        #expect(decision.matched == testCase.matched)
    }

    @Test func ignoreWinsOverAllow() {
        let filter = MailFilter(
            allow: [.domain("customer.example", includeSubdomains: true)],
            ignore: [.keyword("overdue", match: .wholeWord, fields: .subject)])
        let decision = filter.evaluate(Self.message, envelope: MailEnvelope(sender: nil))
        #expect(decision.outcome == .ignored)
        #expect(decision.rule == .keyword("overdue", match: .wholeWord, fields: .subject))
    }

    @Test func firstMatchingRuleIsReported() {
        let filter = MailFilter(allow: [
            .address("nobody@x.example"), .domain("customer.example", includeSubdomains: true),
            .keyword("invoice", match: .substring, fields: .subject),
        ])
        let decision = filter.evaluate(Self.message, envelope: MailEnvelope(sender: nil))
        #expect(decision.rule == .domain("customer.example", includeSubdomains: true))
        #expect(
            decision.reason
                == "allow list: domain customer.example (and subdomains) matched alice@sales.customer.example")
    }

    @Test func noFilters() {
        let decision = MailFilter().evaluate(Self.message, envelope: MailEnvelope(sender: nil))
        #expect(
            decision
                == FilterDecision(
                    outcome: .accepted, list: nil, rule: nil, matched: nil, reason: "no filters configured"))
    }

    @Test func notOnAllowList() {
        let decision = MailFilter(allow: [.address("a@b.example"), .address("c@d.example")]).evaluate(
            Self.message, envelope: MailEnvelope(sender: nil))
        #expect(decision.outcome == .ignored)
        #expect(decision.reason == "not on the allow list (2 rules, none matched)")
    }

    @Test(arguments: [
        ("abc", "abc", true, true),
        ("xabcx", "abc", false, true),
        ("x abc_", "abc", false, true),
        ("(abc)", "abc", true, true),
        ("ab", "abc", false, false),
        ("aab", "ab", false, true),
        ("été à", "à", true, true),
        ("voilà", "à", false, true),
    ])
    func keywordSearch(_ haystack: String, _ needle: String, _ wholeWord: Bool, _ substring: Bool) {
        #expect(KeywordSearch.contains(Array(haystack.utf8), Array(needle.utf8), wholeWord: true) == wholeWord)
        #expect(KeywordSearch.contains(Array(haystack.utf8), Array(needle.utf8), wholeWord: false) == substring)
    }
}
