import Foundation
import Testing

@testable import MailParser

@Suite("MIME structure, transfer encodings, charsets, body choice")
struct MIMEBodyTests {
    @Test func base64IsTolerantOfWhitespaceGarbageAndPadding() {
        let input = Array("SGVs\r\nbG8g!!d29y\nbGQ=SGk=".utf8)
        let decoded = input.withUnsafeBufferPointer { TransferDecoding.base64($0) }
        #expect(String(decoding: decoded.bytes, as: UTF8.self) == "Hello worldHi")
        #expect(decoded.garbage == 2)
        let truncated = Array("SGVsbG8".utf8).withUnsafeBufferPointer { TransferDecoding.base64($0) }
        #expect(String(decoding: truncated.bytes, as: UTF8.self) == "Hello")
    }

    @Test func quotedPrintableSoftBreaksAndBadEscapes() {
        let input = Array("caf=C3=A9 =\r\nsuite=  \r\nfin = 100% =zz  \r\nend=3d".utf8)
        let decoded = input.withUnsafeBufferPointer { TransferDecoding.quotedPrintable($0) }
        #expect(String(decoding: decoded, as: UTF8.self) == "café suitefin = 100% =zz\r\nend=")
    }

    @Test func multipartAlternativePrefersPlainAndKeepsHTML() {
        let parsed = MessageParser.parse(
            message(
                "Subject: alt", "MIME-Version: 1.0", "Content-Type: multipart/alternative; boundary=\"b1\"", "",
                "preamble", "--b1", "Content-Type: text/plain; charset=utf-8",
                "Content-Transfer-Encoding: quoted-printable",
                "", "Gr=C3=BC=C3=9Fe", "--b1", "Content-Type: text/html; charset=utf-8", "",
                "<p>Gr&uuml;&szlig;e</p>", "--b1--", "epilogue"))
        #expect(parsed.text == "Grüße")
        #expect(parsed.html == "<p>Gr&uuml;&szlig;e</p>")
        #expect(parsed.attachments.isEmpty)
        #expect(parsed.defects.isEmpty)
    }

    @Test func htmlOnlyIsConvertedToText() {
        let parsed = MessageParser.parse(
            message(
                "Content-Type: text/html", "", "<html><head><style>p{}</style><title>T</title></head><body>",
                "<p>Hello&nbsp;<b>there</b>,</p><ul><li>one</li><li>two</li></ul>",
                "<a href=\"https://example.com/x\">site</a><script>alert(1)</script><br>bye</body></html>"))
        #expect(parsed.text == "Hello there,\n\n- one\n- two\n\nsite <https://example.com/x>\nbye")
    }

    @Test func inlineImagesAreNamedWhereTheyStoodInHTMLOnlyMail() {
        let parsed = MessageParser.parse(
            message(
                "Subject: screenshot", "MIME-Version: 1.0", "Content-Type: multipart/related; boundary=\"r\"", "",
                "--r", "Content-Type: text/html; charset=utf-8", "",
                "<p>It looks like this:</p><img src=\"cid:shot1@example.test\" alt=\"x\"><p>See <img src=\"CID:gone@x\">"
                    + " and <img src=\"https://example.test/pixel.gif\"> too.</p>",
                "--r", "Content-Type: image/png; name=\"screen.png\"", "Content-ID: <shot1@example.test>",
                "Content-Transfer-Encoding: base64", "", "iVBORw0KGgo=", "--r--"))
        // Named by the attachment's file name; an unknown Content-ID keeps the ID; remote images leave nothing.
        #expect(parsed.text == "It looks like this:\n\n[image: screen.png]\n\nSee [image: cid:gone@x] and too.")
        #expect(parsed.attachments.map(\.contentID) == ["shot1@example.test"])
    }

    @Test func nestedMixedRelatedWithAttachmentsAndInlineImages() throws {
        let pdf = Data("%PDF-1.4 fake".utf8).base64EncodedString()
        let png = Data([0x89, 0x50, 0x4E, 0x47, 1, 2, 3]).base64EncodedString()
        let parsed = MessageParser.parse(
            message(
                "Content-Type: multipart/mixed; boundary=outer", "", "--outer",
                "Content-Type: multipart/alternative; boundary=\"inner\"", "", "--inner",
                "Content-Type: text/plain", "", "See attached.", "--inner",
                "Content-Type: multipart/related; boundary=rel", "", "--rel", "Content-Type: text/html", "",
                "<p>See <img src=\"cid:img1@x\"></p>", "--rel", "Content-Type: image/png",
                "Content-Transfer-Encoding: base64", "Content-ID: <img1@x>", "", png, "--rel--", "--inner--",
                "--outer", "Content-Type: application/pdf; name=\"=?utf-8?Q?R=C3=A9sum=C3=A9.pdf?=\"",
                "Content-Disposition: attachment", "Content-Transfer-Encoding: base64", "", pdf, "--outer--", ""))
        #expect(parsed.text == "See attached.")
        #expect(parsed.html == "<p>See <img src=\"cid:img1@x\"></p>")
        #expect(parsed.attachments.count == 2)
        let image = try #require(parsed.attachments.first { $0.contentType == "image/png" })
        #expect(image.contentID == "img1@x")
        #expect(image.disposition == "inline")
        #expect(image.size == 7)
        let document = try #require(parsed.attachments.first { $0.contentType == "application/pdf" })
        #expect(document.filename == "Résumé.pdf")
        #expect(document.disposition == "attachment")
        #expect(document.data == Array("%PDF-1.4 fake".utf8))
        #expect(document.sha256 == sha256Hex(Array("%PDF-1.4 fake".utf8)))
    }

