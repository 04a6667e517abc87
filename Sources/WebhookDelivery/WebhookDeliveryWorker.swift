import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import Synchronization
import TicketPipeline

/// Delivers the outbox's events to the configured endpoints, at least once, in order per ticket.
///
/// One task (`run`), never an event loop: it fans new events out to the endpoints, reads the deliveries that
/// are due, and sends at most `maximumConcurrentRequests` at a time, each in a child task. Every outcome is
/// written to the store before the next attempt of that delivery is chosen, so a crash or restart resumes where
/// the store says: a request in flight at a crash is sent again (receivers deduplicate by `webhook-id`). A
/// delivery waits while an earlier event of the same ticket is pending for the same endpoint (the store's due
/// query), so per-ticket order holds across retries; only a dead letter (`failed`) stops holding later events.
public final class WebhookDeliveryWorker: Sendable {
    public struct Settings: Sendable {
        /// How often the outbox is looked at when nothing is due.
        public var pollInterval: Duration
        public var maximumConcurrentRequests: Int
        public var retry: WebhookRetryPolicy
        /// Delivered events older than this are removed from the outbox.
        public var retention: Duration

        public init(
            pollInterval: Duration = .seconds(1), maximumConcurrentRequests: Int = 4,
            retry: WebhookRetryPolicy = WebhookRetryPolicy(), retention: Duration = .seconds(7 * 86_400)
        ) {
            self.pollInterval = pollInterval
            self.maximumConcurrentRequests = max(1, maximumConcurrentRequests)
            self.retry = retry
            self.retention = retention
        }
    }

    private let store: any WebhookOutboxStore
    /// The configured endpoints by name; `update` replaces them while `run` goes on (a SIGHUP reload).
    private let endpoints: Mutex<[String: WebhookEndpoint]>
    private let settings: Settings
    private let logger: Logger

    public init(
        store: any WebhookOutboxStore, endpoints: [WebhookEndpoint], settings: Settings = Settings(), logger: Logger
    ) {
        self.store = store
        self.endpoints = Mutex(Self.byName(endpoints))
        self.settings = settings
        self.logger = logger
    }

