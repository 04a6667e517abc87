import Foundation
import Testing

@testable import MailParser

/// Mail whose lines end in a bare CR (old Mac OS clients, some scripts): the header section must split into
/// fields at each CR, as Python's `email` splits it, instead of reading the whole section as one field. CRLF and
/// mixed CRLF/LF mail must parse exactly as before.
@Suite("Bare CR line ends")
struct BareCarriageReturnTests {
    private func bareCR(_ lines: String...) -> [UInt8] {
        Array(lines.joined(separator: "\r").utf8) + [ASCIIByte.cr]
    }

    @Test func headerSectionSplitsAtBareCR() throws {
        let raw = bareCR(
            "From: \"Jürgen Müller\" <m@example.test>", "To: support@localhost", "Subject: hello", "", "body")
        let parsed = MessageParser.parse(raw)
        let from = try #require(parsed.from.first)
        #expect(parsed.from.count == 1)
        #expect(from.name == "Jürgen Müller")
        #expect(from.address == "m@example.test")
        #expect(parsed.to.map(\.address) == ["support@localhost"])
        #expect(parsed.subject == "hello")
        #expect(parsed.text.trimmingCharacters(in: .newlines) == "body")
        #expect(!parsed.defects.contains { $0.contains("header section ended") }, "\(parsed.defects)")
    }

    @Test func foldedEncodedWordsAndBodyLinesAcrossBareCR() throws {
        let raw = bareCR(
            "From: =?UTF-8?B?0JDQvdC90LAg0JrQsNGA0LXQvdC40L3QsA==?= <anna@example.test>",
            "Subject: =?UTF-8?Q?Dru=C3=A7ker?=", " =?ISO-8859-1?Q?f=E4llt_aus?=",
            "Content-Type: text/plain; charset=utf-8", "", "Zeile eins, Grüße", "Zeile zwei")
        let parsed = MessageParser.parse(raw)
        #expect(parsed.from.first?.name == "Анна Каренина")
        #expect(parsed.from.first?.address == "anna@example.test")
        #expect(parsed.subject == "Druçkerfällt aus")
        // The body splits on bare CR too: its text reads as lines.
        #expect(LineScanner.lines(parsed.text).prefix(2) == ["Zeile eins, Grüße", "Zeile zwei"])
        #expect(!parsed.text.contains("\r"))
    }

    @Test func bareCRThenCRLFFromTheTransportStillFindsTheBody() throws {
        // Over LMTP the data ends in CRLF: the last line of a bare-CR message gains one.
        let raw = Array("From: Zoë <zoe@example.test>\rSubject: Grüße\r\rline 1\rline 2\r\n".utf8)
        let parsed = MessageParser.parse(raw)
        #expect(parsed.subject == "Grüße")
        #expect(parsed.from.first?.name == "Zoë")
        #expect(LineScanner.lines(parsed.text) == ["line 1", "line 2"])
    }

    /// The same message with CRLF, LF, mixed CRLF/LF line ends and doubled CRs before LF (mail converted twice)
    /// parses to the same fields and text; a CR in a CRLF pair is never a bare CR.
    @Test(arguments: ["\r\n", "\n", "mixed", "\r\r\n"])
    func crlfAndMixedMailIsUnchanged(_ lineEnd: String) throws {
        let lines = [
            "From: \"Jürgen Müller\" <m@example.test>", "To: support@localhost",
            "Subject: =?UTF-8?B?R3LDvMOfZQ==?=", " folded", "Content-Type: text/plain; charset=utf-8", "",
            "Hallo,", "zweite Zeile",
        ]
        var text = ""
        for (index, line) in lines.enumerated() {
            let end = lineEnd == "mixed" ? (index.isMultiple(of: 2) ? "\r\n" : "\n") : lineEnd
            text += line + end
        }
        let parsed = MessageParser.parse(Array(text.utf8))
        #expect(parsed.from.first?.name == "Jürgen Müller")
        #expect(parsed.from.first?.address == "m@example.test")
        #expect(parsed.to.map(\.address) == ["support@localhost"])
        #expect(parsed.subject == "Grüße folded")
        #expect(parsed.text.trimmingCharacters(in: .newlines).hasPrefix("Hallo,\n"))
        #expect(parsed.headers.count == 4)
    }

