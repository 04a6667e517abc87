import Foundation
import Testing

@testable import MailParser

/// Defects seen on real mail (issue 11): a multipart without a boundary or a binary part read as the body
/// text, a quoted local part losing its blanks, a blank first line ending the header section.
@Suite("Real-mail parser defects")
struct RealMailDefectTests {
    private func message(_ lines: String...) -> [UInt8] {
        Array(lines.joined(separator: "\r\n").utf8) + Array("\r\n".utf8)
    }

    @Test func multipartWithoutBoundaryIsAnAttachmentNotTheText() throws {
        let body = "JVBERi0xLjQKJcfsj6IKNSAwIG9iago8PC9MZW5ndGggNiAwIFIvRmlsdGVyIC9GbGF0ZURlY29kZT4+"
        let raw = message(
            "From: a@example.com", "Subject: scan", "MIME-Version: 1.0", "Content-Type: multipart/mixed", "",
            body)
        let parsed = MessageParser.parse(raw)
        #expect(!parsed.text.contains("JVBERi0"), "the undivided multipart became the text: \(parsed.text)")
        let attachment = try #require(parsed.attachments.first)
        #expect(parsed.attachments.count == 1)
        #expect(attachment.contentType == "multipart/mixed")
        #expect(String(decoding: attachment.data, as: UTF8.self).contains(body))
        #expect(parsed.defects.contains { $0.contains("without a boundary; kept as an attachment") })
        #expect(parsed.subject == "scan")
    }

    @Test func nestedMultipartWithoutBoundaryKeepsTheRealText() throws {
        let raw = message(
            "From: a@example.com", "Subject: nested", "Content-Type: multipart/mixed; boundary=outer", "",
            "--outer", "Content-Type: text/plain; charset=utf-8", "", "The real text.", "--outer",
            "Content-Type: multipart/alternative", "", "\u{1}\u{2}PK\u{3}\u{4} not a body", "--outer--")
        let parsed = MessageParser.parse(raw)
        #expect(parsed.text == "The real text.")
        #expect(parsed.attachments.map(\.contentType) == ["multipart/alternative"])
    }

    @Test func binaryTextPartIsAnAttachment() throws {
        var raw = message(
            "From: a@example.com", "Subject: zip without a type", "Content-Type: multipart/mixed; boundary=b", "",
            "--b", "", "Please see the archive.", "--b", "Content-Transfer-Encoding: base64", "",
            Data([0x50, 0x4B, 0x03, 0x04, 0x14, 0x00, 0x00, 0x00, 0x08, 0x00, 0x01, 0x02]).base64EncodedString())
        raw += Array("--b--\r\n".utf8)
        let parsed = MessageParser.parse(raw)
        #expect(parsed.text == "Please see the archive.")
        let attachment = try #require(parsed.attachments.first)
        #expect(attachment.contentType == "application/octet-stream")
        #expect(attachment.data.prefix(4) == [0x50, 0x4B, 0x03, 0x04])
        #expect(parsed.defects.contains { $0.contains("binary data") })
    }

    @Test func strayNULStaysText() {
        let raw = message(
            "From: a@example.com", "Content-Type: text/plain; charset=utf-8", "", "Hello, this is text.\u{0}")
        let parsed = MessageParser.parse(raw)
        #expect(parsed.text.hasPrefix("Hello, this is text."))
        #expect(parsed.attachments.isEmpty)
    }

    @Test func utf16TextIsStillText() {
        let utf16 = Array("Grüße aus Köln".utf16).flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] }
        let raw =
            message("From: a@example.com", "Content-Type: text/plain; charset=utf-16le", "")
            + utf16
        let parsed = MessageParser.parse(raw)
        #expect(parsed.text.hasPrefix("Grüße aus Köln"))
        #expect(parsed.attachments.isEmpty)
    }

    @Test(
        arguments: [
            ("<\"System Administrator\"@example.com>", "\"System Administrator\"@example.com", nil),
            (
                "Admin <\"System Administrator\"@example.com>", "\"System Administrator\"@example.com",
                "Admin"
            ),
            ("\"System Administrator\"@example.com", "\"System Administrator\"@example.com", nil),
            ("Jo Ann <\"jo ann\"@example.com>", "\"jo ann\"@example.com", "Jo Ann"),
            ("<\"john.doe\"@example.com>", "john.doe@example.com", nil),
            ("<\"a\\\"b c\"@example.com>", "\"a\\\"b c\"@example.com", nil),
            ("\"Smith, John\" <john@example.com>", "john@example.com", "Smith, John"),
            ("John Smith john@example.com", "john@example.com", "John Smith"),
            ("<john @ example.com>", "john@example.com", nil),
        ] as [(String, String, String?)])
    func quotedLocalPartKeepsItsBlanks(_ header: String, _ address: String, _ name: String?) throws {
        let parsed = MessageParser.parse(message("From: \(header)", "Subject: x", "", "body"))
        let from = try #require(parsed.from.first)
        #expect(parsed.from.count == 1)
        #expect(from.address == address)
        #expect(from.name == name)
    }

    @Test func unbalancedQuoteInAngleBracketsStillEndsAtTheBracket() {
        let parsed = MessageParser.parse(message("To: <\"broken@example.com>, bob@example.com", "", "x"))
        #expect(parsed.to.map(\.address).last == "bob@example.com")
    }

    @Test(arguments: ["\r\n", "   \r\n", "\t \r\n\r\n", "\n", " \n"])
    func blankFirstLineBeforeTheHeadersIsSkipped(_ prefix: String) {
        let raw = Array(prefix.utf8) + message("From: Ana <ana@example.com>", "Subject: Hola", "", "body text")
        let parsed = MessageParser.parse(raw)
        #expect(parsed.subject == "Hola")
        #expect(parsed.from.first?.address == "ana@example.com")
        #expect(parsed.text.trimmingCharacters(in: .newlines) == "body text")
        #expect(MessageParser.parse(Array("\r\n\r\n".utf8)).subject == nil)
    }

    @Test func headerSectionStartIsLinearAndStopsAtText() {
        let cases: [(String, Int)] = [
            ("", 0), ("Subject: x", 0), ("\r\nSubject: x", 2), ("  \n\t\r\nA: b", 6), ("  folded", 0), ("   ", 3),
        ]
        for (text, expected) in cases {
            let start = Array(text.utf8).withUnsafeBufferPointer { MessageParser.headerSectionStart($0) }
            #expect(start == expected, "\(text.debugDescription)")
        }
        let blanks = [UInt8](repeating: ASCIIByte.space, count: 2_000_000) + Array("\nA: b\n\nx".utf8)
        let clock = ContinuousClock()
        let elapsed = clock.measure {
            #expect(blanks.withUnsafeBufferPointer { MessageParser.headerSectionStart($0) } == 2_000_001)
        }
        #expect(elapsed < .seconds(2))
    }
}
