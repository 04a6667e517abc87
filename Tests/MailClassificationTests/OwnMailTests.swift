import MailParser
import Testing

@testable import MailClassification

@Suite("Own mail and loops")
struct OwnMailTests {
    struct OwnCase: Sendable, CustomTestStringConvertible {
        var name: String
        var headers: String
        var sender: String? = "someone@customer.example"
        var verdict: VerdictKind
        var rule: String?
        var testDescription: String { name }
    }

    static let cases: [OwnCase] = [
        OwnCase(
            name: "our loop header", headers: "X-Postdesk-Loop: helpdesk-1", verdict: .ownMail, rule: "own-loop-header"),
        OwnCase(
            name: "our loop header, other case and blanks", headers: "x-postdesk-loop:   HELPDESK-1  ",
            verdict: .ownMail,
            rule: "own-loop-header"),
        OwnCase(
            name: "our loop header among others", headers: "X-Postdesk-Loop: other\nX-Postdesk-Loop: helpdesk-1",
            verdict: .ownMail, rule: "own-loop-header"),
        OwnCase(name: "another instance's loop header", headers: "X-Postdesk-Loop: helpdesk-2", verdict: .accepted),
        OwnCase(
            name: "our Message-ID domain", headers: "Message-ID: <T1.A2.sig@helpdesk.example>", verdict: .ownMail,
            rule: "own-message-id"),
        OwnCase(
            name: "a subdomain is not ours", headers: "Message-ID: <x@mail.helpdesk.example>", verdict: .accepted),
        OwnCase(
            name: "look-alike domain", headers: "Message-ID: <x@helpdesk.example.evil.test>", verdict: .accepted),
        OwnCase(name: "X-Loop naming us", headers: "X-Loop: support@helpdesk.example", verdict: .loop, rule: "x-loop"),
        OwnCase(
            name: "X-Loop list naming us", headers: "X-Loop: list@x.example, <Billing+a@HelpDesk.example>",
            verdict: .loop, rule: "x-loop"),
        OwnCase(name: "X-Loop naming someone else", headers: "X-Loop: list@x.example", verdict: .accepted),
        OwnCase(
            name: "From our address", headers: "From: Support <Support@helpdesk.example>", verdict: .loop,
            rule: "own-sender"),
        OwnCase(
            name: "envelope sender is ours", headers: "", sender: "support+bounce@helpdesk.example", verdict: .loop,
            rule: "own-sender"),
        OwnCase(name: "nothing of ours", headers: "", verdict: .accepted),
    ]

    @Test(arguments: cases)
    func rules(_ testCase: OwnCase) {
        var headers = testCase.headers
        if !headers.contains("From:") { headers += (headers.isEmpty ? "" : "\n") + "From: someone@customer.example" }
        let raw = headers + "\nTo: support@helpdesk.example\nSubject: Hi\n\nBody.\n"
        let classification = MailClassifier(helpdeskConfiguration).classify(
            Fixture.parsed(raw), envelope: MailEnvelope(sender: testCase.sender))
        #expect(classification.verdict.kind == testCase.verdict, "\(classification.decisions)")
        let ownDecision = classification.decisions.first { $0.stage == .ownMail }
        #expect(ownDecision?.rule == (testCase.rule ?? "none"))
    }

    @Test func emptyConfigurationDetectsNothing() {
        let raw = "From: support@helpdesk.example\nX-Postdesk-Loop: \nMessage-ID: <a@helpdesk.example>\n\nx\n"
        let classification = MailClassifier(ClassifierConfiguration()).classify(
            Fixture.parsed(raw), envelope: MailEnvelope(sender: "support@helpdesk.example"))
        #expect(classification.verdict == .accepted)
    }

    @Test func reasonsNameTheEvidence() {
        let raw = "From: a@b.example\nMessage-ID: <T1.A2.sig@helpdesk.example>\n\nx\n"
        let classification = MailClassifier(helpdeskConfiguration).classify(
            Fixture.parsed(raw), envelope: MailEnvelope(sender: "a@b.example"))
        #expect(
            classification.verdict
                == .ownMail(reason: "Message-ID <T1.A2.sig@helpdesk.example> is in our domain helpdesk.example"))
    }
}
