import Foundation
import GRDB
import Logging
import Testing
import TicketPipeline

@testable import TicketStoreSQLite

/// Issue 12 point 3: a stored (unsigned) Message-ID threads only for the ticket's requester or participants,
/// resolves to its OLDEST article, and is never registered for a second ticket or sender. Through TicketIntake
/// into a real SQLite store, with non-ASCII names.
@Suite("Thread hijack: stored Message-IDs belong to their first holder and to the ticket's participants")
struct ThreadHijackTests {
    static let victim = "=?UTF-8?B?Wm/DqyDDhWxhbmRlcg==?= <zoe@victim.test>"
    static let mallory = "=?ISO-8859-1?Q?Mall=F6ry?= <mallory@evil.test>"

    @Test func anOutsiderWhoKnowsAMessageIDCannotAppendOrReopen() async throws {
        let fixture = try PipelineFixture()
        defer { fixture.tearDown() }
        let first = rawMail(
            from: Self.victim, cc: "Bjørn <bjorn@victim.test>", subject: "Gehälter März", id: "payroll@victim.test")
        #expect(await fixture.deliver(first, sender: "zoe@victim.test") == [.created(ticket: 1)])
        try await fixture.store.executeOnWriter("UPDATE tickets SET status = 'closed' WHERE number = 1")
        let hijack = rawMail(
            from: Self.mallory, subject: "Re: Gehälter März", id: "m1@evil.test",
            headers: ["In-Reply-To: <payroll@victim.test>"], body: "Bitte an meine Adresse schicken.\n")
        #expect(await fixture.deliver(hijack, sender: "mallory@evil.test") == [.created(ticket: 2)])
        let original = try #require(try await fixture.store.ticket(number: 1))
        #expect(original.articles.count == 1)
        #expect(original.status == "closed")
        let separate = try #require(try await fixture.store.ticket(number: 2))
        #expect(separate.requester?.address == "mallory@evil.test")
        #expect(separate.activities.first?.text.contains("reference to <payroll@victim.test> of #1") == true)
        // A participant (Cc of the first message) does thread by the same reference.
        let fromParticipant = rawMail(
            from: "Bjørn <Bjorn@victim.test>", subject: "Re: Gehälter März", id: "b1@victim.test",
            headers: ["In-Reply-To: <payroll@victim.test>"])
        #expect(await fixture.deliver(fromParticipant, sender: "bjorn@victim.test") == [.appended(ticket: 1)])
        // Our signed Message-ID stays the strong path: it threads without the participant rule.
        let signed = PipelineFixture.signer.messageID(ticket: 1, article: 1)
        let viaSigned = rawMail(
            from: "Søren <soren@elsewhere.test>", subject: "Re: Gehälter", headers: ["In-Reply-To: <\(signed)>"])
        #expect(await fixture.deliver(viaSigned, sender: "soren@elsewhere.test") == [.appended(ticket: 1)])
    }

    @Test func reusingAVictimsMessageIDDoesNotCaptureTheVictimsReplies() async throws {
        let fixture = try PipelineFixture()
        defer { fixture.tearDown() }
        let first = rawMail(
            from: Self.victim, cc: "Bjørn <bjorn@victim.test>", subject: "Zugang gesperrt", id: "shared@victim.test")
        #expect(await fixture.deliver(first, sender: "zoe@victim.test") == [.created(ticket: 1)])
        // Mallory sends another message under the victim's Message-ID: a message of its own, not a duplicate.
        let reuse = rawMail(
            from: Self.mallory, subject: "Zugang gesperrt", id: "shared@victim.test", body: "Neues Passwort an mich.\n")
        #expect(await fixture.deliver(reuse, sender: "mallory@evil.test") == [.created(ticket: 2)])
        let activities = try #require(try await fixture.store.ticket(number: 2)).activities
        #expect(activities.contains { $0.kind == "message-id" && $0.text.contains("already belongs to #1") })
        // The victim's and a participant's follow-ups still go to the victim's ticket.
        let followUp = rawMail(
            from: Self.victim, subject: "Re: Zugang gesperrt", id: "f1@victim.test",
            headers: ["In-Reply-To: <shared@victim.test>"])
        #expect(await fixture.deliver(followUp, sender: "zoe@victim.test") == [.appended(ticket: 1)])
        let colleague = rawMail(
            from: "bjorn@victim.test", subject: "Re: Zugang gesperrt", id: "f2@victim.test",
            headers: ["References: <shared@victim.test>"])
        #expect(await fixture.deliver(colleague, sender: "bjorn@victim.test") == [.appended(ticket: 1)])
        #expect(try await fixture.store.ticket(number: 2)?.articles.count == 1)
    }

