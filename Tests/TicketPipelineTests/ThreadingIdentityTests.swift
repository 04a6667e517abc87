import Foundation
import Testing
import TicketPipeline

@testable import TicketStoreSQLite

@Suite("Threading and identity: signed Message-IDs, subject tags, closed tickets, requesters")
struct ThreadingIdentityTests {
    @Test func signedMessageIDsVerify() {
        let signer = PipelineFixture.signer
        let id = signer.messageID(ticket: 123, article: 456)
        #expect(id.hasPrefix("T123.A456."))
        #expect(id.hasSuffix("@helpdesk.test"))
        #expect(signer.ticket(fromMessageID: id) == 123)
        #expect(signer.ticket(fromMessageID: id.uppercased()) == 123)
        // Another ticket number with the same signature, another secret, or a truncated signature: refused.
        #expect(signer.ticket(fromMessageID: id.replacingOccurrences(of: "T123.", with: "T124.")) == nil)
        let other = MessageIDSigner(secret: Array("another-secret-of-16+".utf8), domain: "helpdesk.test")
        #expect(other.ticket(fromMessageID: id) == nil)
        #expect(signer.ticket(fromMessageID: String(id.dropLast(20)) + "@helpdesk.test") == nil)
        #expect(signer.ticket(fromMessageID: "someone@example.com") == nil)
        #expect(signer.ticket(fromMessageID: id.replacingOccurrences(of: "@helpdesk.test", with: "@evil.test")) == nil)
    }

    /// The tag's exact length is checked before comparing: a tag one digit short or long, or with non-ASCII
    /// characters whose lower-casing changes the byte count (K KELVIN SIGN → k, İ → i̇), never passes.
    @Test func signatureLengthIsExact() {
        let signer = PipelineFixture.signer
        let id = signer.messageID(ticket: 7, article: 8)
        let at = id.lastIndex(of: "@")!
        let local = id[..<at]
        let signature = String(local.split(separator: ".")[2])
        let prefix = "T7.A8."
        func with(_ tag: String) -> String { prefix + tag + "@helpdesk.test" }
        #expect(signer.ticket(fromMessageID: with(signature)) == 7)
        #expect(signer.ticket(fromMessageID: with(String(signature.dropLast()))) == nil)
        #expect(signer.ticket(fromMessageID: with(signature + "0")) == nil)
        #expect(signer.ticket(fromMessageID: with(String(signature.dropLast(3)) + "\u{212A}")) == nil)
        #expect(signer.ticket(fromMessageID: with(String(signature.dropLast(2)) + "\u{0130}")) == nil)
        #expect(signer.ticket(fromMessageID: with(String(signature.dropLast(2)) + "é")) == nil)
        #expect(signer.ticket(fromMessageID: with(signature.uppercased())) == 7)
    }

    @Test func replyNamingOurSignedMessageIDThreads() async throws {
        let fixture = try PipelineFixture()
        defer { fixture.tearDown() }
        await fixture.deliver(rawMail())
        let ours = PipelineFixture.signer.messageID(ticket: 1, article: 99)
        let reply = rawMail(
            from: "bob@elsewhere.example", subject: "Re: your answer", headers: ["In-Reply-To: <\(ours)>"])
        #expect(await fixture.deliver(reply, sender: "bob@elsewhere.example") == [.appended(ticket: 1)])
        let activity = try #require(try await fixture.store.ticket(number: 1)?.activities.first)
        #expect(activity.kind == "threaded")
        #expect(activity.text.contains("signed Message-ID"))
        let forged = rawMail(
            subject: "Re: x", headers: ["In-Reply-To: <T1.A99.ffffffffffffffffffffffff@helpdesk.test>"])
        #expect(await fixture.deliver(forged) == [.created(ticket: 2)])
    }

