import Foundation
import MailClassification
import MailParser
import Testing
import TicketPipeline

/// Issue 11: one accented display name (`"Jürgen Müller"`) spun the intake thread forever in bounce
/// detection. Each variant goes through the classifier alone and through `TicketIntake` into a real SQLite
/// store, each on a thread of its own under a time limit, so a hang fails the test instead of stalling the run.
@Suite("Non-ASCII names through intake")
struct NonASCIINameIntakeTests {
    static let limit = 10.0

    struct Variant: Sendable, CustomTestStringConvertible {
        var name: String
        var raw: [UInt8]
        var expectedName: String
        var testDescription: String { name }

        init(_ name: String, from: [UInt8], expectedName: String = "Jürgen Müller", subject: String = "hello") {
            self.name = name
            self.expectedName = expectedName
            raw =
                Array("From: ".utf8) + from
                + Array(
                    "\r\nTo: support@localhost\r\nSubject: \(subject)\r\nMessage-ID: <\(UUID().uuidString)@example.test>\r\n\r\nbody\r\n"
                        .utf8)
        }
    }

    static let variants: [Variant] = [
        Variant("raw UTF-8 (the issue's message)", from: Array("\"Jürgen Müller\" <m@example.test>".utf8)),
        Variant("RFC 2047 Q", from: Array("=?UTF-8?Q?J=C3=BCrgen_M=C3=BCller?= <m@example.test>".utf8)),
        Variant("RFC 2047 B", from: Array("=?utf-8?B?SsO8cmdlbiBNw7xsbGVy?= <m@example.test>".utf8)),
        Variant("RFC 2047 Q in ISO-8859-1", from: Array("=?ISO-8859-1?Q?J=FCrgen_M=FCller?= <m@example.test>".utf8)),
        Variant(
            "raw ISO-8859-1 bytes",
            from: [0x22, 0x4A, 0xFC] + Array("rgen M".utf8) + [0xFC]
                + Array("ller\" <m@example.test>".utf8)),
        Variant(
            "combining marks", from: Array("\"Ju\u{308}rgen Mu\u{308}ller\" <m@example.test>".utf8),
            expectedName: "Ju\u{308}rgen Mu\u{308}ller"),
        Variant(
            "CJK, emoji and a mail-delivery lookalike",
            from: Array("\"山田 🚀 Zürich Mail Delivery\" <m@example.test>".utf8),
            expectedName: "山田 🚀 Zürich Mail Delivery"),
    ]

    @Test(arguments: variants)
    func classifierAnswers(_ variant: Variant) async throws {
        let classification = await onOwnThread(within: Self.limit) {
            (done: @escaping @Sendable (Classification) -> Void) in
            let parsed = MessageParser.parse(variant.raw)
            done(
                MailClassifier(ClassifierConfiguration()).classify(
                    parsed, envelope: MailEnvelope(sender: "m@example.test")))
        }
        let result = try #require(classification, "classification did not finish within \(Self.limit) s")
        #expect(result.verdict == .accepted, "\(result.decisions)")
    }

    @Test(arguments: variants)
    func intakeFilesATicket(_ variant: Variant) async throws {
        let fixture = try PipelineFixture()
        defer { fixture.tearDown() }
        let intake = fixture.intake
        let message = InboundMessage(
            sender: "m@example.test", recipients: ["support@localhost"], raw: variant.raw, source: .lmtp,
            receivedAt: Date(), sessionID: "issue-11")
        let outcomes = await onOwnThread(within: Self.limit) { done in
            intake.process(message, completion: done)
        }
        let results = try #require(outcomes, "intake did not answer within \(Self.limit) s").map(\.result)
        #expect(results == [.created(ticket: 1)])
        let ticket = try #require(try await fixture.store.ticket(number: 1))
        #expect(ticket.requester?.name == variant.expectedName)
        #expect(ticket.requester?.address == "m@example.test")
    }
}

/// Runs `work` on a thread of its own and waits at most `seconds` for it to call back: nil when it did not
/// (a hang then spins on that thread only, and the test fails instead of stalling the test run).
func onOwnThread<Value: Sendable>(
    within seconds: Double, _ work: @escaping @Sendable (@escaping @Sendable (Value) -> Void) -> Void
) async -> Value? {
    let once = ResumeOnce<Value>()
    return await withCheckedContinuation { continuation in
        once.install(continuation)
        let thread = Thread { work { once.resume(with: $0) } }
        thread.stackSize = 8 << 20
        thread.start()
        DispatchQueue.global().asyncAfter(deadline: .now() + seconds) { once.resume(with: nil) }
    }
}

/// Resumes a continuation at most once, from whichever of the work and the timer comes first.
/// `@unchecked Sendable`: its one mutable field is only touched under `lock`.
final class ResumeOnce<Value: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var continuation: CheckedContinuation<Value?, Never>?

    func install(_ continuation: CheckedContinuation<Value?, Never>) {
        lock.withLock { self.continuation = continuation }
    }

    func resume(with value: Value?) {
        let pending = lock.withLock {
            defer { continuation = nil }
            return continuation
        }
        pending?.resume(returning: value)
    }
}
