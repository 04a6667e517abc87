import Crypto
import Foundation
import MailClassification
import MailParser

/// Turns an `OutgoingMail` into the bytes of an RFC 5322 / MIME message: UTF-8 text as quoted-printable, an HTML
/// alternative as multipart/alternative, non-ASCII subjects and display names as RFC 2047 encoded words, lines
/// ending in CRLF. Pure: the same mail gives the same bytes (the boundary derives from the Message-ID).
public enum MIMEComposer {
    /// The composed message. O(n) in the subject, names and bodies.
    public static func compose(_ mail: OutgoingMail) -> [UInt8] {
        var header = HeaderFieldWriter()
        header.field("Date", MailDateFormat.string(mail.date))
        header.field("From", words: mailboxWords([mail.from]))
        header.field("To", words: mailboxWords(mail.to))
        if !mail.cc.isEmpty { header.field("Cc", words: mailboxWords(mail.cc)) }
        header.field("Subject", words: unstructuredWords(mail.subject, fieldName: "Subject"))
        header.field("Message-ID", "<\(mail.messageID)>")
        if let inReplyTo = mail.inReplyTo { header.field("In-Reply-To", "<\(inReplyTo)>") }
        if !mail.references.isEmpty { header.field("References", words: mail.references.map { "<\($0)>" }) }
        if mail.autoSubmitted {
            header.field("Auto-Submitted", "auto-replied")
            header.field("X-Auto-Response-Suppress", "All")
        }
        if let instance = mail.loopInstance, !instance.isEmpty {
            header.field(OwnMailConfiguration.loopHeaderName, instance)
        }
        header.field("MIME-Version", "1.0")
        var output = header.bytes
        guard let html = mail.html else {
            output.append(contentsOf: textPartHeader("plain"))
            output.append(contentsOf: [0x0D, 0x0A])
            output.append(contentsOf: QuotedPrintableEncoder.encode(mail.text))
            output.append(contentsOf: [0x0D, 0x0A])
            return output
        }
        let boundary = boundary(for: mail.messageID)
        output.append(contentsOf: "Content-Type: multipart/alternative; boundary=\"\(boundary)\"\r\n\r\n".utf8)
        for (subtype, body) in [("plain", mail.text), ("html", html)] {
            output.append(contentsOf: "--\(boundary)\r\n".utf8)
            output.append(contentsOf: textPartHeader(subtype))
            output.append(contentsOf: [0x0D, 0x0A])
            output.append(contentsOf: QuotedPrintableEncoder.encode(body))
            output.append(contentsOf: [0x0D, 0x0A])
        }
        output.append(contentsOf: "--\(boundary)--\r\n".utf8)
        return output
    }

    private static func textPartHeader(_ subtype: String) -> [UInt8] {
        Array("Content-Type: text/\(subtype); charset=UTF-8\r\nContent-Transfer-Encoding: quoted-printable\r\n".utf8)
    }

    /// `=_` never occurs in quoted-printable output (`=` is always followed by hex digits or a line break), so
    /// the boundary cannot occur in a part.
    static func boundary(for messageID: String) -> String {
        "=_pd_" + HexEncoding.lowercase(SHA256.hash(data: Array(messageID.utf8)).prefix(12))
    }

    /// An unstructured value (Subject) as words for folding: ASCII words stay readable (the `[Tag #N]` too);
    /// each run of words that are not plain ASCII (or contain `=?`, or are too long for one line) becomes
    /// encoded words, its inner spaces encoded, so decoding gives the text back exactly. O(n) in the value.
    static func unstructuredWords(_ value: String, fieldName: String) -> [String] {
        let cleaned = String(
            decoding: value.utf8.map { $0 < 0x20 || $0 == 0x7F ? UInt8(ascii: " ") : $0 }, as: UTF8.self)
        let plain = cleaned.split(separator: " ", omittingEmptySubsequences: false)
        var words: [String] = []
        var run: [Substring] = []
        func flushRun() {
            guard !run.isEmpty else { return }
            let firstLimit = words.isEmpty ? HeaderFieldWriter.lineLimit - fieldName.utf8.count - 2 : 75
            words.append(contentsOf: EncodedWordEncoder.encode(run.joined(separator: " "), firstLimit: firstLimit))
            run.removeAll()
        }
        for word in plain {
            let needsEncoding =
                word.utf8.contains { $0 >= 0x80 } || word.contains("=?") || word.utf8.count > 70
            if needsEncoding {
                run.append(word)
            } else {
                flushRun()
                words.append(String(word))
            }
        }
        flushRun()
        return words
    }

    /// Mailboxes `Name <address>` separated by commas, as words for folding.
    static func mailboxWords(_ mailboxes: [MailAddress]) -> [String] {
        var words: [String] = []
        for (index, mailbox) in mailboxes.enumerated() {
            var mailboxWords = phraseWords(mailbox.name ?? "")
            mailboxWords.append("<\(mailbox.address)>")
            if index < mailboxes.count - 1 { mailboxWords[mailboxWords.count - 1] += "," }
            words.append(contentsOf: mailboxWords)
        }
        return words
    }

    /// A display name: atoms as they are, other ASCII as a quoted string, anything else as encoded words
    /// (Q uses only the characters RFC 2047 allows in a phrase).
    static func phraseWords(_ name: String) -> [String] {
        let trimmed = String(ByteText.trimmed(name)).map { $0.isNewline || $0 == "\t" ? " " : $0 }
        let text = String(trimmed)
        guard !text.isEmpty else { return [] }
        let bytes = Array(text.utf8)
        if bytes.contains(where: { $0 >= 0x80 || $0 < 0x20 || $0 == 0x7F }) || text.contains("=?") {
            return EncodedWordEncoder.encode(text)
        }
        if bytes.allSatisfy({ isAtext($0) || $0 == 0x20 }) {
            return text.split(separator: " ").map(String.init)
        }
        var quoted = "\""
        for character in text {
            if character == "\"" || character == "\\" { quoted.append("\\") }
            quoted.append(character)
        }
        return [quoted + "\""]
    }

    private static func isAtext(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"):
            true
        default: "!#$%&'*+-/=?^_`{|}~".utf8.contains(byte)
        }
    }
}
