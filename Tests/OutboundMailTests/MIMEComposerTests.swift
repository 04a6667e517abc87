import Foundation
import MailParser
import Testing

@testable import OutboundMail

@Suite("MIME composition: exact bytes for non-ASCII mail, and MailParser reads back the same text")
struct MIMEComposerTests {
    static let date = Date(timeIntervalSince1970: 1_796_463_600)  // Sat, 05 Dec 2026 09:40:00 +0000

    static func mail(subject: String, name: String?, text: String, html: String? = nil) -> OutgoingMail {
        OutgoingMail(
            from: MailAddress(name: "Support", address: "support@example.com"),
            to: [MailAddress(name: name, address: "kunde@example.org")], subject: subject, text: text, html: html,
            messageID: "T12.A3.0123456789abcdef01234567@example.com", inReplyTo: "orig@example.org",
            references: ["first@example.org", "orig@example.org"], date: date, autoSubmitted: true,
            loopInstance: "desk.example.com")
    }

    @Test func composesAnAcknowledgementExactly() {
        let bytes = MIMEComposer.compose(
            Self.mail(subject: "[Support #12] Grüße aus Köln", name: "Jürgen Groß", text: "Hallo Jürgen,\nDanke.\n"))
        let expected =
            "Date: Sat, 05 Dec 2026 09:40:00 +0000\r\n"
            + "From: Support <support@example.com>\r\n"
            + "To: =?UTF-8?B?SsO8cmdlbiBHcm/Dnw==?= <kunde@example.org>\r\n"
            + "Subject: [Support #12] =?UTF-8?B?R3LDvMOfZQ==?= aus =?UTF-8?B?S8O2bG4=?=\r\n"
            + "Message-ID: <T12.A3.0123456789abcdef01234567@example.com>\r\n"
            + "In-Reply-To: <orig@example.org>\r\n"
            + "References: <first@example.org> <orig@example.org>\r\n"
            + "Auto-Submitted: auto-replied\r\n"
            + "X-Auto-Response-Suppress: All\r\n"
            + "X-Postdesk-Loop: desk.example.com\r\n"
            + "MIME-Version: 1.0\r\n"
            + "Content-Type: text/plain; charset=UTF-8\r\n"
            + "Content-Transfer-Encoding: quoted-printable\r\n"
            + "\r\n"
            + "Hallo J=C3=BCrgen,\r\nDanke.\r\n\r\n"
        #expect(String(decoding: bytes, as: UTF8.self) == expected)
        let parsed = MessageParser.parse(bytes)
        #expect(parsed.subject == "[Support #12] Grüße aus Köln")
        #expect(parsed.to.first?.name == "Jürgen Groß")
        #expect(parsed.to.first?.address == "kunde@example.org")
        #expect(parsed.messageID == "T12.A3.0123456789abcdef01234567@example.com")
        #expect(parsed.inReplyTo == ["orig@example.org"])
        #expect(parsed.text.hasPrefix("Hallo Jürgen,\nDanke."))
    }

    @Test func longSubjectsSplitIntoWordsOnCharacterBoundaries() {
        let subject = "[Support #7] " + String(repeating: "日本語のお問い合わせ、", count: 6) + " 👩‍👩‍👧‍👦 done"
        let bytes = MIMEComposer.compose(Self.mail(subject: subject, name: nil, text: "x"))
        let text = String(decoding: bytes, as: UTF8.self)
        let header = text.components(separatedBy: "\r\n\r\n")[0]
        for line in header.components(separatedBy: "\r\n") {
            #expect(line.utf8.count <= 78, "line too long: \(line)")
        }
        // Every encoded word is at most 75 characters and decodes on its own to whole characters.
        let words = header.split(whereSeparator: { $0 == " " || $0 == "\r\n" }).filter { $0.hasPrefix("=?UTF-8?") }
        #expect(words.count > 3)
        for word in words {
            #expect(word.utf8.count <= 75)
            let single = MessageParser.parse(Array("Subject: \(word)\r\n\r\n".utf8))
            #expect(single.subject?.contains("\u{FFFD}") == false)
        }
        #expect(MessageParser.parse(bytes).subject == subject)
    }

    @Test func qOrBIsChosenByLengthAndNamesNeedingQuotesAreQuoted() {
        #expect(
            EncodedWordEncoder.encode("Ich möchte bitte eine Rechnung")
                == ["=?UTF-8?Q?Ich_m=C3=B6chte_bitte_eine_Rechnung?="])
        #expect(EncodedWordEncoder.encode("Ωμέγα") == ["=?UTF-8?B?zqnOvM6tzrPOsQ==?="])
        #expect(MIMEComposer.phraseWords("Doe, John") == ["\"Doe, John\""])
        #expect(MIMEComposer.phraseWords("Say \"hi\"") == ["\"Say \\\"hi\\\"\""])
        #expect(MIMEComposer.phraseWords("Ann Lee") == ["Ann", "Lee"])
        // A subject cannot smuggle a header field in with a line break.
        let bytes = MIMEComposer.compose(
            Self.mail(subject: "Hi\r\nBcc: victim@example.net", name: nil, text: "x"))
        let parsed = MessageParser.parse(bytes)
        #expect(parsed.headers.contains { $0.name.lowercased() == "bcc" } == false)
    }

    @Test func quotedPrintableKeepsLinesShortEscapesTrailingBlanksAndLeadingDots() {
        let long = String(repeating: "ä", count: 40) + " end"
        let encoded = String(decoding: QuotedPrintableEncoder.encode(long + "\n.hidden\nFrom me \nlast"), as: UTF8.self)
        for line in encoded.components(separatedBy: "\r\n") { #expect(line.utf8.count <= 76) }
        #expect(encoded.contains("\r\n=2Ehidden\r\n=46rom me=20\r\nlast"))
        let message = MIMEComposer.compose(Self.mail(subject: "s", name: nil, text: long + "\n.hidden\nFrom me \nlast"))
        #expect(MessageParser.parse(message).text.hasPrefix(long + "\n.hidden\nFrom me \nlast"))
    }

    @Test func htmlMakesMultipartAlternative() {
        let bytes = MIMEComposer.compose(
            Self.mail(subject: "Ticket", name: "Zoë", text: "Grüße", html: "<p>Grüße</p>"))
        let parsed = MessageParser.parse(bytes)
        #expect(parsed.text.hasPrefix("Grüße"))
        #expect(parsed.html?.contains("<p>Grüße</p>") == true)
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(text.contains("Content-Type: multipart/alternative; boundary=\"=_pd_"))
    }
}