    @Test func aPreSeededMessageIDDoesNotThreadStrangersIntoTheSeedersTicket() async throws {
        let fixture = try PipelineFixture()
        defer { fixture.tearDown() }
        let seed = rawMail(from: Self.mallory, subject: "Köder", id: "alert-42@monitor.test", body: "x\n")
        #expect(await fixture.deliver(seed, sender: "mallory@evil.test") == [.created(ticket: 1)])
        let real = rawMail(
            from: Self.victim, cc: "Bjørn <bjorn@victim.test>", subject: "Alarm 42: Platte voll",
            id: "alert-42@monitor.test", body: "Platte /var ist voll.\n")
        #expect(await fixture.deliver(real, sender: "zoe@victim.test") == [.created(ticket: 2)])
        let reply = rawMail(
            from: "Bjørn <bjorn@victim.test>", subject: "Re: Alarm 42", id: "r1@victim.test",
            headers: ["In-Reply-To: <alert-42@monitor.test>"])
        #expect(await fixture.deliver(reply, sender: "bjorn@victim.test") == [.created(ticket: 3)])
        #expect(try await fixture.store.ticket(number: 1)?.articles.count == 1)
    }

    @Test func oneMessageToTwoQueuesThreadsInBoth() async throws {
        let fixture = try PipelineFixture()
        defer { fixture.tearDown() }
        let first = rawMail(from: Self.victim, subject: "Angebot für Zürich", id: "both@victim.test")
        let outcome = await fixture.deliver(
            first, to: ["support@localhost", "sales@localhost"], sender: "zoe@victim.test")
        #expect(outcome == [.created(ticket: 1), .created(ticket: 2)])
        let reply = rawMail(
            from: Self.victim, to: "support@localhost, sales@localhost", subject: "Re: Angebot", id: "r@victim.test",
            headers: ["In-Reply-To: <both@victim.test>"])
        let replies = await fixture.deliver(
            reply, to: ["support@localhost", "sales@localhost"], sender: "zoe@victim.test")
        #expect(replies == [.appended(ticket: 1), .appended(ticket: 2)])
    }

    /// Every statement threading runs on the writer searches an index; none scans a table.
    @Test func everyThreadingLookupIsAnIndexSearch() async throws {
        let fixture = try PipelineFixture()
        defer { fixture.tearDown() }
        await fixture.deliver(rawMail())
        let queue = try DatabaseQueue(path: fixture.directory.databasePath)
        defer { try? queue.close() }
        try await queue.read { db in
            for sql in SQLiteTicketTransaction.threadingSQL {
                // Parameters stay unbound (NULL): the plan depends on the SQL, not on the values.
                let statement = try db.makeStatement(sql: "EXPLAIN QUERY PLAN " + sql)
                statement.setUncheckedArguments(StatementArguments())
                let plan = try Row.fetchAll(statement).map { $0["detail"] as String }
                #expect(!plan.isEmpty)
                // "SCAN CONSTANT ROW" is the FROM-less SELECT around EXISTS subqueries, not a table.
                for step in plan where step != "SCAN CONSTANT ROW" {
                    #expect(!step.hasPrefix("SCAN"), "\(sql)\n→ \(plan)")
                }
            }
        }
    }
}
