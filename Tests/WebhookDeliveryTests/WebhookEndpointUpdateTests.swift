import Foundation
import Logging
import Testing
import TicketPipeline
import TicketStoreSQLite
import WebhookDelivery

/// `WebhookDeliveryWorker.update` (a SIGHUP reload): endpoints change under a running worker, against a real
/// SQLite store fed by the real intake and a real receiver over loopback.
@Suite("Webhook endpoints updated while the worker runs", .serialized)
struct WebhookEndpointUpdateTests {
    func endpoint(_ name: String, _ url: URL) throws -> WebhookEndpoint {
        WebhookEndpoint(
            name: name, url: url, events: nil, signer: try WebhookSigner(secret: WebhookDeliveryTests.secret),
            timeout: .seconds(5))
    }

    @Test func aRemovedEndpointsBacklogNeitherGoesOutNorHoldsTheOthersUp() async throws {
        let fixture = try WebhookDeliveryTests.Fixture()
        defer { fixture.tearDown() }
        let receiver = try fixture.receiver()
        try receiver.start()
        defer { receiver.stop() }
        // `gone` was configured before: six deliveries owed to it, due now, more than the worker takes at once.
        let live = try endpoint("live-ünï", receiver.url)
        _ = try await fixture.store.fanOutEvents(
            to: [WebhookSubscription(endpoint: "gone", events: nil)], at: Date())
        for index in 0..<6 {
            _ = await fixture.deliver(
                subject: "Vorher \(index) – Grüße", from: "Zoë <zoe@example.test>", body: "Text \(index)",
                id: "before-\(index)@example.test")
        }
        _ = try await fixture.store.fanOutEvents(
            to: [WebhookSubscription(endpoint: "gone", events: nil)], at: Date())
        #expect(try await fixture.store.webhookDeliveries(state: .pending).count == 6)

        let worker = WebhookDeliveryWorker(
            store: fixture.store, endpoints: [], settings: .init(pollInterval: .milliseconds(50)),
            logger: Logger(label: "test.webhooks"))
        let running = Task { await worker.run() }
        // The reload: `gone` is removed, `live` added; it starts with the events written from now on.
        let changes = try await worker.update([live])
        #expect(changes.added == ["live-ünï"] && changes.removed.isEmpty && changes.changed.isEmpty)
        _ = await fixture.deliver(
            subject: "Nachher – 谢谢", from: "Zoë <zoe@example.test>", body: "Neu", id: "after@example.test")
        let received = try await receiver.wait { $0.contains { $0.status == 204 } }
        #expect(received.count == 1)
        let ticket = received.first?.data["ticket"] as? [String: Any]
        #expect(ticket?["subject"] as? String == "Nachher – 谢谢")
        #expect(received.allSatisfy { $0.verified })
        // `gone` owes the same six, untouched: pending, never attempted.
        let owed = try await fixture.store.webhookDeliveries(state: .pending).filter { $0.endpoint == "gone" }
        #expect(owed.count == 6 && owed.allSatisfy { $0.attempts == 0 })

        // The same set again: no change; a new secret: changed.
        let same = try await worker.update([live])
        #expect(same.added.isEmpty && same.changed.isEmpty && same.removed.isEmpty)
        var rotated = live
        rotated.signer = try WebhookSigner(secret: "another secret of enough length")
        #expect(try await worker.update([rotated]).changed == ["live-ünï"])
        #expect(try await worker.update([]).removed == ["live-ünï"])
        running.cancel()
        await running.value
    }

    @Test func aRemovedEndpointHoldsBackOnlyTheEventsItStillOwes() async throws {
        let fixture = try WebhookDeliveryTests.Fixture()
        defer { fixture.tearDown() }
        let both = [
            WebhookSubscription(endpoint: "kept", events: nil), WebhookSubscription(endpoint: "gone", events: nil),
        ]
        _ = try await fixture.store.fanOutEvents(to: both, at: Date())
        _ = await fixture.deliver(
            subject: "Eins – Grüße", from: "Zoë <zoe@example.test>", body: "Eins", id: "one@example.test")
        // `gone` is removed before it saw the second event; it still owes the first.
        _ = try await fixture.store.fanOutEvents(to: both, at: Date())
        _ = await fixture.deliver(
            subject: "Zwei – 谢谢", from: "Zoë <zoe@example.test>", body: "Zwei", id: "two@example.test")
        _ = try await fixture.store.fanOutEvents(to: [both[0]], at: Date())
        let events = try await fixture.store.outboxEvents()
        #expect(events.count == 2)
        for event in events {
            try await fixture.store.recordWebhookAttempt(
                endpoint: "kept", sequence: event.sequence, outcome: .delivered(status: 204), at: Date())
        }
        let later = Date().addingTimeInterval(60)
        // Counting `gone`'s cursor, nothing could go; configured is only `kept`: the second event goes, the first
        // waits for `gone`'s pending delivery.
        #expect(try await fixture.store.pruneOutbox(before: later, endpoints: ["kept", "gone"]) == 0)
        #expect(try await fixture.store.pruneOutbox(before: later, endpoints: ["kept"]) == 1)
        #expect(try await fixture.store.outboxEvents().map(\.sequence) == [events[0].sequence])
    }

    @Test func everyEndpointOfTheFirstConfigurationReceivesTheBacklog() async throws {
        let fixture = try WebhookDeliveryTests.Fixture()
        defer { fixture.tearDown() }
        _ = await fixture.deliver(
            subject: "Vorher – Grüße", from: "Zoë <zoe@example.test>", body: "Eins", id: "backlog@example.test")
        let created = try await fixture.store.fanOutEvents(
            to: [
                WebhookSubscription(endpoint: "crm", events: nil),
                WebhookSubscription(endpoint: "helpdesk", events: nil),
            ],
            at: Date())
        #expect(created == 2)
        #expect(Set(try await fixture.store.webhookDeliveries(state: .pending).map(\.endpoint)) == ["crm", "helpdesk"])
        // One added later starts after what is there.
        #expect(
            try await fixture.store.fanOutEvents(
                to: [WebhookSubscription(endpoint: "later", events: nil)], at: Date()) == 0)
    }
}