    private static func byName(_ endpoints: [WebhookEndpoint]) -> [String: WebhookEndpoint] {
        Dictionary(endpoints.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
    }

    /// Makes `endpoints` the configured set: an added endpoint starts with the events written after this call (it
    /// is registered in the store before it returns), a changed one is sent to as it is now (requests in flight
    /// finish as they began), a removed one is sent nothing more; its pending deliveries stay in the store and
    /// resume if it comes back. Returns the names added, changed and removed, for the log; throws when the store
    /// cannot register the added ones (the worker's next poll does it then).
    @discardableResult
    public func update(
        _ endpoints: [WebhookEndpoint]
    ) async throws -> (added: [String], changed: [String], removed: [String]) {
        let wanted = Self.byName(endpoints)
        let old = self.endpoints.withLock { current in
            defer { current = wanted }
            return current
        }
        let added = wanted.keys.filter { old[$0] == nil }.sorted()
        let removed = old.keys.filter { wanted[$0] == nil }.sorted()
        let changed = wanted.compactMap { name, endpoint in
            old[name].map { $0.sameSettings(as: endpoint) ? nil : name } ?? nil
        }.sorted()
        if !added.isEmpty {
            let subscriptions = wanted.values.map(\.subscription).sorted { $0.endpoint < $1.endpoint }
            _ = try await store.fanOutEvents(to: subscriptions, at: Date())
        }
        return (added, changed, removed)
    }

    /// The configured endpoints' names.
    public var endpointNames: [String] { endpoints.withLock { $0.keys.sorted() } }

    private struct Key: Hashable, Sendable {
        var endpoint: String
        var sequence: Int64
    }

    /// Runs until the task is cancelled; requests in flight then are abandoned and stay pending. While no endpoint
    /// is configured it only waits (no store access) for `update` to add one.
    public func run() async {
        var configuration = HTTPClient.Configuration(redirectConfiguration: .disallow)
        configuration.timeout.connect = .seconds(5)
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        await withTaskGroup(of: Key?.self) { group in
            var inFlight = Set<Key>()
            var ticking = false
            var lastPrune = ContinuousClock.now - .seconds(3600)
            while !Task.isCancelled {
                let endpoints = self.endpoints.withLock { $0 }
                let subscriptions = endpoints.values.map(\.subscription).sorted { $0.endpoint < $1.endpoint }
                do {
                    if !subscriptions.isEmpty {
                        _ = try await store.fanOutEvents(to: subscriptions, at: Date())
                    }
                    let capacity = settings.maximumConcurrentRequests - inFlight.count
                    if capacity > 0, !subscriptions.isEmpty {
                        // Only the configured endpoints' deliveries: a removed endpoint's cannot hold the others up.
                        let due = try await store.dueWebhookDeliveries(
                            at: Date(), limit: settings.maximumConcurrentRequests + inFlight.count,
                            endpoints: subscriptions.map(\.endpoint))
                        for delivery in due {
                            let key = Key(endpoint: delivery.endpoint, sequence: delivery.sequence)
                            guard inFlight.count < settings.maximumConcurrentRequests, !inFlight.contains(key),
                                let endpoint = endpoints[delivery.endpoint]
                            else { continue }
                            inFlight.insert(key)
                            group.addTask { [self] in
                                await attempt(delivery, endpoint: endpoint, client: client)
                                return key
                            }
                        }
                    }
                    if ContinuousClock.now - lastPrune > .seconds(3600) {
                        lastPrune = .now
                        let removed = try await store.pruneOutbox(
                            before: Date().addingTimeInterval(-settings.retention.seconds),
                            endpoints: subscriptions.map(\.endpoint))
                        if removed > 0 { logger.info("outbox pruned", metadata: ["events": "\(removed)"]) }
                    }
                } catch {
                    logger.error("webhook outbox unreadable", metadata: ["error": "\(error)"])
                }
                // Wake at the next finished request or the next poll, whichever comes first.
                if !ticking {
                    ticking = true
                    let interval = settings.pollInterval
                    group.addTask {
                        try? await Task.sleep(for: interval)
                        return nil
                    }
                }
                guard let finished = await group.next() else { break }
                if let key = finished { inFlight.remove(key) } else { ticking = false }
            }
            group.cancelAll()
        }
        try? await client.shutdown()
    }

    /// One attempt of one delivery, its outcome written to the store. Cancelled (shutdown): nothing is written,
    /// the delivery stays pending and is sent again after the restart.
    private func attempt(_ delivery: WebhookDeliveryRecord, endpoint: WebhookEndpoint, client: HTTPClient) async {
        let outcome: WebhookAttemptOutcome
        let metadata: Logger.Metadata = [
            "endpoint": "\(endpoint.name)", "event": "\(delivery.eventID)", "type": "\(delivery.type)",
            "attempt": "\(delivery.attempts + 1)",
        ]
        do {
            guard let event = try await store.outboxEvent(sequence: delivery.sequence) else {
                throw WebhookBodyError(eventID: delivery.eventID, reason: "the event is no longer in the outbox")
            }
            var texts: (text: String, strippedText: String)?
            if let articleID = event.articleID { texts = try await store.articleTexts(articleID: articleID) }
            let body = try WebhookEventBody.encode(event, texts: texts)
            let (status, failure) = await send(body, eventID: event.eventID, to: endpoint, client: client)
            if Task.isCancelled { return }
            if let status, (200..<300).contains(status) {
                outcome = .delivered(status: status)
                logger.debug("webhook delivered", metadata: metadata.merging(["status": "\(status)"]) { $1 })
            } else {
                let error = failure ?? "HTTP \(status ?? 0)"
                var retry = settings.retry
                if let attempts = endpoint.maximumAttempts { retry.maximumAttempts = attempts }
                if let delay = retry.delay(afterAttempts: delivery.attempts + 1) {
                    outcome = .retry(next: Date().addingTimeInterval(delay.seconds), status: status, error: error)
                    logger.warning(
                        "webhook delivery failed, will retry",
                        metadata: metadata.merging(["error": "\(error)", "retry-in": "\(delay)"]) { $1 })
                } else {
                    outcome = .failed(status: status, error: error)
                    logger.error(
                        "webhook delivery failed for good (postdesk webhooks failed)",
                        metadata: metadata.merging(["error": "\(error)"]) { $1 })
                }
            }
        } catch let error as WebhookBodyError {
            outcome = .failed(status: nil, error: error.description)
            logger.error("webhook event cannot be sent", metadata: metadata.merging(["error": "\(error)"]) { $1 })
        } catch {
            // The store could not be read: the delivery stays as it is and is picked up at the next poll.
            logger.error("webhook event unreadable", metadata: metadata.merging(["error": "\(error)"]) { $1 })
            return
        }
        do {
            try await store.recordWebhookAttempt(
                endpoint: delivery.endpoint, sequence: delivery.sequence, outcome: outcome, at: Date())
        } catch {
            logger.error(
                "webhook attempt not recorded; it will be repeated",
                metadata: metadata.merging(["error": "\(error)"]) { $1 })
        }
    }

    /// Posts one signed request. Returns the receiver's status, or nil and why there was none.
    private func send(
        _ body: [UInt8], eventID: String, to endpoint: WebhookEndpoint, client: HTTPClient
    ) async -> (status: Int?, failure: String?) {
        let timestamp = Int(Date().timeIntervalSince1970)
        var request = HTTPClientRequest(url: endpoint.url.absoluteString)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "User-Agent", value: "Postdesk-Webhooks/1")
        request.headers.add(name: "webhook-id", value: eventID)
        request.headers.add(name: "webhook-timestamp", value: String(timestamp))
        request.headers.add(
            name: "webhook-signature", value: endpoint.signer.signature(id: eventID, timestamp: timestamp, body: body))
        request.body = .bytes(ByteBuffer(bytes: body))
        let (seconds, attoseconds) = endpoint.timeout.components
        let timeout = TimeAmount.nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
        do {
            let response = try await client.execute(request, timeout: timeout)
            // Read (and bound) the answer: a few hundred bytes of it explain a failure in `webhooks failed`.
            var answer: [UInt8] = []
            for try await chunk in response.body where answer.count < 300 {
                answer += chunk.readableBytesView.prefix(300 - answer.count)
            }
            let status = Int(response.status.code)
            if (200..<300).contains(status) { return (status, nil) }
            let text = String(decoding: answer, as: UTF8.self).filter { !$0.isNewline }
            return (status, "HTTP \(status)" + (text.isEmpty ? "" : ": \(text)"))
        } catch {
            return (nil, String("\(error)".prefix(500)))
        }
    }
}