    @Test func manyBareCRLinesAreLinear() {
        // 200,000 header lines, then a body of 2,000,000 bare CRs.
        var raw = Array("From: a@example.test\rSubject: Grüße\r".utf8)
        raw += Array(String(repeating: "X-Long: ü\r", count: 200_000).utf8)
        raw += [UInt8](repeating: ASCIIByte.cr, count: 2_000_000)
        let clock = ContinuousClock()
        var parsed = ParsedMessage()
        let elapsed = clock.measure { parsed = MessageParser.parse(raw) }
        #expect(parsed.subject == "Grüße")
        #expect(parsed.from.first?.address.prefix(40) == "a@example.test")
        #expect(elapsed < .seconds(10))
    }

    @Test func lineScannerEndsLinesAtEveryKindOfBreak() {
        let text = Array("a\rb\r\nc\nd\r\r\ne\r\rf\r".utf8)
        let lines = text.withUnsafeBufferPointer { buffer in
            var scanner = LineScanner(buffer, lineEnds: .anyBreak)
            var lines: [String] = []
            while let line = scanner.next() { lines.append(String(decoding: buffer[line.content], as: UTF8.self)) }
            return lines
        }
        #expect(lines == ["a", "b", "c", "d", "e", "", "f"])
        // The default splits at LF only, as before: a bare CR is data.
        let lineFeedOnly = text.withUnsafeBufferPointer { buffer in
            var scanner = LineScanner(buffer)
            var count = 0
            while scanner.next() != nil { count += 1 }
            return count
        }
        #expect(lineFeedOnly == 4)
    }

    @Test func runsOfCarriageReturnsAreWalkedOnce() {
        // 500,000 CRs: as many empty lines, and once before a LF, one line end.
        for tail in [[UInt8](), [ASCIIByte.lf]] {
            let bytes = [UInt8](repeating: ASCIIByte.cr, count: 500_000) + tail
            let clock = ContinuousClock()
            var count = 0
            let elapsed = clock.measure {
                bytes.withUnsafeBufferPointer { buffer in
                    var scanner = LineScanner(buffer, lineEnds: .anyBreak)
                    while scanner.next() != nil { count += 1 }
                }
            }
            #expect(count == (tail.isEmpty ? 500_000 : 1))
            #expect(elapsed < .seconds(5))
        }
    }

    @Test func headerSectionStartSkipsBlankLinesEndingInBareCR() {
        let cases: [(String, Int)] = [(" \rFrom: a", 2), ("\r\rA: b", 2), ("\r\r\nA: b", 3), ("\r\nA: b", 2)]
        for (text, expected) in cases {
            let start = Array(text.utf8).withUnsafeBufferPointer { MessageParser.headerSectionStart($0) }
            #expect(start == expected, "\(text.debugDescription)")
        }
    }

    @Test func multipartWithBareCRDelimitersSplitsIntoItsParts() throws {
        let raw = bareCR(
            "From: \"Jürgen Müller\" <m@example.test>", "Subject: =?UTF-8?Q?Anh=C3=A4nge?=", "MIME-Version: 1.0",
            "Content-Type: multipart/mixed; boundary=\"b\"", "", "--b", "Content-Type: text/plain; charset=utf-8", "",
            "Zeile eins, Grüße", "Zeile zwei", "--b", "Content-Type: application/octet-stream",
            "Content-Disposition: attachment; filename=\"daten.bin\"", "", "xyz", "--b--")
        let parsed = MessageParser.parse(raw)
        #expect(parsed.subject == "Anhänge")
        #expect(
            LineScanner.lines(parsed.text) == ["Zeile eins, Grüße", "Zeile zwei"], "\(parsed.text.debugDescription)")
        let attachment = try #require(parsed.attachments.first)
        #expect(parsed.attachments.count == 1)
        #expect(attachment.filename == "daten.bin")
        #expect(attachment.data == Array("xyz".utf8))
        #expect(!parsed.defects.contains { $0.contains("boundary") }, "\(parsed.defects)")
    }

    /// Delimiter lines ending in LF, CR LF and CR CR LF split as before.
    @Test(arguments: ["\n", "\r\n", "\r\r\n"])
    func multipartDelimitersAfterLineFeedsAreUnchanged(_ lineEnd: String) {
        let raw = [
            "From: a@example.test", "Content-Type: multipart/mixed; boundary=b", "", "--b",
            "Content-Type: text/plain; charset=utf-8", "", "Grüße", "--b", "Content-Type: application/octet-stream",
            "", "xyz", "--b--", "",
        ].joined(separator: lineEnd)
        let parsed = MessageParser.parse(Array(raw.utf8))
        #expect(parsed.text.trimmingCharacters(in: .newlines) == "Grüße")
        #expect(parsed.attachments.map(\.contentType) == ["application/octet-stream"])
        #expect(parsed.attachments.first.map { String(decoding: $0.data, as: UTF8.self).hasPrefix("xyz") } == true)
    }
}
