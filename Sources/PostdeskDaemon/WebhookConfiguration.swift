import Foundation
import Logging
import TicketPipeline
import TicketStoreSQLite
import WebhookDelivery

/// One `webhooks:` entry: a receiver of the outbox's events. The secret is read when the daemon starts.
public struct WebhookSettings: Sendable, Hashable {
    public var name: String
    public var url: URL
    /// The event types sent; nil: all of them.
    public var events: Set<OutboxEventType>?
    /// The signing secret's file: `whsec_<base64>` (Standard Webhooks) or at least 16 characters.
    public var secretFile: String
    /// Seconds one request may take.
    public var timeout: Int
    /// Attempts before a delivery is given up (a dead letter); the default, 18, spreads them over about a day.
    public var maxAttempts: Int

    public init(
        name: String, url: URL, events: Set<OutboxEventType>?, secretFile: String, timeout: Int = 10,
        maxAttempts: Int = 18
    ) {
        self.maxAttempts = maxAttempts
        self.name = name
        self.url = url
        self.events = events
        self.secretFile = secretFile
        self.timeout = timeout
    }

    /// The endpoint the worker sends to, with its secret read from `secretFile`.
    public func endpoint() throws(WebhookConfigurationError) -> WebhookEndpoint {
        let secret: String
        do {
            secret = try String(contentsOfFile: secretFile, encoding: .utf8)
        } catch {
            throw WebhookConfigurationError(webhook: name, reason: "secret_file \(secretFile) cannot be read: \(error)")
        }
        do {
            return WebhookEndpoint(
                name: name, url: url, events: events, signer: try WebhookSigner(secret: secret),
                timeout: .seconds(timeout), maximumAttempts: maxAttempts)
        } catch {
            throw WebhookConfigurationError(webhook: name, reason: "secret_file \(secretFile): \(error)")
        }
    }
}

/// Why a configured webhook cannot be used; names the webhook, never shows its secret.
public struct WebhookConfigurationError: Error, Sendable, CustomStringConvertible {
    public var webhook: String
    public var reason: String

    public var description: String { "webhooks.\(webhook): \(reason)" }
}

extension ValidatingReader {
    /// `webhooks.names` and `webhooks.<name>.*` (or a `webhooks:` list of mappings with `name`): the receivers of
    /// events. Every problem is reported with its key; the secret file is only checked to be readable here.
    mutating func webhooks() -> [WebhookSettings] {
        var result: [WebhookSettings] = []
        for name in stringArray("webhooks.names") {
            guard !name.isEmpty, name != "names",
                name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" })
            else {
                fail("webhooks.names", "'\(name)' is not a valid webhook name (letters, digits, - and _)")
                continue
            }
            if let webhook = webhook(name) { result.append(webhook) }
        }
        return result
    }

    private mutating func webhook(_ name: String) -> WebhookSettings? {
        let prefix = "webhooks.\(name)."
        var valid = true
        func check(_ condition: Bool, _ key: String, _ message: @autoclosure () -> String) {
            if !condition {
                fail(prefix + key, message())
                valid = false
            }
        }
        let urlText = string(prefix + "url")
        let url = URL(string: urlText)
        let scheme = url?.scheme?.lowercased()
        let host = url?.host ?? ""
        check(
            url != nil && !host.isEmpty && (scheme == "https" || scheme == "http"), "url",
            "must be an https:// URL, got '\(urlText)'")
        if scheme == "http" {
            check(
                Self.isLoopback(host), "url",
                "http:// sends events in clear: allowed only for a loopback host, not '\(host)'; use https://")
        }
        var events: Set<OutboxEventType>?
        let eventNames = stringArray(prefix + "events")
        if eventNames.isEmpty {
            noteDefault(prefix + "events", "all")
        } else {
            var chosen = Set<OutboxEventType>()
            for eventName in eventNames {
                if let type = OutboxEventType(rawValue: eventName) {
                    chosen.insert(type)
                } else {
                    check(
                        false, "events",
                        "unknown event '\(eventName)'; known: "
                            + OutboxEventType.allCases.map(\.rawValue).joined(separator: ", "))
                }
            }
            events = chosen
        }
        let secretFile = string(prefix + "secret_file")
        check(!secretFile.isEmpty, "secret_file", "is required: the file holding the signing secret")
        if !secretFile.isEmpty {
            check(FileManager.default.isReadableFile(atPath: secretFile), "secret_file", "cannot read \(secretFile)")
        }
        let timeout = optionalInt(prefix + "timeout", default: 10, minimum: 1)
        let maxAttempts = optionalInt(prefix + "max_attempts", default: 18, minimum: 1)
        guard valid, let url else { return nil }
        return WebhookSettings(
            name: name, url: url, events: events, secretFile: secretFile, timeout: timeout, maxAttempts: maxAttempts)
    }
}

extension PostdeskConfiguration {
    /// Whether changes write outbox events: webhooks are configured. The one switch for the pipeline
    /// (`PipelineSettings.recordsEvents`) and the store's own changes (`SQLiteTicketStore.recordsEvents`).
    public var recordsEvents: Bool { !webhooks.isEmpty }

    /// The webhook worker for the configured endpoints (secrets read now); with none, it waits for a reload to
    /// add one (`WebhookDeliveryWorker.update`).
    public func makeWebhookWorker(store: SQLiteTicketStore, logger: Logger) throws -> WebhookDeliveryWorker {
        var webhookLogger = logger
        webhookLogger[metadataKey: "component"] = "webhooks"
        return WebhookDeliveryWorker(store: store, endpoints: try webhookEndpoints(), logger: webhookLogger)
    }

    /// The configured endpoints, their secret files read now.
    public func webhookEndpoints() throws -> [WebhookEndpoint] {
        try webhooks.map { try $0.endpoint() }
    }
}
