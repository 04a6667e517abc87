import MailParser
import Testing

@testable import MailClassification

@Suite("Bounce and report details")
struct BounceReportTests {
    func report(_ raw: String, sender: String? = "") throws -> BounceReport {
        let classification = MailClassifier(helpdeskConfiguration).classify(
            Fixture.parsed(raw), envelope: MailEnvelope(sender: sender))
        guard case .bounce(let report) = classification.verdict else {
            Issue.record("not a bounce: \(classification.decisions)")
            throw BounceTestFailure.notABounce
        }
        #expect(classification.bounce == report)
        return report
    }

    enum BounceTestFailure: Error { case notABounce }

    struct Expected: Sendable, CustomTestStringConvertible {
        var name: String
        var raw: String
        var kind: BounceReport.Kind
        var failed: [String]
        var status: String?
        var diagnosticContains: String?
        var originalMessageID: String?
        var source: BounceReport.OriginalMessageSource?
        var testDescription: String { name }
    }

    static let expectations: [Expected] = [
        Expected(
            name: "Postfix", raw: Fixture.postfixBounce, kind: .deliveryStatus, failed: ["nobody@customer.example"],
            status: "5.1.1", diagnosticContains: "550 5.1.1 <nobody@customer.example>: Recipient address rejected",
            originalMessageID: Fixture.ourMessageID, source: .attachedMessage),
        Expected(
            name: "Postfix headers only", raw: Fixture.postfixHeadersOnlyBounce, kind: .deliveryStatus,
            failed: ["gone@customer.example"], status: "5.2.1", diagnosticContains: "mailbox disabled",
            originalMessageID: "T12.A35.beef@helpdesk.example", source: .attachedHeaders),
        Expected(
            name: "Exim", raw: Fixture.eximBounce, kind: .nonStandardBounce, failed: ["nobody@example.org"],
            status: "5.1.1", diagnosticContains: "SMTP error from remote mail server after RCPT TO",
            originalMessageID: "T7.A20.c0de@helpdesk.example", source: .body),
        Expected(
            name: "Exchange", raw: Fixture.exchangeBounce, kind: .deliveryStatus, failed: ["ghost@contoso.com"],
            status: "5.1.10", diagnosticContains: "RESOLVER.ADR.RecipientNotFound",
            originalMessageID: "T9.A50.abcd@helpdesk.example", source: .attachedMessage),
        Expected(
            name: "Gmail", raw: Fixture.gmailBounce, kind: .deliveryStatus, failed: ["no.such.user@gmail.com"],
            status: "5.1.1", diagnosticContains: "550 5.1.1 unnecessary spaces",
            originalMessageID: "T5.A11.9999@helpdesk.example", source: .reportField),
        Expected(
            name: "qmail", raw: Fixture.qmailBounce, kind: .nonStandardBounce, failed: ["nobody@qmail.example.net"],
            status: "5.1.1", diagnosticContains: "no mailbox here by that name",
            originalMessageID: "T8.A9.7777@helpdesk.example", source: .body),
        Expected(
            name: "postmaster", raw: Fixture.postmasterBounce, kind: .nonStandardBounce, failed: [], status: nil,
            diagnosticContains: nil, originalMessageID: "T4.A4.4444@helpdesk.example", source: .inReplyTo),
    ]

    @Test(arguments: expectations)
    func failedRecipientAndOriginal(_ expected: Expected) throws {
        let report = try report(expected.raw)
        #expect(report.kind == expected.kind)
        #expect(report.failedRecipients.map(\.finalRecipient) == expected.failed)
        #expect(report.failedRecipients.first?.status == expected.status)
        if let fragment = expected.diagnosticContains {
            let diagnostic = try #require(report.failedRecipients.first?.diagnostic)
            #expect(diagnostic.contains(fragment), "\(diagnostic)")
        }
        #expect(report.originalMessageID == expected.originalMessageID)
        #expect(report.originalMessageIDSource == expected.source)
        #expect(!report.isDelayWarning)
        #expect(report.summary.contains(expected.originalMessageID ?? "original message not found"))
    }

    @Test func postfixReportDetails() throws {
        let report = try report(Fixture.postfixBounce)
        #expect(report.reportingMTA == "mail.helpdesk.example")
        let recipient = try #require(report.recipients.first)
        #expect(recipient.originalRecipient == "nobody@customer.example")
        #expect(recipient.action == .failed)
        #expect(recipient.remoteMTA == "mx.customer.example")
        // The folded Diagnostic-Code is unfolded into one line.
        #expect(recipient.diagnostic?.contains("address rejected: User unknown") == true)
    }

