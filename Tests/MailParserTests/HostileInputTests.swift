import Foundation
import TestSupport
import Testing

@testable import MailParser

/// Pathological messages: each must parse in bounded time (generous bounds: tests run in debug builds on a
/// shared 2-core machine) without crashing, and degrade as documented.
@Suite("Hostile input")
struct HostileInputTests {
    /// Parses and returns the result with the elapsed seconds.
    func timedParse(_ raw: [UInt8], limits: ParserLimits = .default) -> (ParsedMessage, Double) {
        let clock = ContinuousClock()
        let start = clock.now
        let parsed = MessageParser.parse(raw, limits: limits)
        let elapsed = clock.now - start
        return (parsed, Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
    }

    @Test func fiveThousandLinksInHTML() {
        var html = "<html><body>"
        for index in 0..<6000 { html += "<p><a href=\"https://example.com/\(index)\">link \(index)</a></p>" }
        html += "</body></html>"
        let (parsed, seconds) = timedParse(Array(("Content-Type: text/html\r\n\r\n" + html).utf8))
        #expect(seconds < 10)
        #expect(parsed.text.contains("link 5999 <https://example.com/5999>"))
    }

    @Test func unclosedTagsAndNestedLinksStayLinear() {
        let html = String(repeating: "<a href=\"https://x.example/\">t<title>", count: 20_000)
        let (parsed, seconds) = timedParse(Array(("Content-Type: text/html\r\n\r\n" + html).utf8))
        #expect(seconds < 10)
        #expect(parsed.text.hasPrefix("t"))
    }

    @Test func oneMegabyteLine() {
        let line = String(repeating: "abcdefghij", count: 100_000)
        let (parsed, seconds) = timedParse(Array(("Subject: \(line)\r\nX: \(line)\r\n\r\n\(line)").utf8))
        #expect(seconds < 10)
        #expect(parsed.subject?.utf8.count == 1_000_000)
        #expect(parsed.text.utf8.count == 1_000_000)
    }

    @Test func hundredThousandHeaders() {
        var raw = "Subject: many\r\n"
        for index in 0..<100_000 { raw += "X-H\(index): v\r\n" }
        raw += "\r\nbody"
        let (parsed, seconds) = timedParse(Array(raw.utf8))
        #expect(seconds < 20)
        #expect(parsed.subject == "many")
        #expect(parsed.headers.count == ParserLimits.default.maxHeaderCount)
        #expect(parsed.text == "body")
        #expect(parsed.defects.contains { $0.contains("beyond the limit") })
    }

    @Test func tenThousandDeepMultipart() {
        let depth = 10_000
        var raw = "Subject: deep\r\n"
        for level in 0..<depth { raw += "Content-Type: multipart/mixed; boundary=\"b\(level)\"\r\n\r\n--b\(level)\r\n" }
        raw += "Content-Type: text/plain\r\n\r\nbottom\r\n"
        for level in stride(from: depth - 1, through: 0, by: -1) { raw += "--b\(level)--\r\n" }
        let (parsed, seconds) = timedParse(Array(raw.utf8))
        #expect(seconds < 20)
        #expect(parsed.subject == "deep")
        #expect(parsed.defects.contains { $0.contains("deeper than") })
        #expect(parsed.attachments.count == 1)
    }

    @Test func deeplyNestedForwardedMessages() {
        var raw = "Subject: innermost\r\n\r\nbody\r\n"
        for level in 0..<200 {
            raw = "Subject: level \(level)\r\nContent-Type: message/rfc822\r\n\r\n" + raw
        }
        let (parsed, seconds) = timedParse(Array(raw.utf8))
        #expect(seconds < 20)
        var depth = 0
        var current = parsed
        while let next = current.attachedMessages.first {
            current = next
            depth += 1
        }
        #expect(depth < ParserLimits.default.maxDepth)
    }

    @Test func manyPartsAreCapped() {
        var raw = "Content-Type: multipart/mixed; boundary=p\r\n\r\n"
        for index in 0..<5000 { raw += "--p\r\nContent-Type: application/octet-stream; name=f\(index)\r\n\r\nx\r\n" }
        raw += "--p--\r\n"
        let (parsed, seconds) = timedParse(Array(raw.utf8))
        #expect(seconds < 20)
        #expect(parsed.attachments.count < ParserLimits.default.maxParts)
        #expect(parsed.defects.contains { $0.contains("MIME parts") })
    }

    @Test func nulBytesEverywhere() {
        var raw: [UInt8] = Array("Subject: a".utf8) + [0] + Array("b\r\nFrom: x".utf8) + [0] + Array("@y\r\n\r\n".utf8)
        raw += [0, 0, 0x41, 0, 0x42]
        let (parsed, _) = timedParse(raw)
        #expect(parsed.subject == "a\u{0}b")
        // A body that is mostly NUL bytes is binary: kept whole as an attachment, not as the text.
        #expect(parsed.text.isEmpty)
        #expect(parsed.attachments.map(\.data) == [[0, 0, 0x41, 0, 0x42]])
        #expect((try? parsed.jsonData()) != nil)
    }

    @Test func invalidBase64() throws {
        let raw = message(
            "Content-Type: multipart/mixed; boundary=q", "", "--q", "Content-Type: application/pdf; name=a.pdf",
            "Content-Transfer-Encoding: base64", "", "!!!*** not base64 at all ***===", "AAA", "--q--")
        let (parsed, _) = timedParse(raw)
        let attachment = try #require(parsed.attachments.first)
        #expect(attachment.filename == "a.pdf")
        #expect(attachment.size <= 30)
    }

    @Test func boundaryThatNeverEnds() {
        let boundary = String(repeating: "b", count: 100_000)
        var raw = "Content-Type: multipart/mixed; boundary=\"\(boundary)\"\r\n\r\n"
        for _ in 0..<50 { raw += "--" + String(boundary.dropLast()) + "\r\nnot a delimiter\r\n" }
        let (parsed, seconds) = timedParse(Array(raw.utf8))
        #expect(seconds < 10)
        #expect(parsed.defects.contains { $0.contains("boundary never found") })
        #expect(parsed.text.contains("not a delimiter"))
    }

    @Test func endlessDashesAndUnterminatedEncodedWords() {
        let dashes = String(repeating: "-", count: 1_000_000)
        let words = String(repeating: "=?utf-8?q?abc ", count: 80_000)
        let raw = "Subject: \(words)\r\nContent-Type: multipart/mixed; boundary=\"--\"\r\n\r\n\(dashes)"
        let (parsed, seconds) = timedParse(Array(raw.utf8))
        #expect(seconds < 20)
        #expect(parsed.subject?.hasPrefix("=?utf-8?q?abc") == true)
    }

    @Test func addressHeaderOfColonsAndBrackets() {
        let value = "x@y" + String(repeating: ":", count: 200_000) + String(repeating: "<", count: 100_000)
        let (_, seconds) = timedParse(Array("To: \(value)\r\nCc: \(value)\r\n\r\n".utf8))
        #expect(seconds < 10)
    }

    @Test func truncatedMessages() {
        let full = message(
            "Subject: =?utf-8?B?w6k=?=", "Content-Type: multipart/alternative; boundary=t", "", "--t",
            "Content-Type: text/plain; charset=utf-8", "Content-Transfer-Encoding: base64", "", "w6nDqcOp", "--t--")
        for length in 0...full.count {
            let parsed = MessageParser.parse(Array(full.prefix(length)))
            _ = try? parsed.jsonData()
        }
    }

    @Test func randomBytesNeverCrash() {
        var generator = SplitMix64(seed: 0x5EED)
        let alphabet = Array("\r\n:;=?\"<>()-@ \tabcBQ=_%*'/\\".utf8)
        for _ in 0..<300 {
            let length = Int(generator.next() % 3000)
            var raw: [UInt8] = []
            for _ in 0..<length {
                let roll = generator.next()
                raw.append(
                    roll % 4 == 0 ? UInt8(truncatingIfNeeded: roll >> 8) : alphabet[Int(roll >> 16) % alphabet.count])
            }
            let parsed = MessageParser.parse(raw)
            _ = try? parsed.jsonData()
        }
    }
}
