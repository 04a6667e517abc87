import Foundation
import MailParser
import Synchronization
import TestSupport
import Testing
import TicketPipeline

@testable import TicketStoreSQLite

@Suite("Ticket intake: tickets per queue, threading, idempotency, contacts")
struct TicketIntakeTests {
    @Test func oneTicketPerMessage() async throws {
        let fixture = try IntakeFixture()
        defer { fixture.tearDown() }
        let first = await fixture.deliver(mail(id: "a1@example.com"))
        let second = await fixture.deliver(mail(id: "a2@example.com", subject: "Another"))
        #expect(first.map(\.result) == [.created(ticket: 1)])
        #expect(second.map(\.result) == [.created(ticket: 2)])
        #expect(first.first?.queue == "support")

        let ticket = try #require(try await fixture.store.ticket(number: 1))
        #expect(ticket.queue == "support")
        #expect(ticket.subject == "Printer on fire")
        #expect(ticket.status == "new")
        #expect(ticket.requester == MailAddress(name: "Alice", address: "alice@example.com"))
        #expect(ticket.articles.count == 1)
        let article = try #require(ticket.articles.first)
        #expect(article.messageID == "a1@example.com")
        #expect(article.to == [MailAddress(name: nil, address: "support@localhost")])
        #expect(article.envelopeSender == "user@example.com")
        #expect(article.envelopeRecipients == ["support@localhost"])
        #expect(article.source == .lmtp)
        #expect(article.sessionID == "test")
        #expect(try await fixture.store.rawMessage(articleID: article.id)?.count == article.rawSize)
    }

    @Test func twoRecipientsInOneQueueShareOneTicket() async throws {
        let fixture = try IntakeFixture()
        defer { fixture.tearDown() }
        let outcomes = await fixture.deliver(
            mail(id: "b@example.com"), to: ["support@localhost", "help@support.test"])
        #expect(outcomes.map(\.result) == [.created(ticket: 1), .created(ticket: 1)])
        #expect(outcomes.map(\.recipient) == ["support@localhost", "help@support.test"])
        let counts = try await fixture.store.rowCounts()
        #expect(counts["tickets"] == 1)
        #expect(counts["articles"] == 1)
        let article = try #require(try await fixture.store.ticket(number: 1)?.articles.first)
        #expect(article.envelopeRecipients == ["support@localhost", "help@support.test"])
    }

    @Test func messageToTwoQueuesMakesOneTicketInEach() async throws {
        let fixture = try IntakeFixture()
        defer { fixture.tearDown() }
        let outcomes = await fixture.deliver(
            mail(id: "c@example.com"), to: ["sales@localhost", "nobody@localhost", "support@localhost"])
        #expect(outcomes.map(\.queue) == ["sales", nil, "support"])
        #expect(outcomes[1].result == .unknownRecipient)
        let salesTicket = try #require(outcomes[0].result.ticket)
        let supportTicket = try #require(outcomes[2].result.ticket)
        #expect(salesTicket != supportTicket)
        #expect(try await fixture.store.ticket(number: salesTicket)?.queue == "sales")
        #expect(try await fixture.store.ticket(number: supportTicket)?.queue == "support")
        let counts = try await fixture.store.rowCounts()
        #expect(counts["tickets"] == 2)
        #expect(counts["raw_messages"] == 1)
        #expect(counts["contacts"] == 1)
    }

    @Test func onlyUnknownRecipientsStoreNothing() async throws {
        let fixture = try IntakeFixture()
        defer { fixture.tearDown() }
        let outcomes = await fixture.deliver(mail(id: "d@example.com"), to: ["x@localhost", "y@elsewhere.test"])
        #expect(outcomes.map(\.result) == [.unknownRecipient, .unknownRecipient])
        #expect(try await fixture.store.rowCounts()["raw_messages"] == 0)
    }

