import Foundation
import MailParser
import Testing
import TicketPipeline

/// Bounces and auto-replies recognised by their text alone, end to end through `TicketIntake` into a real
/// SQLite store, with non-ASCII and RFC 2047-encoded subjects: none opens a ticket, the record names the rule,
/// and a person's look-alike mail still does.
@Suite("Bounces and auto-replies by their text, through the intake")
struct TextSignalIntakeTests {
    @Test func textOnlyBounceIsRecordedNotATicket() async throws {
        let fixture = try PipelineFixture()
        defer { fixture.tearDown() }
        let bounce = rawMail(
            from: "=?iso-8859-1?Q?Antivirus_Gateway_M=FCnchen?= <antivirus@gw.corp.example>",
            subject: "=?iso-8859-1?Q?Delivery_failure_notification?=",
            body: "Your message to carl@corp.example was not delivered because it contains a virus.\n"
                + "The message was quarantined by the gateway.\n")
        let results = await fixture.deliver(bounce, sender: "antivirus@gw.corp.example")
        #expect(results == [.recorded(.bounceUnmatched)])
        #expect(try await fixture.tickets().isEmpty)
        let record = try #require(try await fixture.records().first)
        #expect(record.classification == "bounce")
        #expect(record.decisions.joined(separator: "\n").contains("bounce-subject-body"), "\(record.decisions)")
        #expect(record.subject == "Delivery failure notification")
    }

    @Test func localizedAutoRepliesOpenNoTicketAndThreadAsNotes() async throws {
        let fixture = try PipelineFixture()
        defer { fixture.tearDown() }
        #expect(
            await fixture.deliver(rawMail(from: "\"Jürgen Müller\" <jm@firma.example>", subject: "Drucker"))
                == [.created(ticket: 1)])
        // Threaded by the subject tag: a note on the ticket, no new ticket, no reopening.
        let threaded = rawMail(
            from: "\"Jürgen Müller\" <jm@firma.example>",
            subject: "=?UTF-8?Q?Automatische_Antwort:_[Support_#1]_Drucker?=", body: "Ich bin bis Montag weg.")
        #expect(await fixture.deliver(threaded, sender: "jm@firma.example") == [.noted(ticket: 1)])
        // Not threaded: recorded only.
        for subject in ["=?UTF-8?B?6Ieq5YuV5b+c562UOiDjg5fjg6rjg7Pjgr/jg7w=?=", "Автоматический ответ: Принтер"] {
            let reply = rawMail(from: "someone@elsewhere.example", subject: subject, body: "Away.")
            #expect(
                await fixture.deliver(reply, sender: "someone@elsewhere.example") == [.recorded(.automatedUnthreaded)])
        }
        #expect(try await fixture.tickets().count == 1)
        let records = try await fixture.records()
        #expect(
            records.filter { $0.decisions.joined(separator: "\n").contains("auto-reply-subject") }.count == 3,
            "\(records.map(\.decisions))")
    }

    @Test func lookAlikeMailFromPeopleStillOpensTickets() async throws {
        let fixture = try PipelineFixture()
        defer { fixture.tearDown() }
        let subjects = [
            "Returned mail question", "Automatic reply not working", "Re: Réponse automatique : Votre imprimante",
        ]
        for (index, subject) in subjects.enumerated() {
            let mail = rawMail(
                from: "\"Zoë Ærøskøbing\" <zoe@customer.example>", subject: subject,
                body: "My letter could not be delivered, the post office says. Can you help?")
            #expect(await fixture.deliver(mail, sender: "zoe@customer.example") == [.created(ticket: index + 1)])
        }
        let tickets = try await fixture.tickets()
        #expect(Set(tickets.map(\.subject)).count == 3)
    }
}
