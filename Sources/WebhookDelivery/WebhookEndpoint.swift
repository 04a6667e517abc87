import Foundation
import TicketPipeline

/// One configured receiver (`webhooks:` entry): where to send, which events, how to sign.
public struct WebhookEndpoint: Sendable {
    public var name: String
    public var url: URL
    /// Event types sent to it; nil: all of them.
    public var events: Set<OutboxEventType>?
    public var signer: WebhookSigner
    /// How long one request may take, connection included.
    public var timeout: Duration
    /// Attempts before a delivery becomes a dead letter; nil: the worker's retry policy decides.
    public var maximumAttempts: Int?

    public init(
        name: String, url: URL, events: Set<OutboxEventType>?, signer: WebhookSigner, timeout: Duration = .seconds(10),
        maximumAttempts: Int? = nil
    ) {
        self.maximumAttempts = maximumAttempts
        self.name = name
        self.url = url
        self.events = events
        self.signer = signer
        self.timeout = timeout
    }

    /// Whether `other` is configured the same: URL, events, secret, timeout and attempts.
    func sameSettings(as other: WebhookEndpoint) -> Bool {
        url == other.url && events == other.events && signer.hasSameKey(as: other.signer)
            && timeout == other.timeout && maximumAttempts == other.maximumAttempts
    }

    var subscription: WebhookSubscription {
        WebhookSubscription(endpoint: name, events: events.map { Set($0.map(\.rawValue)) })
    }
}
