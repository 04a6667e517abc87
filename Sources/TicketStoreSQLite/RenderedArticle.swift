import Foundation
import MailParser

/// How an article reads: its text, its HTML, the reply's new part (`strippedText`: quoted history and signature
/// removed) and the SHA-256 of its raw message. The one rendering behind the API, `tickets show` and webhooks.
public struct RenderedArticle: Sendable, Hashable {
    public var text: String
    public var html: String?
    public var strippedText: String
    public var rawSHA256: String

    /// An article stored once, as its raw message (ordinary mail): parsed the way intake parsed it, and hashed.
    /// O(raw): one parse and one hash of the bytes.
    public init(raw: [UInt8]) {
        let parsed = MessageParser.parse(raw)
        text = parsed.text
        html = parsed.html
        strippedText = parsed.strippedText
        rawSHA256 = sha256Hex(raw)
    }

    /// An article whose text was stored (notes, API replies, command results): plain text written as it is meant
    /// to be read, so only its new part is computed. O(text).
    public init(storedText: String, html: String?, rawSHA256: String) {
        text = storedText
        self.html = html
        strippedText = QuoteStripping.strippedText(storedText, htmlForText: nil, limits: .default)
        self.rawSHA256 = rawSHA256
    }

    /// What the cache counts for it: the UTF-8 bytes of its strings.
    var cost: Int { text.utf8.count + (html?.utf8.count ?? 0) + strippedText.utf8.count + rawSHA256.utf8.count }
}