    @Test func replyThreadsByInReplyTo() async throws {
        let fixture = try IntakeFixture()
        defer { fixture.tearDown() }
        _ = await fixture.deliver(mail(id: "first@example.com"))
        let reply = await fixture.deliver(
            mail(id: "reply@example.com", subject: "Re: Printer on fire", inReplyTo: ["first@example.com"]))
        #expect(reply.map(\.result) == [.appended(ticket: 1)])
        // A reply to the reply threads through the article added last.
        let second = await fixture.deliver(
            mail(id: "reply2@example.com", subject: "Re: Re", inReplyTo: ["reply@example.com"]))
        #expect(second.map(\.result) == [.appended(ticket: 1)])
        let ticket = try #require(try await fixture.store.ticket(number: 1))
        #expect(ticket.articles.map(\.messageID) == ["first@example.com", "reply@example.com", "reply2@example.com"])
        #expect(try await fixture.store.listTickets(limit: 10, offset: 0).first?.articleCount == 3)
    }

    @Test func replyThreadsByReferences() async throws {
        let fixture = try IntakeFixture()
        defer { fixture.tearDown() }
        _ = await fixture.deliver(mail(id: "root@example.com"))
        _ = await fixture.deliver(mail(id: "other@example.com", subject: "Other"))
        let reply = await fixture.deliver(
            mail(
                id: "ref-reply@example.com", subject: "Re: something",
                references: ["unknown@elsewhere", "root@example.com", "not-ours@elsewhere"]))
        #expect(reply.map(\.result) == [.appended(ticket: 1)])
    }

    @Test func replyThreadsBySubjectTag() async throws {
        let fixture = try IntakeFixture()
        defer { fixture.tearDown() }
        _ = await fixture.deliver(mail(id: "t1@example.com"))
        _ = await fixture.deliver(mail(id: "t2@example.com", subject: "Second"))
        let tagged = await fixture.deliver(mail(id: "t3@example.com", subject: "Re: [Support #2] Second"))
        #expect(tagged.map(\.result) == [.appended(ticket: 2)])
        // A tag naming a ticket that does not exist opens a new ticket.
        let missing = await fixture.deliver(mail(id: "t4@example.com", subject: "Re: [Support #99] ghost"))
        #expect(missing.map(\.result) == [.created(ticket: 3)])
    }

    @Test func threadingNeverCrossesQueues() async throws {
        let fixture = try IntakeFixture()
        defer { fixture.tearDown() }
        let original = await fixture.deliver(mail(id: "sup@example.com"))
        #expect(original.map(\.result) == [.created(ticket: 1)])
        // Same references and the support tag, but sent to sales: a new sales ticket.
        let crossReply = await fixture.deliver(
            mail(id: "cross@example.com", subject: "Re: [Support #1]", inReplyTo: ["sup@example.com"]),
            to: ["sales@localhost"])
        #expect(crossReply.map(\.result) == [.created(ticket: 2)])
        // The sales tag naming a support ticket does not thread either.
        let wrongTag = await fixture.deliver(
            mail(id: "tag@example.com", subject: "[Sales #1]"), to: ["sales@localhost"])
        #expect(wrongTag.map(\.result) == [.created(ticket: 3)])
        // A message to both queues threads where it can and opens a ticket where it cannot.
        let both = await fixture.deliver(
            mail(id: "both@example.com", subject: "Re", inReplyTo: ["sup@example.com"]),
            to: ["support@localhost", "sales@localhost"])
        #expect(both[0].result == .appended(ticket: 1))
        #expect(both[1].result == .created(ticket: 4))
    }

