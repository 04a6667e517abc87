import Foundation

/// A mailbox as it appears in an address header: `"Name" <address>`.
public struct MailAddress: Sendable, Hashable, Codable {
    /// The decoded display name, if any.
    public var name: String?
    /// The addr-spec (`local@domain`), without angle brackets.
    public var address: String

    public init(name: String?, address: String) {
        self.name = name
        self.address = address
    }
}

/// One attachment (or inline part) of a message, with its decoded bytes or, when it is large, where to decode
/// them from.
public struct ParsedAttachment: Sendable, Hashable {
    public var filename: String?
    /// `type/subtype`, lower-cased, without parameters.
    public var contentType: String
    /// The decoded content; empty when `deferred` is set.
    public var data: [UInt8]
    /// Set for an attachment too large to copy (`ParserLimits.maxInMemoryAttachmentBytes`): its encoded bytes
    /// in the raw message, decoded in chunks by whoever stores it.
    public var deferred: DeferredContent?
    /// Size of the decoded content in octets.
    public var size: Int
    /// Lower-case hex SHA-256 of the decoded content.
    public var sha256: String
    /// The Content-ID without angle brackets.
    public var contentID: String?
    /// `attachment` or `inline`, when the part said so.
    public var disposition: String?

    public init(
        filename: String?, contentType: String, data: [UInt8], sha256: String, contentID: String?,
        disposition: String?
    ) {
        self.filename = filename
        self.contentType = contentType
        self.data = data
        self.deferred = nil
        self.size = data.count
        self.sha256 = sha256
        self.contentID = contentID
        self.disposition = disposition
    }

    /// An attachment whose content stays in the raw message.
    public init(
        filename: String?, contentType: String, deferred: DeferredContent, size: Int, sha256: String,
        contentID: String?, disposition: String?
    ) {
        self.filename = filename
        self.contentType = contentType
        self.data = []
        self.deferred = deferred
        self.size = size
        self.sha256 = sha256
        self.contentID = contentID
        self.disposition = disposition
    }
}

/// One raw header field, unfolded, value not decoded.
public struct HeaderField: Sendable, Hashable {
    public var name: String
    public var value: String

    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }
}

/// Everything Postdesk reads out of one RFC 5322 message. Parsing never fails: a malformed
/// message yields what could be read, plus `defects` saying what was wrong.
public struct ParsedMessage: Sendable, Hashable {
    /// Message-ID without angle brackets.
    public var messageID: String?
    public var subject: String?
    public var date: Date?
    public var from: [MailAddress]
    public var to: [MailAddress]
    public var cc: [MailAddress]
    public var replyTo: [MailAddress]
    /// Message-IDs without angle brackets.
    public var inReplyTo: [String]
    /// Message-IDs without angle brackets, oldest first.
    public var references: [String]
    /// The readable text body: text/plain preferred, else HTML turned into text.
    public var text: String
    /// The HTML body, if the message had one.
    public var html: String?
    public var attachments: [ParsedAttachment]
    /// The top-level header fields in order, unfolded.
    public var headers: [HeaderField]
    /// Human-readable notes on malformed input that was tolerated.
    public var defects: [String]
    /// `text` without quoted history and signature (the new content of a reply).
    public var strippedText: String
    /// Messages attached as `message/rfc822` (forwards, bounces), parsed recursively. Each is also in
    /// `attachments` as its raw `.eml` bytes.
    public var attachedMessages: [ParsedMessage]

    public init(
        messageID: String? = nil, subject: String? = nil, date: Date? = nil, from: [MailAddress] = [],
        to: [MailAddress] = [], cc: [MailAddress] = [], replyTo: [MailAddress] = [], inReplyTo: [String] = [],
        references: [String] = [], text: String = "", html: String? = nil, attachments: [ParsedAttachment] = [],
        headers: [HeaderField] = [], defects: [String] = [], strippedText: String? = nil,
        attachedMessages: [ParsedMessage] = []
    ) {
        self.messageID = messageID
        self.subject = subject
        self.date = date
        self.from = from
        self.to = to
        self.cc = cc
        self.replyTo = replyTo
        self.inReplyTo = inReplyTo
        self.references = references
        self.text = text
        self.html = html
        self.attachments = attachments
        self.headers = headers
        self.defects = defects
        self.strippedText = strippedText ?? text
        self.attachedMessages = attachedMessages
    }

    /// The first value of a top-level header field, case-insensitive, unfolded and raw.
    public func header(_ name: String) -> String? {
        headers.first { $0.name.caseInsensitiveCompare(name) == .orderedSame }?.value
    }
}
