import Foundation
import Testing

@testable import MailParser

/// Builds a message from lines joined with CRLF.
func message(_ lines: String...) -> [UInt8] {
    Array(lines.joined(separator: "\r\n").utf8)
}

@Suite("Headers, encoded words, addresses, identifiers, dates")
struct HeaderParsingTests {
    @Test func foldedHeadersAreUnfoldedAndLookupIgnoresCase() {
        let parsed = MessageParser.parse(
            message(
                "SUBJECT: a long", "\tsubject line", "X-Custom: one", " two", "From: a@example.com", "", "body"))
        #expect(parsed.subject == "a long subject line")
        #expect(parsed.header("x-custom") == "one two")
        #expect(parsed.header("Subject") == "a long\tsubject line")
        #expect(parsed.text == "body")
    }

    @Test func encodedWordsAreDecodedAndAdjacentWordsJoined() {
        let parsed = MessageParser.parse(
            message(
                "Subject: =?UTF-8?B?SGVsbG8g?= =?utf-8?Q?W=C3=B6rld?=", " =?ISO-8859-1?Q?_caf=E9?= plain",
                "", ""))
        #expect(parsed.subject == "Hello Wörld café plain")
    }

    @Test func multibyteCharacterSplitAcrossEncodedWords() {
        // "é" (C3 A9) split between two base64 words.
        let parsed = MessageParser.parse(message("Subject: =?utf-8?B?w6ljYcOp?= =?utf-8?B?w6k=?=", "", ""))
        #expect(parsed.subject == "écaéé")
        let split = MessageParser.parse(message("Subject: =?utf-8?Q?caf=C3?= =?utf-8?Q?=A9?=", "", ""))
        #expect(split.subject == "café")
    }

    @Test func encodedWordWithLanguageAndISO2022JP() {
        let parsed = MessageParser.parse(
            message("Subject: =?ISO-2022-JP?B?GyRCJDMkcyRLJEEkTxsoQg==?= =?US-ASCII*EN?Q?Hi?=", "", ""))
        #expect(parsed.subject == "こんにちはHi")
    }

    @Test func rawUTF8AndRawLegacyHeaders() {
        var raw = Array("Subject: Grüße\r\nContent-Type: text/plain; charset=koi8-r\r\n\r\n".utf8)
        #expect(MessageParser.parse(raw).subject == "Grüße")
        // KOI8-R "Привет" as raw 8-bit in the subject: read with the body's charset.
        raw =
            Array("Subject: ".utf8) + [0xF0, 0xD2, 0xC9, 0xD7, 0xC5, 0xD4]
            + Array("\r\nContent-Type: text/plain; charset=koi8-r\r\n\r\n".utf8)
        #expect(MessageParser.parse(raw).subject == "Привет")
    }

    @Test func addressListsWithNamesQuotesCommentsAndGroups() {
        let parsed = MessageParser.parse(
            message(
                "From: \"Doe, John\" <john@example.com>",
                "To: =?utf-8?Q?J=C3=B6rg?= <joerg@example.de>, plain@example.org (Plain Person),",
                " Team: alice@example.com, Bob <bob@example.com>;, undisclosed-recipients:;",
                "Cc: \"=?utf-8?B?w4lsb2RpZQ==?=\" <elodie@example.fr>, <bare@example.net>",
                "Reply-To: Support Team <@relay.example:support@example.com>", "", ""))
        #expect(parsed.from == [MailAddress(name: "Doe, John", address: "john@example.com")])
        #expect(
            parsed.to == [
                MailAddress(name: "Jörg", address: "joerg@example.de"),
                MailAddress(name: "Plain Person", address: "plain@example.org"),
                MailAddress(name: nil, address: "alice@example.com"),
                MailAddress(name: "Bob", address: "bob@example.com"),
            ])
        #expect(
            parsed.cc == [
                MailAddress(name: "Élodie", address: "elodie@example.fr"),
                MailAddress(name: nil, address: "bare@example.net"),
            ])
        #expect(parsed.replyTo == [MailAddress(name: "Support Team", address: "support@example.com")])
    }

    @Test func addressWithoutAngleBrackets() {
        let parsed = MessageParser.parse(message("From: Joe joe@example.com", "To: x@example.com", "", ""))
        #expect(parsed.from == [MailAddress(name: "Joe", address: "joe@example.com")])
    }

    @Test func messageIdentifiers() {
        let parsed = MessageParser.parse(
            message(
                "Message-ID: <abc.123@mail.example.com>", "In-Reply-To: <parent@example.com> (comment)",
                "References: <root@example.com>", "\t<parent@example.com> <root@example.com>", "", ""))
        #expect(parsed.messageID == "abc.123@mail.example.com")
        #expect(parsed.inReplyTo == ["parent@example.com"])
        #expect(parsed.references == ["root@example.com", "parent@example.com"])
        let bare = MessageParser.parse(message("Message-Id: naked@example.com", "In-Reply-To: a@b c@d", "", ""))
        #expect(bare.messageID == "naked@example.com")
        #expect(bare.inReplyTo == ["a@b", "c@d"])
    }

    @Test(arguments: [
        ("Mon, 2 Jan 2006 15:04:05 -0700", "2006-01-02T22:04:05Z"),
        ("2 Jan 2006 15:04 +0100", "2006-01-02T14:04:00Z"),
        ("Mon, 02 Jan 06 15:04:05 EST", "2006-01-02T20:04:05Z"),
        ("Sun, 31 Dec 1999 23:59:59 PDT (Pacific)", "2000-01-01T06:59:59Z"),
        ("Thu, 29 Feb 2024 12:00:00 GMT", "2024-02-29T12:00:00Z"),
        ("Tue,  5 Mar 2024 08:30:00 +0530 (IST)", "2024-03-05T03:00:00Z"),
        ("Wed, 10 Apr 2024 09:00:00 Z", "2024-04-10T09:00:00Z"),
        ("Mon Jan  2 15:04:05 2006", "2006-01-02T15:04:05Z"),
        ("2024-05-06T07:08:09+02:00", "2024-05-06T05:08:09Z"),
        ("Fri, 1 Mar 1985 10:00:00 -0000", "1985-03-01T10:00:00Z"),
    ])
    func dates(_ input: String, _ expected: String) throws {
        let date = try #require(DateHeaderParser.parse(Array(input.utf8)[...]))
        #expect(DateHeaderParser.rfc3339UTC(date) == expected)
    }

    @Test func unreadableDateIsNilWithDefect() {
        let parsed = MessageParser.parse(message("Date: sometime last week", "", ""))
        #expect(parsed.date == nil)
        #expect(parsed.defects.contains { $0.contains("Date") })
    }

    @Test func headerWithoutBlankLineEndsTheHeaders() {
        let parsed = MessageParser.parse(message("Subject: hi", "this is the body", "second line"))
        #expect(parsed.subject == "hi")
        #expect(parsed.text == "this is the body\nsecond line")
        #expect(!parsed.defects.isEmpty)
    }

    @Test func mboxFromLineIsSkipped() {
        let parsed = MessageParser.parse(
            message("From someone@example.com Mon Jan 1 00:00:00 2024", "Subject: x", "", "b"))
        #expect(parsed.subject == "x")
    }
}
