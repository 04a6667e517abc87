import Foundation
import Testing
import TicketPipeline
import TicketStoreSQLite

@testable import PostdeskHTTP

/// `/api/v1/webhooks/deliveries` and `/redeliver`: the outbox's delivery rows of a real SQLite file, written by
/// API changes and fanned out by the store the way the webhook worker does, over a real socket.
@Suite struct WebhookDeliveryEndpointTests {
    static let template = "/api/v1/webhooks/deliveries"
    static let redeliverTemplate = "/api/v1/webhooks/deliveries/{id}/redeliver"

    /// Three events (two changes and a note), fanned out to two endpoints (one with a non-ASCII name): the first
    /// event's deliveries failed, the second's delivered to one endpoint, the rest pending.
    private func fixture() async throws -> (APIFixture, events: [OutboxEventRecord]) {
        let api = try await APIFixture()
        api.store.recordsEvents = true
        let number = try await api.deliver(MailSamples.rawUTF8(subject: "Webhooks – Grüße"))
        let now = Date()
        let subscriptions = [
            WebhookSubscription(endpoint: "helpdesk", events: nil),
            WebhookSubscription(endpoint: "zoë-crm", events: nil),
        ]
        // Both endpoints known before the events: each receives all of them.
        _ = try await api.store.fanOutEvents(to: subscriptions, at: now)
        _ = try await api.store.changeTicket(number: number, TicketChange(status: "open"), actor: "t", at: now)
        _ = try await api.store.changeTicket(number: number, TicketChange(assignee: "Zoë"), actor: "t", at: now)
        _ = try await api.store.addInternalNote(number: number, text: "Notiz", author: "t", at: now)
        let events = try await api.store.outboxEvents()
        #expect(events.count == 3)
        let created = try await api.store.fanOutEvents(to: subscriptions, at: now)
        #expect(created == 6)
        for endpoint in ["helpdesk", "zoë-crm"] {
            try await api.store.recordWebhookAttempt(
                endpoint: endpoint, sequence: events[0].sequence,
                outcome: .failed(status: 500, error: "Server kaputt – ärgerlich"), at: now)
        }
        try await api.store.recordWebhookAttempt(
            endpoint: "helpdesk", sequence: events[1].sequence, outcome: .delivered(status: 204), at: now)
        return (api, events)
    }

    @Test func pagesListEveryDeliveryOnceNewestEventFirstAndFilterByState() async throws {
        let (api, events) = try await fixture()
        var seen: [String] = []
        var cursor: String?
        var pages = 0
        repeat {
            let query = "limit=4" + (cursor.map { "&cursor=\($0)" } ?? "")
            let page = try await api.get("/api/v1/webhooks/deliveries?\(query)", template: Self.template)
            #expect(page.status == 200, "\(page.text)")
            let items = page.json["items"] as? [[String: Any]] ?? []
            seen += items.compactMap { $0["id"] as? String }
            cursor = page.json["next_cursor"] as? String
            pages += 1
        } while cursor != nil && pages < 10
        #expect(pages == 2)
        let expected = events.reversed().flatMap { event in
            ["zoë-crm", "helpdesk"].map { "\(event.eventID).\($0)" }
        }
        #expect(seen == expected)

        let failed = try await api.get("/api/v1/webhooks/deliveries?state=failed", template: Self.template)
        let items = failed.json["items"] as? [[String: Any]] ?? []
        #expect(items.count == 2)
        #expect(items.allSatisfy { $0["state"] as? String == "failed" && $0["last_status"] as? Int == 500 })
        #expect(items.first?["last_error"] as? String == "Server kaputt – ärgerlich")
        #expect(items.first?["type"] as? String == "ticket.updated")
        #expect(items.first?["event_id"] as? String == events[0].eventID)
        let delivered = try await api.get("/api/v1/webhooks/deliveries?state=delivered", template: Self.template)
        #expect((delivered.json["items"] as? [[String: Any]])?.map { $0["endpoint"] as? String } == ["helpdesk"])

        #expect(try await api.get("/api/v1/webhooks/deliveries?state=dead", template: Self.template).status == 400)
        let ticketCursor = PageCursor(kind: PageCursor.tickets, last: 5).encoded
        let foreign = try await api.get("/api/v1/webhooks/deliveries?cursor=\(ticketCursor)", template: Self.template)
        #expect(foreign.status == 400)
        let check = try api.recorder.checkAgainstSpec()
        #expect(check.status == 0, "\(check.output)")
        await api.tearDown()
    }

    @Test func aFailedDeliveryIsSentAgainOnce() async throws {
        let (api, events) = try await fixture()
        func redeliver(_ id: String, token: String? = nil) async throws -> APIFixture.Reply {
            let path = id.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? id
            return try await api.request(
                .POST, "/api/v1/webhooks/deliveries/\(path)/redeliver", token: token ?? api.writeToken,
                template: Self.redeliverTemplate)
        }
        let failedID = "\(events[0].eventID).zoë-crm"
        #expect(try await redeliver(failedID, token: api.readToken).status == 403)
        let again = try await redeliver(failedID)
        #expect(again.status == 200, "\(again.text)")
        #expect(again.json["state"] as? String == "pending")
        #expect(again.json["attempts"] as? Int == 0)
        #expect(again.json["id"] as? String == failedID)
        let pending = try await api.store.webhookDelivery(eventID: events[0].eventID, endpoint: "zoë-crm")
        #expect(pending?.state == .pending)
        // The other endpoint's delivery of the same event is still a dead letter.
        #expect(try await api.store.webhookDelivery(eventID: events[0].eventID, endpoint: "helpdesk")?.state == .failed)

        let twice = try await redeliver(failedID)
        #expect(twice.status == 409, "\(twice.text)")
        #expect(try await redeliver("\(events[1].eventID).helpdesk").status == 409, "delivered")
        #expect(try await redeliver("\(events[0].eventID).nowhere").status == 404)
        #expect(try await redeliver("not-a-delivery").status == 404)
        let check = try api.recorder.checkAgainstSpec()
        #expect(check.status == 0, "\(check.output)")
        await api.tearDown()
    }
}