    @Test func sameMessageDeliveredTwiceIsADuplicate() async throws {
        let fixture = try IntakeFixture()
        defer { fixture.tearDown() }
        let raw = fixture.fixtures.message(mail(id: "dup@example.com"))
        let first = await fixture.deliver(raw: raw)
        let again = await fixture.deliver(raw: raw)
        #expect(first.map(\.result) == [.created(ticket: 1)])
        #expect(again.map(\.result) == [.duplicate(ticket: 1)])
        var counts = try await fixture.store.rowCounts()
        #expect(counts["tickets"] == 1)
        #expect(counts["articles"] == 1)
        #expect(counts["delivery_keys"] == 1)

        // The same bytes to another queue are a new delivery there; redelivered to both: duplicates.
        let toSales = await fixture.deliver(raw: raw, to: ["sales@localhost", "support@localhost"])
        #expect(toSales.map(\.result) == [.created(ticket: 2), .duplicate(ticket: 1)])
        let allAgain = await fixture.deliver(raw: raw, to: ["support@localhost", "sales@localhost"])
        #expect(allAgain.map(\.result) == [.duplicate(ticket: 1), .duplicate(ticket: 2)])
        counts = try await fixture.store.rowCounts()
        #expect(counts["tickets"] == 2)
        // Stored once per delivery that created something (the first, and the one that reached sales).
        #expect(counts["raw_messages"] == 2)
    }

    @Test func sameMessageIDWithDifferentBytesIsNew() async throws {
        let fixture = try IntakeFixture()
        defer { fixture.tearDown() }
        let first = await fixture.deliver(mail(id: "same@example.com"), body: "version one")
        let second = await fixture.deliver(mail(id: "same@example.com"), body: "version two")
        #expect(first.map(\.result) == [.created(ticket: 1)])
        #expect(second.map(\.result) == [.created(ticket: 2)])
        #expect(try await fixture.store.rowCounts()["raw_messages"] == 2)
    }

    @Test func messageWithoutMessageIDIsStillIdempotent() async throws {
        let fixture = try IntakeFixture()
        defer { fixture.tearDown() }
        let raw = fixture.fixtures.message(mail(id: nil))
        #expect(await fixture.deliver(raw: raw).map(\.result) == [.created(ticket: 1)])
        #expect(await fixture.deliver(raw: raw).map(\.result) == [.duplicate(ticket: 1)])
    }

    @Test func contactsAreKeyedByLowerCasedAddress() async throws {
        let fixture = try IntakeFixture()
        defer { fixture.tearDown() }
        _ = await fixture.deliver(mail(id: "c1@example.com", from: "Bob@Example.COM"))
        _ = await fixture.deliver(mail(id: "c2@example.com", subject: "x", from: "Bob B. <bob@example.com>"))
        // No From: the envelope sender is the requester.
        var noFrom = mail(id: "c3@example.com", subject: "y")
        noFrom.from = []
        _ = await fixture.deliver(noFrom, sender: "Carol@Example.com")
        // Null sender and no From: automated mail (empty return path), which never opens a ticket.
        var bounce = mail(id: "c4@example.com", subject: "z")
        bounce.from = []
        #expect(await fixture.deliver(bounce, sender: "").map(\.result) == [.recorded(.automatedUnthreaded)])

        #expect(try await fixture.store.rowCounts()["contacts"] == 2)
        let tickets = try await fixture.store.listTickets(limit: 10, offset: 0)
        #expect(tickets.map(\.number) == [3, 2, 1])
        #expect(tickets.map(\.requester) == ["carol@example.com", "bob@example.com", "bob@example.com"])
        // The name learnt later fills the contact's missing name.
        #expect(try await fixture.store.ticket(number: 1)?.requester?.name == "Bob B.")
        #expect(try await fixture.store.listTickets(limit: 2, offset: 1).map(\.number) == [2, 1])
    }

