import Foundation
import MailClassification
import MailParser
import Testing
import TicketPipeline

/// Postfix delivers again when our reply was lost. Mail that made a ticket or a note is recognised by its
/// delivery key; mail that was only recorded (an unmatched bounce, unthreaded automated mail, a refused sender)
/// must be recognised too, or it would be listed, counted and budgeted twice.
@Suite("Redelivery of mail that was only recorded")
struct RedeliveryOfRecordedMailTests {
    @Test func anUnmatchedBounceDeliveredTwiceIsListedOnce() async throws {
        let fixture = try PipelineFixture()
        defer { fixture.tearDown() }
        let bounce = postfixBounce(originalID: "not-ours@elsewhere.example")
        #expect(await fixture.deliver(bounce, sender: "") == [.recorded(.bounceUnmatched)])
        #expect(await fixture.deliver(bounce, sender: "") == [.recorded(.duplicate)])
        #expect(try await fixture.store.bounceRecords(unmatchedOnly: true, limit: 10).count == 1)
        let records = try await fixture.records()
        #expect(records.map(\.disposition).sorted { $0.rawValue < $1.rawValue } == [.bounceUnmatched, .duplicate])
        let redelivery = try #require(records.first { $0.disposition == .duplicate })
        #expect(redelivery.decisions.contains("support: redelivery of a message recorded as bounce-unmatched"))
    }

    @Test func unthreadedAutomatedMailIsRecordedOncePerQueue() async throws {
        let fixture = try PipelineFixture()
        defer { fixture.tearDown() }
        let autoReply = rawMail(
            from: "Robot <robot@example.com>", subject: "Out of office", id: "ooo-1@example.com",
            headers: ["Auto-Submitted: auto-replied"])
        #expect(await fixture.deliver(autoReply) == [.recorded(.automatedUnthreaded)])
        #expect(await fixture.deliver(autoReply) == [.recorded(.duplicate)])
        // The key includes the queue: the same message to another queue is that queue's first delivery.
        #expect(await fixture.deliver(autoReply, to: ["sales@localhost"]) == [.recorded(.automatedUnthreaded)])
        let counts = try await fixture.store.dispositionCounts()
        #expect(counts[.automatedUnthreaded] == 2 && counts[.duplicate] == 1)
        #expect(try await fixture.tickets().isEmpty)
    }

    @Test func aRedeliveredOverBudgetMessageDoesNotSpendTheBudgetAgain() async throws {
        let fixture = try PipelineFixture(
            support: QueuePolicy(automatedBudget: AutomatedSenderBudget(messagesPerDay: 1)))
        defer { fixture.tearDown() }
        // The robot was in Cc, so it takes part in the ticket: its replies thread by the stored Message-ID.
        await fixture.deliver(rawMail(cc: "robot@example.com", id: "question@example.com"))
        func reply(_ index: Int) -> String {
            rawMail(
                from: "robot@example.com", subject: "Auto: Printer on fire", id: "auto-\(index)@example.com",
                headers: ["In-Reply-To: <question@example.com>", "Auto-Submitted: auto-replied"])
        }
        #expect(await fixture.deliver(reply(1)) == [.noted(ticket: 1)])
        #expect(await fixture.deliver(reply(1)) == [.duplicate(ticket: 1)])
        #expect(await fixture.deliver(reply(2)) == [.recorded(.overBudget)])
        #expect(await fixture.deliver(reply(2)) == [.recorded(.duplicate)])
        let counts = try await fixture.store.dispositionCounts()
        #expect(counts[.noted] == 1 && counts[.overBudget] == 1 && counts[.duplicate] == 2)
    }

    @Test func aRefusedSenderRedeliveredIsRecordedAsADuplicate() async throws {
        let fixture = try PipelineFixture(support: QueuePolicy(unknownSenders: .reject))
        defer { fixture.tearDown() }
        let stranger = rawMail(from: "stranger@unknown.example", id: "stranger-1@unknown.example")
        #expect(await fixture.deliver(stranger) == [.recorded(.rejected)])
        #expect(await fixture.deliver(stranger) == [.recorded(.duplicate)])
        let counts = try await fixture.store.dispositionCounts()
        #expect(counts[.rejected] == 1 && counts[.duplicate] == 1)
    }

    @Test func theRawHashIsOnRecordWhereTheRecordIsAllThatIsKept() async throws {
        let fixture = try PipelineFixture()
        defer { fixture.tearDown() }
        let ordinary = rawMail(id: "ordinary@example.com")
        let autoReply = rawMail(
            from: "robot@example.com", subject: "Out of office", id: "ooo-2@example.com",
            headers: ["Auto-Submitted: auto-replied"])
        #expect(await fixture.deliver(ordinary) == [.created(ticket: 1)])
        #expect(await fixture.deliver(autoReply) == [.recorded(.automatedUnthreaded)])
        let records = try await fixture.records()
        let created = try #require(records.first { $0.disposition == .created })
        let recorded = try #require(records.first { $0.disposition == .automatedUnthreaded })
        // Ordinary mail is not hashed at intake: its raw bytes are kept, and the ticket gives their hash on read.
        #expect(created.rawSHA256.isEmpty)
        let article = try #require(try await fixture.store.ticket(number: 1)?.articles.first)
        #expect(article.rawSHA256 == sha256Hex(Array(ordinary.utf8)))
        // Mail kept only as a record carries the hash of the bytes that were not kept.
        #expect(recorded.rawSHA256 == sha256Hex(Array(autoReply.utf8)))
    }
}