    @Test func mixedFailedAndDelayedRecipients() throws {
        let report = try report(Fixture.postfixHeadersOnlyBounce)
        #expect(report.recipients.map(\.action) == [.failed, .delayed])
        #expect(report.recipients.map(\.status) == ["5.2.1", "4.4.1"])
        #expect(report.recipients[1].diagnostic?.hasPrefix("connect to mx.other.example") == true)
        #expect(!report.isDelayWarning)
    }

    @Test func delayWarning() throws {
        let report = try report(Fixture.gmailDelay)
        #expect(report.isDelayWarning)
        #expect(report.failedRecipients.isEmpty)
        #expect(report.recipients.first?.status == "4.4.1")
        #expect(report.originalMessageID == "T6.A12.aaaa@helpdesk.example")
    }

    @Test func feedbackReport() throws {
        let report = try report(Fixture.arfReport, sender: "abusedesk@example.com")
        #expect(report.kind == .feedbackReport)
        let feedback = try #require(report.feedback)
        #expect(feedback.feedbackType == "abuse")
        #expect(feedback.userAgent == "SomeGenerator/1.0")
        #expect(feedback.version == "1")
        #expect(feedback.originalMailFrom == "support@helpdesk.example")
        #expect(feedback.originalRecipients == ["user@example.com"])
        #expect(feedback.sourceIP == "192.0.2.1")
        #expect(feedback.reportingMTA == "mail.example.com")
        #expect(feedback.reportedDomains == ["helpdesk.example"])
        #expect(feedback.arrivalDate == "Thu, 8 Mar 2026 14:00:00 EDT")
        #expect(report.originalMessageID == "T3.A8.1234@helpdesk.example")
        #expect(report.originalMessageIDSource == .attachedMessage)
        #expect(report.failedRecipients.isEmpty)
    }

    @Test func readReceipt() throws {
        let report = try report(Fixture.readReceipt, sender: "alice@customer.example")
        #expect(report.kind == .dispositionNotification)
        let disposition = try #require(report.disposition)
        #expect(disposition.disposition == "manual-action/MDN-sent-manually; displayed")
        #expect(disposition.dispositionType == "displayed")
        #expect(disposition.finalRecipient == "alice@customer.example")
        #expect(disposition.originalRecipient == "alice@customer.example")
        #expect(disposition.reportingUA == "customer.example; Thunderbird 128.0")
        #expect(report.originalMessageID == Fixture.ourMessageID)
        #expect(report.originalMessageIDSource == .reportField)
        #expect(report.failedRecipients.isEmpty)
    }

    @Test func reportPartWithWrongTopLevelType() throws {
        // Some gateways wrap the DSN in multipart/mixed: the delivery-status part still identifies it.
        let raw = Fixture.postfixHeadersOnlyBounce.replacingOccurrences(
            of: "multipart/report; report-type=delivery-status;", with: "multipart/mixed;")
        let report = try report(raw)
        #expect(report.rule == "delivery-status-part")
        #expect(report.failedRecipients.count == 1)
    }

    @Test func dsnWithoutStatusPartFallsBackToHeaders() throws {
        let raw = """
            From: Mail Delivery System <MAILER-DAEMON@mx.example.org>
            To: support@helpdesk.example
            Subject: Undelivered Mail Returned to Sender
            X-Failed-Recipients: a@example.org, <b@example.org>
            Content-Type: multipart/report; report-type=delivery-status; boundary="E"

            --E
            Content-Type: text/plain

            Could not deliver.

            --E--
            """
        let report = try report(raw)
        #expect(report.rule == "dsn")
        #expect(report.failedRecipients.map(\.finalRecipient) == ["a@example.org", "b@example.org"])
        #expect(report.originalMessageID == nil)
        #expect(report.summary.hasSuffix("original message not found"))
    }

    struct NonStandardCase: Sendable, CustomTestStringConvertible {
        var name: String
        var from: String
        var subject: String
        var sender: String?
        var extraHeader: String = ""
        var rule: String?
        var testDescription: String { name }
    }

