import Foundation

extension ParsedMessage {
    /// The stable JSON document printed by `postdesk parse FILE.eml --json`. One object, keys sorted:
    ///
    /// ```
    /// {
    ///   "attachments": [{"content_id": string|null, "content_type": "type/subtype",
    ///                    "disposition": "attachment"|"inline"|null, "filename": string|null,
    ///                    "sha256": lower-case hex, "size": bytes}],
    ///   "cc": [{"address": string, "name": string|null}],
    ///   "date": "2006-01-02T15:04:05Z" (RFC 3339, UTC) | null,
    ///   "from": [...], "html": string|null,
    ///   "in_reply_to": [message ids without angle brackets],
    ///   "message_id": string|null, "references": [...], "reply_to": [...],
    ///   "subject": string|null, "text": string, "to": [...]
    /// }
    /// ```
    public func jsonData(prettyPrinted: Bool = true) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting =
            prettyPrinted
            ? [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes] : [.sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(MessageDocument(self))
    }
}

/// The JSON shape of a `ParsedMessage`; absent values are written as `null`, never omitted.
struct MessageDocument: Encodable {
    struct Address: Encodable {
        var name: String?
        var address: String

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(name, forKey: .name)
            try container.encode(address, forKey: .address)
        }

        enum CodingKeys: String, CodingKey { case name, address }
    }

    struct Attachment: Encodable {
        var filename: String?
        var contentType: String
        var size: Int
        var sha256: String
        var contentID: String?
        var disposition: String?

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(filename, forKey: .filename)
            try container.encode(contentType, forKey: .contentType)
            try container.encode(size, forKey: .size)
            try container.encode(sha256, forKey: .sha256)
            try container.encode(contentID, forKey: .contentID)
            try container.encode(disposition, forKey: .disposition)
        }

        enum CodingKeys: String, CodingKey {
            case filename, size, sha256, disposition
            case contentType = "content_type"
            case contentID = "content_id"
        }
    }

    var messageID: String?
    var subject: String?
    var date: String?
    var from: [Address]
    var to: [Address]
    var cc: [Address]
    var replyTo: [Address]
    var inReplyTo: [String]
    var references: [String]
    var text: String
    var html: String?
    var attachments: [Attachment]

    init(_ message: ParsedMessage) {
        func addresses(_ list: [MailAddress]) -> [Address] { list.map { Address(name: $0.name, address: $0.address) } }
        messageID = message.messageID
        subject = message.subject
        date = message.date.map(DateHeaderParser.rfc3339UTC)
        from = addresses(message.from)
        to = addresses(message.to)
        cc = addresses(message.cc)
        replyTo = addresses(message.replyTo)
        inReplyTo = message.inReplyTo
        references = message.references
        text = message.text
        html = message.html
        attachments = message.attachments.map {
            Attachment(
                filename: $0.filename, contentType: $0.contentType, size: $0.size, sha256: $0.sha256,
                contentID: $0.contentID, disposition: $0.disposition)
        }
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(messageID, forKey: .messageID)
        try container.encode(subject, forKey: .subject)
        try container.encode(date, forKey: .date)
        try container.encode(from, forKey: .from)
        try container.encode(to, forKey: .to)
        try container.encode(cc, forKey: .cc)
        try container.encode(replyTo, forKey: .replyTo)
        try container.encode(inReplyTo, forKey: .inReplyTo)
        try container.encode(references, forKey: .references)
        try container.encode(text, forKey: .text)
        try container.encode(html, forKey: .html)
        try container.encode(attachments, forKey: .attachments)
    }

    enum CodingKeys: String, CodingKey {
        case subject, date, from, to, cc, references, text, html, attachments
        case messageID = "message_id"
        case replyTo = "reply_to"
        case inReplyTo = "in_reply_to"
    }
}