    @Test func rfc2231FilenameWithContinuationsAndCharset() {
        let parsed = MessageParser.parse(
            message(
                "Content-Type: multipart/mixed; boundary=x", "", "--x", "Content-Type: text/plain", "", "hi", "--x",
                "Content-Type: application/octet-stream",
                "Content-Disposition: attachment; filename*0*=UTF-8''%E2%82%AC%20rate;", " filename*1=\" list.xlsx\"",
                "", "data", "--x--"))
        #expect(parsed.attachments.first?.filename == "€ rate list.xlsx")
    }

    @Test(arguments: [
        ("iso-8859-1", [0x63, 0x61, 0x66, 0xE9] as [UInt8], "café"),
        ("windows-1252", [0x93, 0x71, 0x94, 0x20, 0x80], "\u{201C}q\u{201D} €"),
        ("windows-1251", [0xCF, 0xF0, 0xE8, 0xE2, 0xE5, 0xF2], "Привет"),
        ("koi8-r", [0xF0, 0xD2, 0xC9, 0xD7, 0xC5, 0xD4], "Привет"),
        ("shift_jis", [0x82, 0xB1, 0x82, 0xF1, 0x82, 0xC9, 0x82, 0xBF, 0x82, 0xCD], "こんにちは"),
        ("euc-jp", [0xA4, 0xB3, 0xA4, 0xF3, 0xA4, 0xCB, 0xA4, 0xC1, 0xA4, 0xCF], "こんにちは"),
        ("iso-2022-jp", [0x1B, 0x24, 0x42, 0x24, 0x33, 0x24, 0x73, 0x1B, 0x28, 0x42], "こん"),
        ("gb2312", [0xC4, 0xE3, 0xBA, 0xC3], "你好"),
        ("big5", [0xA7, 0x41, 0xA6, 0x6E], "你好"),
        ("ks_c_5601-1987", [0xBE, 0xC8, 0xB3, 0xE7], "안녕"),
        ("utf-16le", [0x41, 0x00, 0xE9, 0x00], "Aé"),
        ("iso-8859-15", [0xA4], "€"),
        ("iso-8859-2", [0xB1], "ą"),
    ])
    func charsets(_ label: String, _ bytes: [UInt8], _ expected: String) {
        var defects: [String] = []
        let text = CharsetDecoding.decode(bytes, label: label, limits: .default, defects: &defects)
        #expect(text == expected)
        #expect(defects.isEmpty)
    }

    @Test func invalidBytesBecomeReplacementCharacters() {
        var defects: [String] = []
        let text = CharsetDecoding.decode([0x41, 0x82, 0x42], label: "shift_jis", limits: .default, defects: &defects)
        #expect(text == "A\u{FFFD}B")
        #expect(!defects.isEmpty)
        let unknown = CharsetDecoding.decode(
            Array("abc".utf8) + [0xE9], label: "x-no-such", limits: .default, defects: &defects)
        #expect(unknown == "abcé")
    }

    @Test(arguments: [
        // Unlabelled / mislabelled text: (label, bytes, expected)
        ("us-ascii", Array("caf".utf8) + [0xC3, 0xA9], "café"),  // labelled ASCII, really UTF-8
        ("iso-8859-1", Array("caf".utf8) + [0xC3, 0xA9], "café"),  // labelled Latin-1, really UTF-8
        ("utf-8", Array("caf".utf8) + [0xE9, 0x20, 0x6F, 0x6B], "café ok"),  // labelled UTF-8, really Latin-1
        ("", [0xCF, 0xF0, 0xE8, 0xE2, 0xE5, 0xF2, 0x20, 0xEC, 0xE8, 0xF0], "Привет мир"),  // windows-1251
        ("", [0xF0, 0xD2, 0xC9, 0xD7, 0xC5, 0xD4, 0x20, 0xCD, 0xC9, 0xD2], "Привет мир"),  // KOI8-R
        ("", [0x82, 0xB1, 0x82, 0xF1, 0x82, 0xC9, 0x82, 0xBF, 0x82, 0xCD], "こんにちは"),  // Shift_JIS
    ])
    func detection(_ label: String, _ bytes: [UInt8], _ expected: String) {
        var defects: [String] = []
        let text = CharsetDecoding.decode(
            bytes, label: label.isEmpty ? nil : label, limits: .default, defects: &defects)
        #expect(text == expected)
    }

