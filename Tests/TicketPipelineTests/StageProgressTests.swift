import Foundation
import Synchronization
import TestSupport
import Testing
import TicketPipeline

@testable import TicketStoreSQLite

/// Records the stages a message enters, and gives it up at one of them as the daemon's supervisor does when
/// the processing deadline passes.
final class StageRecorder: StageProgress {
    let abandonAt: PipelineStage?
    private let entered = Mutex<[PipelineStage]>([])

    init(abandonAt: PipelineStage? = nil) { self.abandonAt = abandonAt }

    var stages: [PipelineStage] { entered.withLock { $0 } }

    func enter(_ stage: PipelineStage) throws(ProcessingAbandoned) {
        entered.withLock { $0.append(stage) }
        if stage == abandonAt { throw ProcessingAbandoned(stage: stage, reason: "the processing deadline passed") }
    }
}

@Suite struct StageProgressTests {
    static let mail = rawMail(
        from: "=?UTF-8?B?SsO8cmdlbiBNw7xsbGVy?= <juergen@example.com>", subject: "Größe der Überweisung",
        body: "Grüße aus Köln\n")

    func process(_ fixture: PipelineFixture, progress: StageRecorder) async -> [RecipientOutcome] {
        let message = InboundMessage(
            sender: "juergen@example.com", recipients: ["support@localhost"], raw: Array(Self.mail.utf8), source: .lmtp,
            sessionID: "stages")
        return await withCheckedContinuation { continuation in
            fixture.intake.process(message, progress: progress) { continuation.resume(returning: $0) }
        }
    }

    @Test("Every stage is reported, in order, for a message that becomes a ticket")
    func stagesInOrder() async throws {
        let fixture = try PipelineFixture()
        defer { fixture.tearDown() }
        let recorder = StageRecorder()
        let outcomes = await process(fixture, progress: recorder)
        #expect(recorder.stages == [.route, .parse, .classify, .plan, .commit])
        guard case .created = outcomes.first?.result else {
            Issue.record("expected a ticket, got \(outcomes)")
            return
        }
        #expect(try await fixture.tickets().first?.subject == "Größe der Überweisung")
    }

    @Test(
        "A message given up at any stage, the commit included, leaves nothing in the store",
        arguments: [
            PipelineStage.route, .parse, .classify, .plan, .commit,
        ])
    func abandonedLeavesNothing(stage: PipelineStage) async throws {
        let fixture = try PipelineFixture()
        defer { fixture.tearDown() }
        let recorder = StageRecorder(abandonAt: stage)
        let outcomes = await process(fixture, progress: recorder)
        #expect(recorder.stages.last == stage)
        guard case .temporaryFailure(let reason) = outcomes.first?.result else {
            Issue.record("expected a temporary failure, got \(outcomes)")
            return
        }
        #expect(reason.contains("stage \(stage)"))
        #expect(try await fixture.tickets().isEmpty)
        #expect(try await fixture.records().isEmpty)
        #expect(try await fixture.store.quarantinedMessages(limit: 10, offset: 0).isEmpty)
    }

    @Test("A poison message is held for review without any stage, its reason naming the stage it stalled in")
    func holdForReview() async throws {
        let fixture = try PipelineFixture()
        defer { fixture.tearDown() }
        let message = InboundMessage(
            sender: "juergen@example.com", recipients: ["support@localhost", "nobody@elsewhere.test"],
            raw: Array(Self.mail.utf8), source: .lmtp, sessionID: "poison")
        let outcomes = await withCheckedContinuation { continuation in
            fixture.intake.holdForReview(
                message, reason: .stalled(stage: "classify", what: "the daemon stopped while it was being processed")
            ) { continuation.resume(returning: $0) }
        }
        #expect(outcomes.count == 2)
        guard case .quarantined(let id) = outcomes.first?.result else {
            Issue.record("expected quarantine, got \(outcomes)")
            return
        }
        #expect(outcomes.last?.result == .unknownRecipient)
        let entry = try #require(try await fixture.store.quarantinedMessage(id: id))
        #expect(entry.error.contains("stage classify"))
        #expect(entry.raw == Array(Self.mail.utf8))
        #expect(try await fixture.tickets().isEmpty)
    }

    @Test("The writer's probe is answered between batches, and not while a transaction holds the writer")
    func writerProbe() async throws {
        let fixture = try PipelineFixture()
        defer { fixture.tearDown() }
        let answered = Atomic(0)
        fixture.store.probeWriter { answered.add(1, ordering: .relaxed) }
        #expect(await waitUntil(seconds: 20, interval: .milliseconds(10)) { answered.load(ordering: .relaxed) == 1 })

        let release = DispatchSemaphore(value: 0)
        let holding = Atomic(false)
        fixture.store.write(
            { _ in
                holding.store(true, ordering: .releasing)
                release.wait()
            }, completion: { _ in })
        #expect(await waitUntil(seconds: 20, interval: .milliseconds(10)) { holding.load(ordering: .acquiring) })
        fixture.store.probeWriter { answered.add(1, ordering: .relaxed) }
        try await Task.sleep(for: .milliseconds(300))
        #expect(answered.load(ordering: .relaxed) == 1, "a wedged writer must not answer")
        release.signal()
        #expect(await waitUntil(seconds: 20, interval: .milliseconds(10)) { answered.load(ordering: .relaxed) == 2 })
    }
}
