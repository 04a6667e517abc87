import Foundation
import MailParser
import Testing
import TicketPipeline

@testable import TicketStoreSQLite

/// The one intake contract: a source hands over each recipient's queue as decided when it accepted the recipient
/// (or asks for routing from the headers), and gets one outcome per recipient.
@Suite("Intake contract: resolved queues, routing from the headers, the poller's state")
struct IntakeContractTests {
    @Test func resolvedQueuesAreUsedAsGivenNotLookedUpAgain() async throws {
        let fixture = try IntakeFixture()
        defer { fixture.tearDown() }
        let raw = fixture.fixtures.message(mail(id: "resolved@example.com"))
        // The address would route to support; the source decided sales (e.g. a mailbox's configured queue).
        let outcomes = await fixture.intake.process(
            InboundMessage(
                sender: "user@example.com", recipients: ["support@localhost", "gone@localhost"], raw: raw,
                source: .imap, routing: .resolved(["sales", "removed-by-reload"])))
        #expect(outcomes.map(\.queue) == ["sales", nil])
        #expect(outcomes[1].result == .unknownRecipient)
        let ticket = try #require(outcomes[0].result.ticket)
        let detail = try #require(try await fixture.store.ticket(number: ticket))
        #expect(detail.queue == "sales")
        #expect(detail.articles.first?.source == .imap)
    }

    @Test func aMailboxWithoutAQueueRoutesFromTheHeaders() async throws {
        let fixture = try IntakeFixture()
        defer { fixture.tearDown() }
        // A real message: routing reads the raw header section, as for `postdesk deliver`.
        let raw =
            Array(
                "From: =?UTF-8?Q?Ren=C3=A9e?= <renee@example.com>\r\nTo: Ventes <sales@localhost>\r\n"
                    .utf8) + Array("Subject: Devis\r\nMessage-ID: <headers@example.com>\r\n\r\nBonjour\r\n".utf8)
        let outcomes = await fixture.intake.process(
            InboundMessage(
                sender: "user@example.com", recipients: ["bench@mail.example"], raw: raw, source: .pop3,
                routing: .fromHeaders))
        #expect(outcomes.map(\.queue) == ["sales"])
        #expect(outcomes[0].result.ticket != nil)
    }

    @Test func lmtpWithoutResolvedQueuesLooksTheAddressUpAndNeverRoutesFromHeaders() async throws {
        let fixture = try IntakeFixture()
        defer { fixture.tearDown() }
        var parsed = mail(id: "nofallback@example.com")
        parsed.to = [MailAddress(name: nil, address: "sales@localhost")]
        let outcomes = await fixture.deliver(parsed, to: ["nobody@localhost"])
        #expect(outcomes.map(\.result) == [.unknownRecipient])
    }

    @Test func mailboxItemsSurviveReopeningAndAUIDValidityChangeForgetsThem() async throws {
        let fixture = try IntakeFixture()
        defer { fixture.tearDown() }
        let inbox = MailboxFolderKey(mailbox: "support-imap", folder: "Posteingang/Überprüft", validity: 7)
        try await fixture.store.setMailboxItems(["101"], state: .committed, in: inbox)
        try await fixture.store.setMailboxItems(["102"], state: .done, in: inbox)
        try await fixture.store.setMailboxItems(["103"], state: .tooLarge, in: inbox)
        try await fixture.store.setMailboxItems(["101", "104"], state: .done, in: inbox)
        try await fixture.store.setMailboxItems(["104"], state: nil, in: inbox)
        #expect(try await fixture.store.mailboxItems(inbox) == ["101": .done, "102": .done, "103": .tooLarge])

        try await fixture.store.forgetMailboxItems(in: inbox, notIn: ["102", "103"])
        #expect(try await fixture.store.mailboxItems(inbox) == ["102": .done, "103": .tooLarge])
        // A synchronization that finds nothing gone commits nothing (no fsync on the writer intake waits for).
        let commits = fixture.store.commitStatistics.commits
        try await fixture.store.forgetMailboxItems(in: inbox, notIn: ["102", "103", "105"])
        #expect(fixture.store.commitStatistics.commits == commits)
        #expect(try await fixture.store.mailboxItems(inbox) == ["102": .done, "103": .tooLarge])

        // Another mailbox and another folder are apart.
        let other = MailboxFolderKey(mailbox: "other", folder: "Posteingang/Überprüft", validity: 7)
        #expect(try await fixture.store.mailboxItems(other).isEmpty)

        // UIDVALIDITY changed: every UID names another message now.
        var renumbered = inbox
        renumbered.validity = 8
        #expect(try await fixture.store.mailboxItems(renumbered).isEmpty)
        #expect(try await fixture.store.mailboxItems(inbox).isEmpty)
    }

    @Test func mailboxStatusIsReadBackByTheReadOnlyReader() async throws {
        let fixture = try IntakeFixture()
        defer { fixture.tearDown() }
        let status = MailboxStatus(
            mailbox: "büro-pop3", state: .failing, lastPoll: Date(timeIntervalSince1970: 1_800_000_000),
            lastError: "authentication: -ERR [AUTH] Authentication failed.",
            failingSince: Date(timeIntervalSince1970: 1_799_000_000),
            messagesFetched: 12)
        try await fixture.store.saveMailboxStatus(status)
        let reader = try SQLiteTicketReader(path: fixture.directory.databasePath)
        #expect(try await reader.mailboxStatuses() == [status])
    }
}