    @Test func missingClosingBoundaryKeepsLastPart() {
        let parsed = MessageParser.parse(
            message(
                "Content-Type: multipart/mixed; boundary=zz", "", "--zz", "Content-Type: text/plain", "", "first",
                "--zz", "Content-Type: application/zip", "Content-Disposition: attachment; filename=a.zip", "",
                "PK"))
        #expect(parsed.text == "first")
        #expect(parsed.attachments.map(\.filename) == ["a.zip"])
        #expect(parsed.attachments.first?.data == Array("PK".utf8))
        #expect(parsed.defects.contains { $0.contains("closing boundary") })
    }

    @Test func boundaryPrefixOfLongerBoundaryIsNotADelimiter() {
        let parsed = MessageParser.parse(
            message(
                "Content-Type: multipart/mixed; boundary=ab", "", "--ab",
                "Content-Type: multipart/alternative; boundary=abc",
                "", "--abc", "Content-Type: text/plain", "", "inner text", "--abc--", "--ab--"))
        #expect(parsed.text == "inner text")
    }

    @Test func forwardedMessageIsParsedRecursively() throws {
        let parsed = MessageParser.parse(
            message(
                "Subject: Fwd", "Content-Type: multipart/mixed; boundary=f", "", "--f", "Content-Type: text/plain", "",
                "see below", "--f", "Content-Type: message/rfc822", "", "From: Orig <orig@example.com>",
                "Subject: Original", "", "original body", "--f--"))
        #expect(parsed.text == "see below")
        let embedded = try #require(parsed.attachedMessages.first)
        #expect(embedded.subject == "Original")
        #expect(embedded.text == "original body")
        #expect(parsed.attachments.first?.filename == "Original.eml")
        #expect(parsed.attachments.first?.contentType == "message/rfc822")
    }

    @Test func encryptedAndDigestParts() {
        let encrypted = MessageParser.parse(
            message(
                "Content-Type: multipart/encrypted; protocol=\"application/pgp-encrypted\"; boundary=e", "", "--e",
                "Content-Type: application/pgp-encrypted", "", "Version: 1", "--e",
                "Content-Type: application/octet-stream; name=\"encrypted.asc\"", "",
                "-----BEGIN PGP MESSAGE-----", "hQEMA", "-----END PGP MESSAGE-----", "--e--"))
        #expect(encrypted.text == "")
        #expect(encrypted.attachments.map(\.contentType) == ["application/pgp-encrypted", "application/octet-stream"])
        #expect(encrypted.attachments.last?.filename == "encrypted.asc")
        let digest = MessageParser.parse(
            message(
                "Content-Type: multipart/digest; boundary=d", "", "--d", "", "Subject: first", "", "one", "--d", "",
                "Subject: second", "", "two", "--d--"))
        #expect(digest.attachedMessages.map(\.subject) == ["first", "second"])
        #expect(digest.attachments.map(\.contentType) == ["message/rfc822", "message/rfc822"])
    }

    @Test func formatFlowedIsUnflowed() {
        let parsed = MessageParser.parse(
            message(
                "Content-Type: text/plain; charset=utf-8; format=flowed; delsp=yes", "", "This is a long para ",
                "graph that was wrapped.  ", "Next line.", ">> quoted soft  ", ">> break", "", "-- ", "Sig"))
        #expect(
            parsed.text == "This is a long paragraph that was wrapped. Next line.\n>> quoted soft break\n\n-- \nSig")
    }

    @Test func jsonShapeIsStable() throws {
        let parsed = MessageParser.parse(
            message(
                "From: A <a@example.com>", "To: b@example.com", "Subject: Hi", "Date: Mon, 2 Jan 2006 15:04:05 +0000",
                "Message-ID: <m1@example.com>", "", "Body"))
        let json = try #require(String(data: try parsed.jsonData(prettyPrinted: false), encoding: .utf8))
        #expect(
            json == """
                {"attachments":[],"cc":[],"date":"2006-01-02T15:04:05Z","from":[{"address":"a@example.com","name":"A"}],\
                "html":null,"in_reply_to":[],"message_id":"m1@example.com","references":[],"reply_to":[],\
                "subject":"Hi","text":"Body","to":[{"address":"b@example.com","name":null}]}
                """)
    }
}
