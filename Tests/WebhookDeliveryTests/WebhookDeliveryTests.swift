import Foundation
import Logging
import TestSupport
import Testing
import TicketPipeline
import TicketStoreSQLite
import WebhookDelivery

/// Issue 14: webhooks from the transactional outbox to a real receiver over loopback sockets (a Python server that
/// checks every signature with the Standard Webhooks algorithm on its own), through a real SQLite store fed by
/// the real intake (parser included), with non-ASCII mail.
@Suite("Webhook delivery", .serialized)
struct WebhookDeliveryTests {
    static let secret = "whsec_" + Data((0..<32).map { UInt8($0 * 7 % 256) }).base64EncodedString()
    static let queues = [QueueDefinition(name: "support", tag: "Support", addresses: ["support@localhost"])]

    /// A store, an intake writing events, and a scratch directory.
    struct Fixture {
        let directory: URL
        let store: SQLiteTicketStore
        let intake: TicketIntake

        init() throws {
            directory = FileManager.default.temporaryDirectory.appendingPathComponent(
                "postdesk-webhooks-\(UUID().uuidString)")
            store = try SQLiteTicketStore(
                path: directory.appendingPathComponent("var/postdesk.db").path, logger: Logger(label: "test"))
            intake = TicketIntake(
                router: QueueRouter(queues: WebhookDeliveryTests.queues), store: store, logger: Logger(label: "test"),
                settings: PipelineSettings(recordsEvents: true))
        }

        func receiver() throws -> WebhookReceiver {
            try WebhookReceiver(
                directory: directory.appendingPathComponent("receiver-\(UUID().uuidString)"),
                secret: WebhookDeliveryTests.secret)
        }

        func deliver(
            subject: String, from: String, body: String, id: String, inReplyTo: String? = nil
        ) async -> [RecipientOutcome.Result] {
            var header = "From: \(from)\r\nTo: support@localhost\r\nSubject: \(subject)\r\nMessage-ID: <\(id)>\r\n"
            if let inReplyTo { header += "In-Reply-To: <\(inReplyTo)>\r\n" }
            header += "Content-Type: text/plain; charset=utf-8\r\n\r\n"
            return await intake.process(
                InboundMessage(
                    sender: "sender@example.test", recipients: ["support@localhost"],
                    raw: Array((header + body + "\r\n").utf8), source: .lmtp, receivedAt: Date(), sessionID: "t")
            ).map(\.result)
        }

        /// Two tickets: #1 with a reply (quoted history below the new part), #2 with a non-ASCII subject.
        func deliverConversation() async {
            _ = await deliver(
                subject: "=?UTF-8?B?RHJ1Y2tlciBicmVubnQg4oCTIOaJk+WNsOacug==?=",
                from: "=?utf-8?Q?J=C3=BCrgen_M=C3=BCller?= <juergen@example.test>",
                body: "Hallo, der Drucker brennt. Grüße aus Köln", id: "one@example.test")
            _ = await deliver(
                subject: "Ответ: 打印机", from: "Zoë Ångström <zoe@example.test>", body: "Второй тикет, ünïcödé",
                id: "two@example.test")
            _ = await deliver(
                subject: "Re: Drucker brennt", from: "=?utf-8?Q?J=C3=BCrgen_M=C3=BCller?= <juergen@example.test>",
                body: "Danke — erledigt, 谢谢.\r\n\r\nOn Monday Support wrote:\r\n> Hallo, der Drucker brennt.",
                id: "three@example.test", inReplyTo: "one@example.test")
        }

        func worker(_ url: URL, attempts: Int = 30) throws -> WebhookDeliveryWorker {
            WebhookDeliveryWorker(
                store: store,
                endpoints: [
                    WebhookEndpoint(
                        name: "helpdesk", url: url, events: nil,
                        signer: try WebhookSigner(secret: WebhookDeliveryTests.secret), timeout: .seconds(5))
                ],
                settings: .init(
                    pollInterval: .milliseconds(50), maximumConcurrentRequests: 4,
                    retry: WebhookRetryPolicy(
                        initialDelay: .milliseconds(100), maximumDelay: .milliseconds(400),
                        maximumAttempts: attempts, jitter: 0.2)),
                logger: Logger(label: "test.webhooks"))
        }

        /// The deliveries in `state` once there are at least `count` of them, or after 60 s whatever there is:
        /// a receiver's 204 is on record only after the worker has read the reply and committed.
        func deliveries(
            _ state: WebhookDeliveryRecord.State, atLeast count: Int
        ) async throws -> [WebhookDeliveryRecord] {
            _ = try await waitUntil(seconds: 60) { try await store.webhookDeliveries(state: state).count >= count }
            return try await store.webhookDeliveries(state: state)
        }

        func tearDown() {
            try? store.close()
            try? FileManager.default.removeItem(at: directory)
        }
    }