    @Test func attachmentsAreStoredOncePerContent() async throws {
        let fixture = try IntakeFixture()
        defer { fixture.tearDown() }
        let logo = attachment("PNG-ish bytes", name: "logo.png")
        let report = attachment("the report", name: "report.txt")
        _ = await fixture.deliver(mail(id: "att1@example.com", attachments: [logo, report]))
        _ = await fixture.deliver(
            mail(id: "att2@example.com", subject: "again", attachments: [logo]),
            to: ["support@localhost", "sales@localhost"])
        let counts = try await fixture.store.rowCounts()
        #expect(counts["attachments"] == 4)
        #expect(counts["blobs"] == 2)
        let article = try #require(try await fixture.store.ticket(number: 1)?.articles.first)
        #expect(article.attachments.map(\.filename) == ["logo.png", "report.txt"])
        #expect(article.attachments.first?.sha256 == logo.sha256)
        #expect(article.attachments.first?.size == logo.data.count)
        #expect(try await fixture.store.blob(sha256: logo.sha256) == logo.data)
    }

    @Test func closedStoreGivesTemporaryFailure() async throws {
        let fixture = try IntakeFixture()
        defer { fixture.tearDown() }
        try fixture.store.close()
        let outcomes = await fixture.deliver(
            mail(id: "late@example.com"), to: ["support@localhost", "nobody@localhost"])
        #expect(outcomes[0].result.isTemporaryFailure)
        #expect(outcomes[0].queue == "support")
        #expect(outcomes[1].result == .unknownRecipient)
        if case .temporaryFailure(let reason) = outcomes[0].result {
            #expect(reason.contains("closed"))
        }
    }

    @Test func fullDatabaseGivesTemporaryFailureAndKeepsNothing() async throws {
        let fixture = try IntakeFixture()
        defer { fixture.tearDown() }
        #expect(await fixture.deliver(mail(id: "before@example.com")).map(\.result) == [.created(ticket: 1)])
        // Cap the file at its current size: the next message needs new pages, as on a full disk.
        try await fixture.store.executeOnWriter("PRAGMA max_page_count = 1")
        let big = String(repeating: "x", count: 64 * 1024)
        let outcomes = await fixture.deliver(mail(id: "full@example.com"), body: big)
        #expect(outcomes.count == 1)
        guard case .temporaryFailure(let reason) = outcomes[0].result else {
            Issue.record("expected a temporary failure, got \(outcomes[0].result)")
            return
        }
        #expect(reason.contains("full"))
        #expect(try await fixture.store.rowCounts()["tickets"] == 1)
        try await fixture.store.executeOnWriter("PRAGMA max_page_count = 1073741823")
        #expect(await fixture.deliver(mail(id: "after@example.com"), body: big).map(\.result) == [.created(ticket: 2)])
    }

    @Test func lockedDatabaseGivesTemporaryFailure() async throws {
        let fixture = try IntakeFixture(busyTimeout: 0.1)
        defer { fixture.tearDown() }
        // A second instance on the same file (as another process would) holds the write lock.
        let other = try SQLiteTicketStore(path: fixture.directory.databasePath, logger: .init(label: "other"))
        defer { try? other.close() }
        let lock = LockHolding()
        let holder = Task {
            try await other.write { _ in
                lock.state.withLock { $0.holding = true }
                // Held until the delivery has its answer (a fixed time loses the race on a busy machine); bounded.
                for _ in 0..<3000 where !lock.state.withLock({ $0.release }) { Thread.sleep(forTimeInterval: 0.01) }
            }
        }
        _ = await waitUntil(seconds: 60, interval: .milliseconds(10)) { lock.state.withLock { $0.holding } }
        try #require(lock.state.withLock { $0.holding })
        let outcomes = await fixture.deliver(mail(id: "locked@example.com"))
        lock.state.withLock { $0.release = true }
        #expect(outcomes.count == 1)
        #expect(outcomes[0].result.isTemporaryFailure)
        try await holder.value
        // Once the lock is gone, the retry succeeds.
        #expect(await fixture.deliver(mail(id: "locked@example.com")).map(\.result) == [.created(ticket: 1)])
    }
}

/// The write lock of the test above: taken by the other store's writer, released when the test says.
private final class LockHolding: Sendable {
    struct State {
        var holding = false
        var release = false
    }

    let state = Mutex(State())
}
