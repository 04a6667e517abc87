import Foundation
import MailParser
import Testing

@testable import MailClassification

/// The configuration of the helpdesk the fixtures are written for.
let helpdeskConfiguration = ClassifierConfiguration(
    ownMail: OwnMailConfiguration(
        instanceName: "helpdesk-1", messageIDDomains: ["helpdesk.example"],
        ownAddresses: ["support@helpdesk.example", "billing@helpdesk.example"]))

/// The verdict without its payload, for tables.
enum VerdictKind: String, Sendable {
    case bounce, ownMail, loop, ignored, automated, accepted
}

extension ClassificationVerdict {
    var kind: VerdictKind {
        switch self {
        case .bounce: .bounce
        case .ownMail: .ownMail
        case .loop: .loop
        case .ignored: .ignored
        case .automated: .automated
        case .accepted: .accepted
        }
    }
}

struct FixtureCase: Sendable, CustomTestStringConvertible {
    var name: String
    var raw: String
    /// nil: the envelope is unknown (a polled mailbox).
    var sender: String?
    var verdict: VerdictKind
    /// The deciding rule: the bounce rule, the own-mail rule, or the first automation rule.
    var rule: String?
    var testDescription: String { name }
}

@Suite("Classification of real-world fixtures")
struct ClassificationTableTests {
    static let cases: [FixtureCase] = [
        FixtureCase(name: "Postfix DSN", raw: Fixture.postfixBounce, sender: "", verdict: .bounce, rule: "dsn"),
        FixtureCase(
            name: "Postfix DSN, headers only", raw: Fixture.postfixHeadersOnlyBounce, sender: "", verdict: .bounce,
            rule: "dsn"),
        FixtureCase(
            name: "Exim text bounce", raw: Fixture.eximBounce, sender: "", verdict: .bounce,
            rule: "x-failed-recipients"),
        FixtureCase(name: "Exchange NDR", raw: Fixture.exchangeBounce, sender: "", verdict: .bounce, rule: "dsn"),
        FixtureCase(name: "Gmail bounce", raw: Fixture.gmailBounce, sender: "", verdict: .bounce, rule: "dsn"),
        FixtureCase(name: "Gmail delay", raw: Fixture.gmailDelay, sender: "", verdict: .bounce, rule: "dsn"),
        FixtureCase(
            name: "ARF abuse report", raw: Fixture.arfReport, sender: "abusedesk@example.com", verdict: .bounce,
            rule: "arf"),
        FixtureCase(
            name: "read receipt", raw: Fixture.readReceipt, sender: "alice@customer.example", verdict: .bounce,
            rule: "mdn"),
        FixtureCase(
            name: "qmail failure notice", raw: Fixture.qmailBounce, sender: "", verdict: .bounce,
            rule: "mailer-daemon-sender"),
        FixtureCase(
            name: "postmaster with bounce subject", raw: Fixture.postmasterBounce, sender: "", verdict: .bounce,
            rule: "bounce-subject"),
        FixtureCase(
            name: "postmaster bounce, polled (Return-Path <>)", raw: Fixture.postmasterBounce, sender: nil,
            verdict: .bounce, rule: "bounce-subject"),
        FixtureCase(
            name: "Exchange out-of-office", raw: Fixture.exchangeOutOfOffice, sender: "bob@contoso.com",
            verdict: .automated, rule: "auto-submitted"),
        FixtureCase(
            name: "Gmail vacation", raw: Fixture.gmailVacation, sender: "carol@gmail.com", verdict: .automated,
            rule: "auto-submitted"),
        FixtureCase(
            name: "mailing list", raw: Fixture.mailingList, sender: "users-bounces@lists.example.org",
            verdict: .automated, rule: "precedence"),
        FixtureCase(
            name: "newsletter", raw: Fixture.newsletter, sender: "bounce-123@shop.example", verdict: .automated,
            rule: "precedence"),
        FixtureCase(
            name: "Exchange inbox rule", raw: Fixture.exchangeInboxRule, sender: "erin@contoso.com",
            verdict: .automated, rule: "exchange-inbox-rules-loop"),
        FixtureCase(
            name: "TLS report", raw: Fixture.tlsReport, sender: "noreply-smtp-tls-reporting@google.com",
            verdict: .automated, rule: "multipart-report"),
        FixtureCase(
            name: "normal Outlook reply", raw: Fixture.normalReply, sender: "alice@customer.example",
            verdict: .accepted, rule: nil),
        FixtureCase(
            name: "normal reply, polled", raw: Fixture.normalReply, sender: nil, verdict: .accepted, rule: nil),
        FixtureCase(
            name: "Auto-Submitted: no", raw: Fixture.humanAutoSubmittedNo, sender: "frank@customer.example",
            verdict: .accepted, rule: nil),
        FixtureCase(
            name: "person writing 'Undeliverable:'", raw: Fixture.humanBounceLookalike,
            sender: "grace@customer.example", verdict: .accepted, rule: nil),
        FixtureCase(
            name: "person forwarding a bounce", raw: Fixture.forwardedBounce, sender: "heidi@customer.example",
            verdict: .accepted, rule: nil),
        FixtureCase(
            name: "foreign loop header, look-alike Message-ID", raw: Fixture.foreignLoopHeader,
            sender: "ivan@customer.example", verdict: .accepted, rule: nil),
        FixtureCase(
            name: "a person's mail from the null sender", raw: Fixture.humanAutoSubmittedNo, sender: "",
            verdict: .automated, rule: "null-return-path"),
        FixtureCase(
            name: "our notification coming back", raw: Fixture.ownNotification, sender: "support@helpdesk.example",
            verdict: .ownMail, rule: "own-loop-header"),
        FixtureCase(
            name: "our Message-ID domain", raw: Fixture.ownMessageIDOnly, sender: "someone@customer.example",
            verdict: .ownMail, rule: "own-message-id"),
        FixtureCase(
            name: "X-Loop naming us", raw: Fixture.xLoopOurs, sender: "responder@customer.example", verdict: .loop,
            rule: "x-loop"),
        FixtureCase(
            name: "queue to queue", raw: Fixture.queueToQueue, sender: "billing@helpdesk.example", verdict: .loop,
            rule: "own-sender"),
    ]

