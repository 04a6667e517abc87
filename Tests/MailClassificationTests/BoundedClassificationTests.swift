import MailParser
import Testing

@testable import MailClassification

/// Classification work linear in the message, with capped outputs (issue 11). Time bounds are generous for
/// debug builds on a shared machine and far below the defects' cost.
@Suite("Bounded classification")
struct BoundedClassificationTests {
    func classified(_ raw: String) -> (Classification, Duration) {
        let parsed = MessageParser.parse(Array(raw.utf8))
        let clock = ContinuousClock()
        var classification: Classification?
        let elapsed = clock.measure {
            classification = MailClassifier(helpdeskConfiguration).classify(parsed, envelope: MailEnvelope(sender: ""))
        }
        return (classification!, elapsed)
    }

    /// 5,000 addresses in `X-Failed-Recipients` over a 1.4 MB body: the body was split and scanned once per
    /// address (19.5 s of CPU in a release build).
    @Test func manyFailedRecipientsScanTheBodyOnce() throws {
        let addresses = (0..<5000).map { "user\($0)@example.org" }
        var body = "This message was created automatically by mail delivery software.\r\n\r\n"
        body += "  user1@example.org\r\n    host mx.example.org said: 550 5.1.1 no such user\r\n\r\n"
        body += "  user4999@example.org\r\n    host mx.example.org said: 552 5.2.2 mailbox full\r\n\r\n"
        body += String(repeating: "filler line of a quoted original message, not an address\r\n", count: 24_000)
        let raw =
            "From: Mail Delivery System <mailer-daemon@mx.example.org>\r\nTo: support@helpdesk.example\r\n"
            + "Subject: Mail delivery failed: returning message to sender\r\n"
            + "X-Failed-Recipients: \(addresses.joined(separator: ", "))\r\n\r\n" + body
        #expect(raw.utf8.count > 1_400_000)
        let (classification, elapsed) = classified(raw)
        #expect(elapsed < .seconds(5), "classification took \(elapsed)")
        guard case .bounce(let report) = classification.verdict else {
            Issue.record("not a bounce: \(classification.decisions)")
            return
        }
        #expect(report.rule == "x-failed-recipients")
        #expect(report.recipients.count == BounceDetection.maxFailedRecipients)
        #expect(report.recipients[1].diagnostic == "host mx.example.org said: 550 5.1.1 no such user")
        #expect(report.recipients[1].status == "5.1.1")
        #expect(report.recipients[0].diagnostic == nil)
    }

    /// The one-scan lookup finds what the per-address scan found: the first line naming the address that
    /// has indented text under it, bare or as `<address>:`, in any letter case.
    @Test func failedRecipientDiagnosticsMatchThePerAddressScan() throws {
        let body = [
            "  <B@example.org>:", "", "  A@example.org", "", "  a@example.org", "    first reply for a",
            "    continued", "  b@example.org", "    later reply for b", "  a@example.org", "    second reply for a",
        ]
        let raw =
            "From: MAILER-DAEMON@mx.example.org\r\nSubject: Mail delivery failed\r\n"
            + "X-Failed-Recipients: a@example.org, b@example.org, c@example.org, A@example.org\r\n\r\n"
            + body.joined(separator: "\r\n")
        let (classification, _) = classified(raw)
        guard case .bounce(let report) = classification.verdict else {
            Issue.record("not a bounce")
            return
        }
        #expect(report.recipients.map(\.finalRecipient) == ["a@example.org", "b@example.org", "c@example.org"])
        #expect(report.recipients.map(\.diagnostic) == ["first reply for a continued", "later reply for b", nil])
    }
}
