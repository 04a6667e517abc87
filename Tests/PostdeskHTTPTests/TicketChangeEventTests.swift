import Foundation
import Testing
import TicketPipeline
import TicketStoreSQLite

@testable import PostdeskHTTP

/// Issue 14: an agent's change is written in the caller's transaction with its `ticket.updated` event, and an API
/// note with its `article.added` event, over a real socket into a real SQLite file.
@Suite struct TicketChangeEventTests {
    private func payload(_ event: OutboxEventRecord) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(event.payload.utf8))) as? [String: Any] ?? [:]
    }

    @Test func aPatchWritesOneTicketUpdatedEventWithOldAndNewValues() async throws {
        let api = try await APIFixture()
        api.store.recordsEvents = true
        let number = try await api.deliver(MailSamples.rawUTF8(subject: "Heizung kaputt – dringend"))
        let before = try await api.store.outboxEvents().count
        let template = "/api/v1/tickets/{number}"

        let changed = try await api.request(
            .PATCH, "/api/v1/tickets/\(number)", token: api.writeToken,
            body: #"{"status": "pending", "assignee": "Zoë Ångström", "category": null, "priority": "hoch"}"#,
            template: template)
        #expect(changed.status == 200, "\(changed.text)")
        let events = Array(try await api.store.outboxEvents().dropFirst(before))
        #expect(events.map(\.type) == ["ticket.updated"])
        let event = try #require(events.first)
        #expect(event.ticketNumber == number)
        #expect(event.articleID == nil)
        let data = payload(event)
        #expect((data["ticket"] as? [String: Any])?["number"] as? Int == number)
        #expect((data["ticket"] as? [String: Any])?["queue"] as? String == "support")
        #expect(data["actor"] as? String == "token writer")
        let changes = try #require(data["changes"] as? [String: [String: Any]])
        #expect(Set(changes.keys) == ["status", "assignee", "priority"], "clearing an empty category is no change")
        #expect(changes["status"]?["old"] as? String == "new")
        #expect(changes["status"]?["new"] as? String == "pending")
        #expect(changes["assignee"]?["old"] is NSNull)
        #expect(changes["assignee"]?["new"] as? String == "Zoë Ångström")

        // The same values again: no change, no event.
        let again = try await api.request(
            .PATCH, "/api/v1/tickets/\(number)", token: api.writeToken,
            body: #"{"status": "pending", "assignee": "Zoë Ångström"}"#, template: template)
        #expect(again.status == 200, "\(again.text)")
        #expect(try await api.store.outboxEvents().count == before + 1)

        // Clearing a value: null in the event.
        _ = try await api.request(
            .PATCH, "/api/v1/tickets/\(number)", token: api.writeToken, body: #"{"assignee": null}"#,
            template: template)
        let cleared = try #require(try await api.store.outboxEvents().last)
        #expect(cleared.type == "ticket.updated")
        let clearedChanges = payload(cleared)["changes"] as? [String: [String: Any]]
        #expect(clearedChanges?["assignee"]?["old"] as? String == "Zoë Ångström")
        #expect(clearedChanges?["assignee"]?["new"] is NSNull)

        let check = try api.recorder.checkAgainstSpec()
        #expect(check.status == 0, "\(check.output)")
        await api.tearDown()
    }

    @Test func anAPINoteWritesArticleAdded() async throws {
        let api = try await APIFixture()
        api.store.recordsEvents = true
        let number = try await api.deliver(MailSamples.rawUTF8(subject: "Ça ne marche pas — 日本語"))
        let before = try await api.store.outboxEvents().count
        let note = try await api.request(
            .POST, "/api/v1/tickets/\(number)/notes", token: api.writeToken,
            body: #"{"text": "Techniker bestellt. Привет!"}"#, template: "/api/v1/tickets/{number}/notes")
        #expect(note.status == 201, "\(note.text)")
        let noteID = try #require(note.json["id"] as? Int)
        let events = Array(try await api.store.outboxEvents().dropFirst(before))
        #expect(events.map(\.type) == ["article.added"])
        #expect(events.first?.articleID == Int64(noteID))
        let article = try #require(events.first.map(payload)?["article"] as? [String: Any])
        #expect(article["direction"] as? String == "note")
        #expect(article["source"] as? String == "api")
        #expect(article["author"] as? String == "token writer")
        #expect(article["subject"] as? String == "Ça ne marche pas — 日本語")
        await api.tearDown()
    }

    @Test func nothingIsWrittenWhenEventsAreOffOrTheTransactionRollsBack() async throws {
        let api = try await APIFixture()
        let number = try await api.deliver(MailSamples.rawUTF8(subject: "Grüße"))
        // Events off (no webhooks): the change, no event.
        let activities = try await api.store.changeTicket(
            number: number, TicketChange(status: "open"), actor: "test", at: Date())
        #expect(activities?.count == 1)
        #expect(try await api.store.outboxEvents().isEmpty)

        api.store.recordsEvents = true
        struct Abort: Error {}
        await #expect(throws: Abort.self) {
            try await api.store.write { transaction in
                let written = try transaction.changeTicket(
                    number: number, TicketChange(status: "solved", assignee: "Jürgen"), actor: "test", at: Date())
                #expect(written?.count == 2)
                throw Abort()
            }
        }
        #expect(try await api.store.outboxEvents().isEmpty)
        let ticket = try #require(try await api.store.ticket(number: number))
        #expect(ticket.status == "open")
        #expect(ticket.assignee == nil)
        #expect(ticket.activities.filter { $0.kind == "changed" }.count == 1)

        // In the caller's transaction with its other writes: both commit, one event.
        try await api.store.write { transaction in
            _ = try transaction.changeTicket(
                number: number, TicketChange(status: "solved"), actor: "test", at: Date())
            try transaction.addActivity(
                NewActivity(ticketNumber: number, kind: "test", text: "same transaction", createdAt: Date()))
        }
        #expect(try await api.store.outboxEvents().map(\.type) == ["ticket.updated"])
        #expect(try await api.store.ticket(number: number)?.status == "solved")
        // No such ticket: nil, nothing written.
        let missing = try await api.store.changeTicket(
            number: 999, TicketChange(status: "open"), actor: "test", at: Date())
        #expect(missing == nil)
        #expect(try await api.store.outboxEvents().count == 1)
        await api.tearDown()
    }
}
