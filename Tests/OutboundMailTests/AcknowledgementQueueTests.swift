import Foundation
import MailParser
import Testing
import TicketPipeline

@testable import OutboundMail

@Suite("Acknowledgements are queued in the ticket's transaction, only for ordinary new mail, rate limited")
struct AcknowledgementQueueTests {
    @Test func aNewTicketQueuesOneAcknowledgementWithTheThread() async throws {
        let fixture = try AcknowledgingIntake()
        defer { fixture.tearDown() }
        let result = await fixture.deliver(customerMail(id: "first@example.org"))
        guard case .created(let ticket) = result else {
            Issue.record("expected a new ticket, got \(result)")
            return
        }
        let queued = try await fixture.queued()
        #expect(queued.count == 1)
        let mail = try #require(queued.first).mail
        #expect(mail.kind == .acknowledgement)
        #expect(mail.ticketNumber == ticket)
        #expect(mail.recipient.address == "kunde@example.org")
        #expect(mail.recipient.name == "Jürgen Groß")
        #expect(mail.subject == "Drucker brennt – Hilfe!")
        #expect(mail.inReplyTo == "first@example.org")
        #expect(mail.references == ["first@example.org"])
        let detail = try #require(try await fixture.store.ticket(number: ticket))
        #expect(detail.activities.contains { $0.kind == "acknowledgement" && $0.text.contains("kunde@example.org") })
    }

    @Test func repliesAutoRepliesBouncesListMailAndNullSendersGetNone() async throws {
        let fixture = try AcknowledgingIntake()
        defer { fixture.tearDown() }
        await fixture.deliver(customerMail(id: "orig@example.org"))
        // A reply threading onto the ticket.
        #expect(
            await fixture.deliver(
                customerMail(subject: "Re: Drucker brennt", headers: ["In-Reply-To: <orig@example.org>"])
            ).isAppended)
        // An auto-reply, list mail, a bounce, and mail from <>.
        await fixture.deliver(customerMail(from: "ooo@example.org", headers: ["Auto-Submitted: auto-replied"]))
        await fixture.deliver(
            customerMail(from: "list@example.org", headers: ["List-Id: <l.example.org>", "Precedence: list"]))
        await fixture.deliver(
            customerMail(from: "MAILER-DAEMON@example.org", subject: "Undelivered Mail Returned to Sender"),
            sender: "")
        await fixture.deliver(customerMail(from: "nobody@example.org"), sender: "")
        let queued = try await fixture.queued()
        #expect(queued.map(\.mail.recipient.address) == ["kunde@example.org"])
    }

    @Test func atMostThreeAcknowledgementsPerAddressAndHour() async throws {
        let fixture = try AcknowledgingIntake()
        defer { fixture.tearDown() }
        var tickets: [Int] = []
        for index in 0..<5 {
            if case .created(let ticket) = await fixture.deliver(customerMail(subject: "Frage \(index)")) {
                tickets.append(ticket)
            }
        }
        #expect(tickets.count == 5)
        #expect(try await fixture.queued().count == 3)
        let fourth = try #require(try await fixture.store.ticket(number: tickets[3]))
        #expect(
            fourth.activities.contains {
                $0.kind == "acknowledgement" && $0.text.contains("3 already sent in the past hour")
            })
    }

    @Test func agentsAreToldOfNewTicketsAndMessagesButNotOfTheirOwn() async throws {
        let fixture = try AcknowledgingIntake(agents: ["anna@desk.test", "ben@desk.test"])
        defer { fixture.tearDown() }
        guard case .created(let ticket) = await fixture.deliver(customerMail(id: "n1@example.org")) else {
            Issue.record("no ticket")
            return
        }
        // Ben answers on the ticket (quoting our Message-ID): Anna is told, Ben is not told of his own mail.
        let ourID = testSigner.messageID(ticket: ticket, article: 1)
        #expect(
            await fixture.deliver(
                customerMail(
                    from: "Ben <ben@desk.test>", subject: "Re: Drucker", headers: ["In-Reply-To: <\(ourID)>"],
                    body: "Schon unterwegs.\n"),
                sender: "ben@desk.test"
            ).isAppended)
        let notifications = try await fixture.queued().filter { $0.mail.kind == .notification }
        #expect(notifications.map(\.mail.recipient.address) == ["anna@desk.test", "ben@desk.test", "anna@desk.test"])
        let first = try #require(notifications.first?.mail.text)
        #expect(
            first.hasPrefix("New ticket [Support #\(ticket)] in queue support from Jürgen Groß <kunde@example.org>:"))
        #expect(first.contains("Grüße aus Köln"))
        #expect(notifications.last?.mail.text?.hasPrefix("New message on ticket [Support #\(ticket)]") == true)
        #expect(notifications.last?.mail.text?.contains("Schon unterwegs.") == true)
    }

    @Test func aStoreFailureQueuesNothing() async throws {
        // The same write: a ticket that did not commit leaves no queued mail behind.
        let fixture = try AcknowledgingIntake()
        defer { fixture.tearDown() }
        struct Abort: Error {}
        _ = try? await fixture.store.write { transaction -> Int in
            _ = try transaction.enqueueOutboundMail(
                NewOutboundMail(
                    kind: .acknowledgement, ticketNumber: 1, queue: "support",
                    recipient: MailAddress(name: nil, address: "x@example.org"), subject: "s", inReplyTo: nil,
                    references: [], createdAt: Date()))
            throw Abort()
        }
        #expect(try await fixture.queued().isEmpty)
    }
}

extension RecipientOutcome.Result {
    var isAppended: Bool {
        if case .appended = self { return true }
        return false
    }
}