    @Test(arguments: cases)
    func verdict(_ fixture: FixtureCase) throws {
        let message = Fixture.parsed(fixture.raw)
        let classification = MailClassifier(helpdeskConfiguration).classify(
            message, envelope: MailEnvelope(sender: fixture.sender, recipients: ["support@helpdesk.example"]))
        #expect(classification.verdict.kind == fixture.verdict, "\(classification.decisions)")
        #expect(classification.mayCreateTicket == (fixture.verdict == .accepted))
        let deciding = classification.decisions.first { $0.rule != "none" }
        #expect(deciding?.rule == fixture.rule, "\(classification.decisions)")
        // Every stage that ran left a decision; bounces stop at stage 1, own mail at stage 2.
        let stages = Set(classification.decisions.map(\.stage))
        switch fixture.verdict {
        case .bounce: #expect(stages == [.bounce])
        case .ownMail, .loop: #expect(stages == [.bounce, .ownMail])
        default: #expect(stages == [.bounce, .ownMail, .automated, .filter])
        }
    }

    @Test func bouncesComeBeforeOwnMail() throws {
        // The Postfix bounce is also addressed to our own address and contains our loop header in the
        // attached original: it must still be handled as a bounce, not dropped as our own mail.
        let configuration = ClassifierConfiguration(
            ownMail: OwnMailConfiguration(
                instanceName: "helpdesk-1", messageIDDomains: ["mail.helpdesk.example"],
                ownAddresses: ["mailer-daemon@mail.helpdesk.example"]))
        let classification = MailClassifier(configuration).classify(
            Fixture.parsed(Fixture.postfixBounce), envelope: MailEnvelope(sender: ""))
        #expect(classification.verdict.kind == .bounce)
        #expect(classification.bounce?.originalMessageID == Fixture.ourMessageID)
    }

    @Test func automatedMailIsStillFiltered() {
        var configuration = helpdeskConfiguration
        configuration.filter = MailFilter(ignore: [.domain("shop.example", includeSubdomains: false)])
        let classification = MailClassifier(configuration).classify(
            Fixture.parsed(Fixture.newsletter), envelope: MailEnvelope(sender: "news@shop.example"))
        #expect(classification.verdict.kind == .ignored)
        #expect(classification.automated?.kind == .list)
        #expect(classification.filter?.matched == "news@shop.example")
        #expect(classification.decisions.contains { $0.stage == .filter && $0.rule == "ignore-list" })
    }

    @Test func filterIgnoresOrdinaryMail() {
        var configuration = helpdeskConfiguration
        configuration.filter = MailFilter(allow: [.domain("partner.example", includeSubdomains: true)])
        let classification = MailClassifier(configuration).classify(
            Fixture.parsed(Fixture.normalReply), envelope: MailEnvelope(sender: "alice@customer.example"))
        guard case .ignored(let decision) = classification.verdict else {
            Issue.record("expected ignored, got \(classification.verdict)")
            return
        }
        #expect(decision.list == .allow)
        #expect(decision.rule == nil)
        #expect(classification.decisions.last?.rule == "not-on-allow-list")
    }

    @Test func attachmentDecisionsAreRecorded() throws {
        var configuration = helpdeskConfiguration
        configuration.attachments = AttachmentPolicy(
            ignoredFileNames: ["logo.png", "image00*.png", "*.p7s"], maximumSize: 40)
        let classification = MailClassifier(configuration).classify(
            Fixture.parsed(Fixture.withAttachments), envelope: MailEnvelope(sender: "alice@customer.example"))
        #expect(classification.verdict.kind == .accepted)
        #expect(classification.attachments.map(\.action) == [.ignore, .ignore, .ignore, .strip])
        #expect(classification.attachments.map(\.filename) == ["Logo.PNG", "image001.png", "smime.p7s", "report.pdf"])
        let recorded = classification.decisions.filter { $0.stage == .attachments }
        #expect(
            recorded.map(\.rule) == ["ignored-file-name", "ignored-file-name", "ignored-file-name", "maximum-size"])
        #expect(recorded.last?.reason.contains("report.pdf") == true)
    }

    @Test func defaultConfigurationAcceptsOrdinaryMail() {
        let classification = MailClassifier(ClassifierConfiguration()).classify(
            Fixture.parsed(Fixture.normalReply), envelope: MailEnvelope(sender: "alice@customer.example"))
        #expect(classification.verdict == .accepted)
        #expect(classification.filter?.reason == "no filters configured")
        #expect(ClassifierConfiguration().automatedBudget.messagesPerDay == 40)
    }
}

@Suite("Classification record")
struct ClassificationRecordTests {
    @Test(arguments: [Fixture.postfixBounce, Fixture.arfReport, Fixture.gmailVacation, Fixture.withAttachments])
    func roundTripsThroughJSON(_ raw: String) throws {
        let classification = MailClassifier(helpdeskConfiguration).classify(
            Fixture.parsed(raw), envelope: MailEnvelope(sender: ""))
        let data = try JSONEncoder().encode(classification)
        #expect(try JSONDecoder().decode(Classification.self, from: data) == classification)
    }
}