    static let nonStandardCases: [NonStandardCase] = [
        NonStandardCase(
            name: "Exchange NDR header", from: "someone@contoso.com", subject: "Hello", sender: "x@contoso.com",
            extraHeader: "X-MS-Exchange-Message-Is-Ndr: true\n", rule: "exchange-ndr-header"),
        NonStandardCase(
            name: "MAILER-DAEMON, any subject", from: "MAILER-DAEMON@mx.example.org", subject: "Warning",
            sender: "x@y.example", rule: "mailer-daemon-sender"),
        NonStandardCase(
            name: "Mail Delivery display name", from: "\"Mail Delivery Subsystem\" <mds@mx.example.org>",
            subject: "Delivery Status Notification (Failure)", sender: "x@y.example", rule: "bounce-subject"),
        NonStandardCase(
            name: "German Exchange subject, null sender", from: "system@firma.example",
            subject: "Unzustellbar: Rechnung", sender: "", rule: "bounce-subject"),
        NonStandardCase(
            name: "subject case-insensitive, leading blanks", from: "postmaster@old.example",
            subject: "   MAIL DELIVERY FAILED: returning message", sender: "pm@old.example", rule: "bounce-subject"),
        NonStandardCase(
            name: "postmaster, null sender, other subject", from: "postmaster@old.example", subject: "Notice",
            sender: "", rule: "postmaster-sender"),
        NonStandardCase(
            name: "postmaster writing as a person", from: "postmaster@old.example", subject: "Notice",
            sender: "postmaster@old.example", rule: nil),
        NonStandardCase(
            name: "bounce subject from a person", from: "grace@customer.example",
            subject: "Mail delivery failed for my invoice", sender: "grace@customer.example", rule: nil),
        NonStandardCase(
            name: "bounce subject, sender unknown, no Return-Path", from: "grace@customer.example",
            subject: "Undeliverable: x", sender: nil, rule: nil),
        NonStandardCase(
            name: "empty Exchange NDR header is still a flag", from: "someone@contoso.com", subject: "Hi",
            sender: "x@contoso.com", extraHeader: "X-MS-Exchange-Message-Is-Ndr:\n", rule: "exchange-ndr-header"),
    ]

    @Test(arguments: nonStandardCases)
    func nonStandardRules(_ testCase: NonStandardCase) {
        let raw = """
            From: \(testCase.from)
            To: support@helpdesk.example
            Subject: \(testCase.subject)
            \(testCase.extraHeader)Content-Type: text/plain

            Body.
            """
        let classification = MailClassifier(helpdeskConfiguration).classify(
            Fixture.parsed(raw), envelope: MailEnvelope(sender: testCase.sender))
        #expect(classification.bounce?.rule == testCase.rule, "\(classification.decisions)")
        #expect((classification.verdict.kind == .bounce) == (testCase.rule != nil))
    }

    @Test func customSubjectPrefixes() {
        var configuration = helpdeskConfiguration
        configuration.bounces = BounceDetectionConfiguration(subjectPrefixes: ["Zustellung fehlgeschlagen"])
        let raw = """
            From: system@firma.example
            Subject: Zustellung fehlgeschlagen: Rechnung
            Content-Type: text/plain

            x
            """
        let classifier = MailClassifier(configuration)
        #expect(classifier.classify(Fixture.parsed(raw), envelope: MailEnvelope(sender: "")).verdict.kind == .bounce)
        let postfix = raw.replacingOccurrences(
            of: "Zustellung fehlgeschlagen: Rechnung", with: "Undelivered Mail Returned to Sender")
        #expect(
            classifier.classify(Fixture.parsed(postfix), envelope: MailEnvelope(sender: "")).verdict.kind != .bounce)
    }
}

@Suite("Report field parsing")
struct ReportFieldTests {
    @Test func blocksUnfoldAndSplit() throws {
        let text =
            "Reporting-MTA: dns; a.example\r\n\r\nFinal-Recipient: rfc822; x@y\r\nDiagnostic-Code: smtp; 550\r\n  more\r\n\r\n\r\nAction: failed\n"
        let blocks = ReportFieldBlock.blocks(Array(text.utf8))
        try #require(blocks.count == 3)
        #expect(blocks[0].value("reporting-mta") == "dns; a.example")
        #expect(blocks[1].value("diagnostic-code") == "smtp; 550 more")
        #expect(blocks[2].value("action") == "failed")
    }

    @Test(arguments: [
        ("rfc822; user@example.com", "user@example.com"),
        ("rfc822;<user@example.com>", "user@example.com"),
        ("smtp; 550 5.1.1 no; really", "550 5.1.1 no; really"),
        ("user@example.com", "user@example.com"),
        ("x-local; weird; thing", "weird; thing"),
    ])
    func untyped(_ input: String, _ expected: String) {
        #expect(ReportFieldBlock.untyped(input) == expected)
    }

    @Test(
        arguments: [
            ("550 5.1.1 <a@b>: unknown", "5.1.1"),
            ("550-5.7.26 unauthenticated", "5.7.26"),
            ("421 4.4.1 try later.", "4.4.1"),
            ("(#5.1.1)", "5.1.1"),
            ("host 192.0.2.1 said 550 no", nil),
            ("version 5.1.1.2 is not a code", nil),
            ("3.1.1 is not a class", nil),
            ("", nil),
        ] as [(String, String?)])
    func enhancedStatusCode(_ input: String, _ expected: String?) {
        #expect(EnhancedStatusCode.first(in: input) == expected)
    }

    @Test func statusComment() {
        #expect(ReportFieldBlock.statusCode("5.0.0 (permanent failure)") == "5.0.0")
    }
}