    @Test func subjectTagFromAStrangerOpensALinkedTicket() async throws {
        let fixture = try PipelineFixture()
        defer { fixture.tearDown() }
        await fixture.deliver(rawMail(cc: "Carol <carol@example.com>"))
        // The requester and a Cc'd participant thread by tag; a stranger does not.
        let fromRequester = rawMail(subject: "Re: [Support #1] Printer on fire")
        #expect(await fixture.deliver(fromRequester) == [.appended(ticket: 1)])
        let fromParticipant = rawMail(from: "carol@Example.com", subject: "Re: [Support #1] Printer on fire")
        #expect(await fixture.deliver(fromParticipant, sender: "carol@example.com") == [.appended(ticket: 1)])
        let hijack = rawMail(from: "Mallory <mallory@evil.example>", subject: "Re: [Support #1] give me the data")
        #expect(await fixture.deliver(hijack, sender: "mallory@evil.example") == [.created(ticket: 2)])

        let original = try #require(try await fixture.store.ticket(number: 1))
        #expect(original.articles.count == 3)
        #expect(original.activities.last?.kind == "linked")
        #expect(original.activities.last?.text.contains("new ticket #2") == true)
        let separate = try #require(try await fixture.store.ticket(number: 2))
        #expect(separate.requester?.address == "mallory@evil.example")
        #expect(separate.activities.map(\.kind) == ["linked"])
        #expect(separate.activities.first?.text.contains("neither the requester nor a participant") == true)
    }

    struct ClosedCase: CustomTestStringConvertible, Sendable {
        let label: String
        let policy: ClosedTicketReplyPolicy
        let closedDaysAgo: Double
        let result: RecipientOutcome.Result
        let statusAfter: String
        var testDescription: String { label }
    }

    @Test(arguments: [
        ClosedCase(label: "add", policy: .add, closedDaysAgo: 30, result: .appended(ticket: 1), statusAfter: "closed"),
        ClosedCase(
            label: "reopen within grace", policy: .reopenWithin(days: 14), closedDaysAgo: 2,
            result: .appended(ticket: 1), statusAfter: "open"),
        ClosedCase(
            label: "grace over: new linked ticket", policy: .reopenWithin(days: 14), closedDaysAgo: 20,
            result: .created(ticket: 2), statusAfter: "closed"),
        ClosedCase(
            label: "always new", policy: .alwaysNew, closedDaysAgo: 0, result: .created(ticket: 2),
            statusAfter: "closed"),
    ])
    func replyToClosedTicket(_ example: ClosedCase) async throws {
        let fixture = try PipelineFixture(support: QueuePolicy(closedTicketReplies: example.policy))
        defer { fixture.tearDown() }
        await fixture.deliver(rawMail(id: "closed-question@example.com"))
        let closedAt = Date().timeIntervalSince1970 - example.closedDaysAgo * 86_400
        try await fixture.store.executeOnWriter(
            "UPDATE tickets SET status = 'closed', updated_at = \(closedAt) WHERE number = 1")
        let reply = rawMail(subject: "Re: Printer on fire", headers: ["In-Reply-To: <closed-question@example.com>"])
        #expect(await fixture.deliver(reply) == [example.result])
        #expect(try await fixture.store.ticket(number: 1)?.status == example.statusAfter)
        if case .created(let number) = example.result {
            #expect(
                try await fixture.store.ticket(number: number)?.activities.first?.text.contains("linked to #1") == true)
        }
    }

    @Test func requesterPolicies() async throws {
        let reject = try PipelineFixture(support: QueuePolicy(unknownSenders: .reject))
        defer { reject.tearDown() }
        #expect(await reject.deliver(rawMail()) == [.recorded(.rejected)])
        #expect(try await reject.tickets().isEmpty)
        #expect(try await reject.records().first?.decisions.contains { $0.contains("rejected by the queue") } == true)

        let redirect = try PipelineFixture(
            support: QueuePolicy(unknownSenders: .redirect(address: "triage@example.com")))
        defer { redirect.tearDown() }
        #expect(await redirect.deliver(rawMail()) == [.recorded(.redirected)])
        #expect(try await redirect.records().first?.decisions.contains { $0.contains("triage@example.com") } == true)

        let fallback = try PipelineFixture(
            support: QueuePolicy(unknownSenders: .fallbackContact(address: "Guest@Example.com")))
        defer { fallback.tearDown() }
        #expect(await fallback.deliver(rawMail()) == [.created(ticket: 1)])
        let ticket = try #require(try await fallback.store.ticket(number: 1))
        #expect(ticket.requester?.address == "guest@example.com")
        #expect(ticket.articles.first?.from?.address == "alice@example.com")
        #expect(ticket.activities.first?.kind == "requester")

        let replyTo = try PipelineFixture(support: QueuePolicy(replyToAsRequester: true))
        defer { replyTo.tearDown() }
        await replyTo.deliver(rawMail(from: "noreply@shop.example", headers: ["Reply-To: Dana <dana@example.com>"]))
        #expect(try await replyTo.store.ticket(number: 1)?.requester?.address == "dana@example.com")
    }
}
