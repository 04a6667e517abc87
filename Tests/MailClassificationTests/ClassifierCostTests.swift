import MailParser
import Testing

@testable import MailClassification

/// Classification runs inline for every message (the daemon's budget is ≥ 5,000 msg/s on 2 cores): a
/// guard against accidentally quadratic or allocation-heavy rules. The bound is generous for debug builds.
@Suite("Classifier cost")
struct ClassifierCostTests {
    @Test func manyMessagesStayCheap() {
        var configuration = helpdeskConfiguration
        configuration.filter = MailFilter(
            allow: [.domain("customer.example", includeSubdomains: true)],
            ignore: [
                .address("spam@x.example"), .keyword("lottery", match: .wholeWord, fields: .subjectAndBody),
                .keyword("viagra", match: .substring, fields: .subjectAndBody),
            ])
        configuration.attachments = AttachmentPolicy(
            ignoredFileNames: ["logo.png", "image00*.png"], maximumSize: 1 << 20)
        let classifier = MailClassifier(configuration)
        let messages = [
            Fixture.normalReply, Fixture.postfixBounce, Fixture.exchangeOutOfOffice, Fixture.withAttachments,
        ]
        .map(Fixture.parsed)
        let envelope = MailEnvelope(sender: "alice@customer.example")
        let clock = ContinuousClock()
        var accepted = 0
        let elapsed = clock.measure {
            for round in 0..<2_000 {
                if case .accepted = classifier.classify(messages[round % messages.count], envelope: envelope).verdict {
                    accepted += 1
                }
            }
        }
        #expect(accepted == 1_000)
        #expect(elapsed < .seconds(5), "2,000 classifications took \(elapsed)")
    }
}
