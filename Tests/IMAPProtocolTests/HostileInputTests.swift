import IMAPProtocol
import Testing

/// What a hostile or broken server can send: each gives a typed error with the place, in bounded memory, and
/// the parser stays dead afterwards.
@Suite("Hostile server input")
struct HostileInputTests {
    private static let limits = IMAPParserLimits(
        maxLineLength: 1024, maxLiteralSize: 512, maxBufferedResponse: 4096, maxBodySize: 10_000, maxNesting: 8,
        maxSearchResults: 100, maxFetchAttributes: 16)

    /// The error `text` ends in, fed in chunks; also checks the parser never held more than its cap plus one
    /// chunk.
    private func error(_ text: String, chunkSizes: [Int] = [7]) -> IMAPProtocolError? {
        let bytes = Array(text.utf8)
        var driver = ParserDriver(limits: Self.limits, expectGreeting: false)
        defer { #expect(driver.maxBuffered <= Self.limits.maxBufferedResponse + chunkSizes.max()!) }
        var offset = 0
        var turn = 0
        do {
            while offset < bytes.count {
                let end = min(bytes.count, offset + chunkSizes[turn % chunkSizes.count])
                turn += 1
                try driver.feed(bytes[offset..<end])
                offset = end
            }
            try driver.parser.finish()
            return nil
        } catch {
            return error
        }
    }

    @Test func overlongLineStopsAtTheCapWithBoundedBuffer() {
        var driver = ParserDriver(limits: Self.limits, expectGreeting: false)
        let chunk = [UInt8](repeating: UInt8(ascii: "a"), count: 100)
        var failure: IMAPProtocolError?
        do {
            try driver.feed(Array("* OK ".utf8))
            for _ in 0..<1000 { try driver.feed(chunk) }
        } catch {
            failure = error
        }
        #expect(failure?.kind == .lineTooLong(limit: 1024))
        #expect(failure?.offset == 1024)
        #expect(failure?.excerpt.hasPrefix("* OK aaaa") == true)
        #expect(failure?.excerpt.utf8.count == IMAPProtocolError.excerptLimit)
        #expect(driver.maxBuffered <= Self.limits.maxLineLength + 100)
        // Dead: the same error again, and input is no longer buffered.
        driver.parser.feed(chunk)
        #expect(driver.parser.bufferedByteCount == 0)
        #expect(throws: failure!) { _ = try driver.parser.next() }
    }

    @Test func literalSizes() {
        #expect(
            error("* 1 FETCH (BODY[] {-1}\r\n")
                == IMAPProtocolError(.invalidLiteralSize("{-1}"), offset: 18, excerpt: "* 1 FETCH (BODY[] {-1}\\r\\n"))
        #expect(
            error("* 1 FETCH (BODY[] {99999999999999999999}\r\n")?.kind == .invalidLiteralSize("{99999999999999999999}")
        )
        #expect(error("* 1 FETCH (BODY[] {}\r\n")?.kind == .invalidLiteralSize("{}"))
        #expect(error("* 1 FETCH (BODY[] {18446744073709551615}\r\n")?.kind == .bodyTooLarge(size: .max, limit: 10_000))
        #expect(error("* 1 FETCH (BODY[] {10001}\r\n")?.kind == .bodyTooLarge(size: 10_001, limit: 10_000))
        #expect(error("* LIST () \"/\" {513}\r\n")?.kind == .literalTooLarge(size: 513, limit: 512))
        #expect(
            error("* 1 FETCH (ENVELOPE ({99999999999}\r\n")?.kind == .literalTooLarge(size: 99_999_999_999, limit: 512))
        // Missing CRLF after the literal's "}": not a literal header, so a syntax error at the brace.
        let missing = error("* 1 FETCH (BODY[] {5}hello)\r\n")
        #expect(missing?.kind == .syntax(expected: "CRLF after literal size"))
        #expect(missing?.offset == 21)
    }

    @Test func aHugeLiteralIsRefusedAtItsHeaderBeforeItsBytesArrive() {
        let text = "* ID ({4000000}\r\n" + String(repeating: "x", count: 100_000)
        #expect(error(text, chunkSizes: [1000])?.kind == .literalTooLarge(size: 4_000_000, limit: 512))
    }

    @Test func manyBufferedLiteralsHitTheResponseCap() {
        let literal = "{500}\r\n" + String(repeating: "x", count: 500)
        let text = "* ID (" + Array(repeating: literal, count: 20).joined(separator: " ") + ")\r\n"
        #expect(error(text)?.kind == .responseTooLarge(limit: 4096))
    }

    @Test func parenthesesAndNesting() {
        #expect(error("* 1 FETCH (UID 1 FLAGS (\\Seen)\r\n")?.kind == .syntax(expected: "SP"))
        #expect(error("* 1 FETCH (UID 1))\r\n")?.kind == .syntax(expected: "CRLF"))
        #expect(error("* FLAGS (\\Seen\r\n")?.kind == .syntax(expected: ")"))
        let deep =
            "* 1 FETCH (BODYSTRUCTURE " + String(repeating: "(", count: 9) + String(repeating: ")", count: 9) + ")\r\n"
        #expect(error(deep)?.kind == .nestingTooDeep(limit: 8))
        // The FETCH response's own list counts: 7 more levels fit in 8.
        let fine =
            "* 1 FETCH (BODYSTRUCTURE " + String(repeating: "(", count: 7) + String(repeating: ")", count: 7) + ")\r\n"
        #expect(error(fine) == nil)
        let attributes = "* 1 FETCH (" + Array(repeating: "UID 1", count: 17).joined(separator: " ") + ")\r\n"
        #expect(error(attributes)?.kind == .tooManyFetchAttributes(limit: 16))
    }

    @Test func numbers() {
        #expect(error("* 1 FETCH (UID 4294967296)\r\n")?.kind == .numberOutOfRange("UID"))
        #expect(error("* 1 FETCH (UID 4294967295)\r\n") == nil)
        #expect(error("* 4294967296 EXISTS\r\n")?.kind == .numberOutOfRange("message number"))
        #expect(error("* 1 FETCH (RFC822.SIZE 18446744073709551616)\r\n")?.kind == .numberOutOfRange("RFC822.SIZE"))
        #expect(error("* SEARCH 1 2 4294967296\r\n")?.kind == .numberOutOfRange("SEARCH number"))
        #expect(error("* SEARCH 1 2 x\r\n")?.kind == .syntax(expected: "number in SEARCH"))
        let many = "* SEARCH " + (1...101).map(String.init).joined(separator: " ") + "\r\n"
        #expect(error(many)?.kind == .tooManySearchResults(limit: 100))
    }

    @Test func nulGarbageAndTruncation() {
        let nul = error("* OK hi\u{0}there\r\n", chunkSizes: [100])
        #expect(nul?.kind == .nulByte)
        #expect(nul?.offset == 7)
        #expect(nul?.excerpt == "* OK hi\\x00there\\r\\n")
        // A TLS handshake where plain IMAP was expected.
        let tls: [UInt8] = [0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xFC, 0x03, 0x03, 0x0A]
        #expect(ParserDriver.error(tls, limits: Self.limits, expectGreeting: true)?.kind == .nulByte)
        let noNul: [UInt8] = [0x16, 0x03, 0x01, 0x02, 0x05, 0x0A]
        #expect(ParserDriver.error(noNul, limits: Self.limits, expectGreeting: true)?.kind == .unexpectedGreeting)
        #expect(ParserDriver.error(noNul.dropLast(), limits: Self.limits, expectGreeting: true)?.kind == .truncated)
        #expect(error("a1 MAYBE later\r\n")?.kind == .syntax(expected: "OK, NO, BAD, BYE or PREAUTH"))
        #expect(error("* 3 FROBNICATE\r\n") == nil)  // unknown but well-formed: kept as .other
        #expect(error("* OK [UIDVALIDITY x] y\r\n")?.kind == .syntax(expected: "UIDVALIDITY"))
        #expect(error("* OK [ALERT no close\r\n")?.kind == .syntax(expected: "] after response code"))
        // The connection drops mid-literal, mid-line, mid-SEARCH.
        #expect(error("* 1 FETCH (BODY[] {100}\r\nabc")?.kind == .truncated)
        #expect(error("* 1 FETCH (BODY[] {3}\r\nabc")?.kind == .truncated)
        #expect(error("* OK partial")?.kind == .truncated)
        #expect(error("* SEARCH 1 2")?.kind == .truncated)
        #expect(error("* 1 FETCH (BODY[] {3}\r\nabc)\r\n") == nil)
    }
}