    /// No request for a later event of a ticket was made before the earlier event of that ticket was accepted.
    static func keptTicketOrder(_ received: [WebhookReceiver.Received], events: [OutboxEventRecord]) -> Bool {
        let order = Dictionary(uniqueKeysWithValues: events.map { ($0.eventID, $0.sequence) })
        var accepted: [Int: Int64] = [:]
        for request in received {
            guard let ticket = request.ticketNumber, let sequence = order[request.id] else { continue }
            let earlier = events.filter { $0.ticketNumber == ticket && $0.sequence < sequence }.map(\.sequence)
            if let latest = earlier.max(), (accepted[ticket] ?? 0) < latest { return false }
            if request.status == 204 { accepted[ticket] = max(accepted[ticket] ?? 0, sequence) }
        }
        return true
    }

    @Test func eventsArriveSignedInTicketOrderWithTextIntact() async throws {
        let fixture = try Fixture()
        defer { fixture.tearDown() }
        let receiver = try fixture.receiver()
        try receiver.start()
        defer { receiver.stop() }
        await fixture.deliverConversation()
        let worker = try fixture.worker(receiver.url)
        let running = Task { await worker.run() }
        let received = try await receiver.wait { $0.filter { $0.status == 204 }.count >= 3 }
        // Idle polling only reads: no commit (and no fsync) on the writer intake waits for.
        try await Task.sleep(for: .milliseconds(300))
        let commitsWhenIdle = fixture.store.commitStatistics.commits
        try await Task.sleep(for: .milliseconds(500))
        #expect(fixture.store.commitStatistics.commits == commitsWhenIdle)
        running.cancel()
        await running.value

        let events = try await fixture.store.outboxEvents()
        #expect(events.map(\.type) == ["ticket.created", "ticket.created", "article.added"])
        #expect(received.count == 3)
        #expect(received.allSatisfy { $0.verified })
        #expect(Set(received.map(\.id)) == Set(events.map(\.eventID)))
        #expect(Self.keptTicketOrder(received, events: events))

        let created = try #require(received.first { $0.id == events[0].eventID })
        let ticket = try #require(created.data["ticket"] as? [String: Any])
        #expect(ticket["subject"] as? String == "Drucker brennt – 打印机")
        #expect((ticket["requester"] as? [String: Any])?["name"] as? String == "Jürgen Müller")
        // Raw UTF-8 on the wire, not \u escapes: the receiver sees the bytes a person would read.
        #expect(created.bodyText.contains("Drucker brennt – 打印机"))
        let second = try #require(received.first { $0.id == events[1].eventID })
        #expect((second.data["ticket"] as? [String: Any])?["subject"] as? String == "Ответ: 打印机")
        #expect(
            ((second.data["article"] as? [String: Any])?["from"] as? [String: Any])?["name"] as? String
                == "Zoë Ångström")
        let secondText = (second.data["article"] as? [String: Any])?["text"] as? String
        #expect(secondText?.trimmingCharacters(in: .whitespacesAndNewlines) == "Второй тикет, ünïcödé")

        let reply = try #require(received.first { $0.id == events[2].eventID })
        #expect(reply.type == "article.added")
        let article = try #require(reply.data["article"] as? [String: Any])
        #expect((article["text"] as? String)?.contains("> Hallo, der Drucker brennt.") == true)
        #expect((article["stripped_text"] as? String)?.contains("Danke — erledigt, 谢谢.") == true)
        #expect((article["stripped_text"] as? String)?.contains("Hallo, der Drucker") == false)
        #expect(reply.body["timestamp"] is String)

