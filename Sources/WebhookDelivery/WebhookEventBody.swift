import Foundation
import TicketPipeline

/// The JSON body of a delivered event, Standard Webhooks' shape: `{"data": {...}, "timestamp": RFC 3339,
/// "type": "ticket.created"}`. Keys sorted and UTF-8 kept, so the same event always has the same bytes: the
/// stored data, plus the article's `text` and `stripped_text` rendered from the stored article.
public enum WebhookEventBody {
    public static func encode(
        _ event: OutboxEventRecord, texts: (text: String, strippedText: String)?
    ) throws -> [UInt8] {
        guard var data = try JSONSerialization.jsonObject(with: Data(event.payload.utf8)) as? [String: Any] else {
            throw WebhookBodyError(eventID: event.eventID, reason: "its stored data is not a JSON object")
        }
        if let texts, var article = data["article"] as? [String: Any] {
            article["text"] = texts.text
            article["stripped_text"] = texts.strippedText
            data["article"] = article
        }
        let document: [String: Any] = [
            "type": event.type, "timestamp": timestamp(event.createdAt), "data": data,
        ]
        return Array(
            try JSONSerialization.data(withJSONObject: document, options: [.sortedKeys, .withoutEscapingSlashes]))
    }

    static func timestamp(_ date: Date) -> String {
        date.formatted(.iso8601)
    }
}

/// An event that cannot be turned into a request body (its stored data is damaged): a dead letter at once.
public struct WebhookBodyError: Error, Sendable, CustomStringConvertible {
    public var eventID: String
    public var reason: String

    public var description: String { "event \(eventID): \(reason)" }
}