        let deliveries = try await fixture.store.webhookDeliveries(state: nil)
        #expect(deliveries.map(\.state) == [.delivered, .delivered, .delivered])
        #expect(deliveries.allSatisfy { $0.lastStatus == 204 && $0.attempts == 1 })
    }

    @Test func aReceiverDownThenFailingIsRetriedUntilItRecovers() async throws {
        let fixture = try Fixture()
        defer { fixture.tearDown() }
        let receiver = try fixture.receiver()
        let port = try WebhookReceiver.unusedPort()
        let worker = try fixture.worker(URL(string: "http://127.0.0.1:\(port)/hooks")!)
        let running = Task { await worker.run() }
        defer { running.cancel() }
        await fixture.deliverConversation()

        // Down: connections refused, retried with backoff, the error on record.
        let refused = try await waitUntil(seconds: 60) {
            try await fixture.store.webhookDeliveries(state: .pending).contains {
                $0.attempts >= 2 && $0.lastStatus == nil && ($0.lastError ?? "").lowercased().contains("refused")
            }
        }
        #expect(refused)

        // Up, but answering 500: still retried, the status on record.
        try receiver.setMode("500")
        try receiver.start(port: port)
        defer { receiver.stop() }
        let failing = try await receiver.wait { $0.filter { $0.status == 500 }.count >= 3 }
        #expect(failing.filter { $0.status == 500 }.count >= 3)
        #expect(try await fixture.store.webhookDeliveries(state: .pending).contains { $0.lastStatus == 500 })

        // Recovered: everything arrives, each ticket's events in order.
        try receiver.setMode("ok")
        let received = try await receiver.wait { $0.filter { $0.status == 204 }.count >= 3 }
        #expect(try await fixture.deliveries(.delivered, atLeast: 3).count == 3)
        running.cancel()
        await running.value
        let events = try await fixture.store.outboxEvents()
        #expect(Set(received.filter { $0.status == 204 }.map(\.id)) == Set(events.map(\.eventID)))
        #expect(received.allSatisfy { $0.verified })
        #expect(Self.keptTicketOrder(received, events: events))
    }

    @Test func aReceiverThatNeverRecoversMakesDeadLettersThatCanBeResent() async throws {
        let fixture = try Fixture()
        defer { fixture.tearDown() }
        let receiver = try fixture.receiver()
        try receiver.setMode("500")
        try receiver.start()
        defer { receiver.stop() }
        await fixture.deliverConversation()
        let worker = try fixture.worker(receiver.url, attempts: 3)
        let running = Task { await worker.run() }
        defer { running.cancel() }

        let failed = try await fixture.deliveries(.failed, atLeast: 3)
        #expect(failed.count == 3)
        #expect(failed.allSatisfy { $0.attempts == 3 && $0.lastStatus == 500 })
        #expect(failed.allSatisfy { $0.lastError == "HTTP 500: receiver failing" })
        let attemptsBefore = receiver.received().count
        #expect(attemptsBefore == 9)

        // Re-sent by id once the receiver is fixed: only that event.
        try receiver.setMode("ok")
        let first = try #require(failed.first)
        #expect(try await fixture.store.redeliverWebhooks(eventID: first.eventID) == 1)
        let afterOne = try await receiver.wait { $0.contains { $0.status == 204 } }
        #expect(afterOne.filter { $0.status == 204 }.map(\.id) == [first.eventID])
        // Then all the others.
        #expect(try await fixture.store.redeliverWebhooks(eventID: nil) == 2)
        let all = try await receiver.wait { $0.filter { $0.status == 204 }.count >= 3 }
        #expect(Set(all.filter { $0.status == 204 }.map(\.id)) == Set(failed.map(\.eventID)))
        #expect(all.allSatisfy { $0.verified })
        running.cancel()
        await running.value
        #expect(try await fixture.store.webhookDeliveries(state: .failed).isEmpty)
    }

    @Test func anEndpointReceivesOnlyItsEventTypes() async throws {
        let fixture = try Fixture()
        defer { fixture.tearDown() }
        let receiver = try fixture.receiver()
        try receiver.start()
        defer { receiver.stop() }
        await fixture.deliverConversation()
        let worker = WebhookDeliveryWorker(
            store: fixture.store,
            endpoints: [
                WebhookEndpoint(
                    name: "replies", url: receiver.url, events: [.articleAdded],
                    signer: try WebhookSigner(secret: Self.secret))
            ],
            settings: .init(pollInterval: .milliseconds(50)), logger: Logger(label: "test"))
        let running = Task { await worker.run() }
        _ = try await receiver.wait(seconds: 10) { !$0.isEmpty }
        try await Task.sleep(for: .milliseconds(500))
        running.cancel()
        await running.value
        #expect(receiver.received().map(\.type) == ["article.added"])
    }
}

@Suite("Standard Webhooks signatures")
struct WebhookSignerTests {
    /// The Standard Webhooks specification's own example.
    @Test func matchesTheReferenceVector() throws {
        let signer = try WebhookSigner(secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\n")
        #expect(
            signer.signature(
                id: "msg_p5jXN8AQM9LWM0D4loKWxJek", timestamp: 1_614_265_330,
                body: Array(#"{"test": 2432232314}"#.utf8)) == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
    }

    @Test func refusesUnusableSecrets() {
        #expect(throws: WebhookSecretError.self) { try WebhookSigner(secret: "  \n") }
        #expect(throws: WebhookSecretError.self) { try WebhookSigner(secret: "whsec_!!!not base64") }
        #expect(throws: WebhookSecretError.self) { try WebhookSigner(secret: "short") }
    }

    @Test func backoffGrowsToADayThenGivesUp() {
        let policy = WebhookRetryPolicy(jitter: 0)
        var total = 0.0
        var attempts = 1
        while let delay = policy.delay(afterAttempts: attempts) {
            let (seconds, _) = delay.components
            total += Double(seconds)
            attempts += 1
        }
        #expect(attempts == 18)
        #expect(total > 20 * 3600 && total < 30 * 3600)
        #expect(policy.delay(afterAttempts: 1) == .seconds(5))
        #expect(policy.delay(afterAttempts: 3) == .seconds(20))
    }
}
