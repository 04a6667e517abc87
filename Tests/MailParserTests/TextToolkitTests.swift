import MailParser
import PropertyBased
import Testing

/// The text toolkit (`ByteText`, `MailAddressForm`, `LineScanner`, `HexEncoding`, `MessageIDParser`,
/// `MIMEHeaderValue`) over arbitrary Unicode and arbitrary bytes: each result equals a simple reference
/// implementation, every call returns (inputs mix multi-byte scalars, combining marks, CRLF and invalid UTF-8
/// where bytes are taken), and work is linear (counted element reads, not wall time).
@Suite("Text toolkit")
struct TextToolkitTests {
    // MARK: - Generators

    /// Scalars that matter to mail text: ASCII structure (blanks, CR, LF, `<>@,;+:`), letters of both cases,
    /// Latin-1 and other two-byte scalars, combining marks (which join a preceding ASCII byte into one
    /// `Character`), CJK and four-byte emoji.
    static let scalar = Gen.oneOf(
        Gen<Character?>.element(of: Array(" \t\r\n<>@,;+:.\"()[]=-Aaz") as [Character]).map {
            $0!.unicodeScalars.first!
        },
        Gen.unicodeScalar(in: "\u{21}"..."\u{7E}"),
        Gen.unicodeScalar(in: "\u{80}"..."\u{7FF}"),
        Gen.unicodeScalar(in: "\u{300}"..."\u{36F}"),
        Gen.unicodeScalar(in: "\u{4E00}"..."\u{4FFF}"),
        Gen.unicodeScalar(in: "\u{1F300}"..."\u{1F64F}"))

    static let text = scalar.array(of: 0...48).map { String(String.UnicodeScalarView($0)) }
    static let shortText = scalar.array(of: 0...4).map { String(String.UnicodeScalarView($0)) }

    /// Bytes including invalid UTF-8 (lone continuation bytes, truncated sequences, 0xFF).
    static let bytes = Gen.oneOf(
        Gen<UInt8>.value(in: 0...255),
        Gen<UInt8?>.element(of: [0x0A, 0x0D, 0x20, 0x3C, 0x3E, 0x40, 0x41, 0x61, 0xC3, 0xA4, 0x80, 0xFF]).map { $0! }
    ).array(of: 0...64)

    // MARK: - References: plain scalar loops, written for clarity rather than speed

    static func isBlankScalar(_ scalar: Unicode.Scalar) -> Bool {
        scalar == " " || scalar == "\t" || scalar == "\r" || scalar == "\n"
    }

    static func referenceTrimmed(_ text: String) -> [UInt8] {
        var scalars = Array(text.unicodeScalars)
        while let first = scalars.first, isBlankScalar(first) { scalars.removeFirst() }
        while let last = scalars.last, isBlankScalar(last) { scalars.removeLast() }
        return Array(String(String.UnicodeScalarView(scalars)).utf8)
    }

    static func referenceLowercased(_ text: some StringProtocol) -> [UInt8] {
        Array(text.utf8).map { $0 >= 65 && $0 <= 90 ? $0 + 32 : $0 }
    }

    static func referenceContains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        let lowerHaystack = haystack.map { $0 >= 65 && $0 <= 90 ? $0 + 32 : $0 }
        let lowerNeedle = needle.map { $0 >= 65 && $0 <= 90 ? $0 + 32 : $0 }
        if lowerNeedle.isEmpty { return true }
        if lowerNeedle.count > lowerHaystack.count { return false }
        for start in 0...(lowerHaystack.count - lowerNeedle.count)
        where Array(lowerHaystack[start..<start + lowerNeedle.count]) == lowerNeedle {
            return true
        }
        return false
    }

    static func referenceLines(_ bytes: [UInt8]) -> [[UInt8]] {
        var lines = bytes.split(separator: 0x0A, omittingEmptySubsequences: false).map(Array.init)
        if bytes.last == 0x0A || bytes.isEmpty { lines.removeLast() }
        return lines.map { $0.last == 0x0D ? Array($0.dropLast()) : $0 }
    }

    static func referenceHex(_ bytes: [UInt8]) -> String {
        bytes.map { byte in
            let digits = String(byte, radix: 16)
            return digits.count == 1 ? "0" + digits : digits
        }.joined()
    }

    // MARK: - Results against the references (and termination: every call below returns)

    @Test func trimmedMatchesReference() async {
        await propertyCheck(count: 500, input: Self.text) { text in
            #expect(Array(ByteText.trimmed(text).utf8) == Self.referenceTrimmed(text))
            #expect(Array(ByteText.trimmed(Array(text.utf8)[...])) == Self.referenceTrimmed(text))
        }
    }

    @Test func caseFoldingMatchesReference() async {
        await propertyCheck(count: 500, input: Self.text, Self.shortText) { text, other in
            #expect(Array(ByteText.lowercasedASCII(text).utf8) == Self.referenceLowercased(text))
            let lower = Self.referenceLowercased(text)
            #expect(
                ByteText.equalsIgnoringCase(text, text.uppercased())
                    == (lower == Self.referenceLowercased(text.uppercased())))
            #expect(ByteText.equalsIgnoringCase(text, other) == (lower == Self.referenceLowercased(other)))
            #expect(
                ByteText.hasPrefixIgnoringCase(text, other)
                    == lower.starts(with: Self.referenceLowercased(other)))
        }
    }

    @Test func containsMatchesReference() async {
        await propertyCheck(count: 500, input: Self.text, Self.shortText, Gen.int(in: 0...48)) { text, other, cut in
            let bytes = Array(text.utf8)
            // A needle cut out of the text (often mid-scalar) must be found; a random one as the reference says.
            let start = min(cut, bytes.count)
            let needle = Array(bytes[start..<min(bytes.count, start + 3)])
            let needleText = String(decoding: needle, as: UTF8.self)
            if needleText.utf8.elementsEqual(needle) { #expect(ByteText.containsIgnoringCase(text, needleText)) }
            #expect(ByteText.containsIgnoringCase(text, other) == Self.referenceContains(bytes, Array(other.utf8)))
            #expect(
                ByteText.containsIgnoringCase(text, "mail delivery")
                    == Self.referenceContains(bytes, Array("mail delivery".utf8)))
        }
    }

    @Test func byteSearchOverInvalidUTF8MatchesReference() async {
        await propertyCheck(count: 500, input: Self.bytes, Self.bytes) { haystack, needleSource in
            let needle = Array(needleSource.prefix(3))
            let found = ByteText.firstRange(ofIgnoringCase: needle, in: haystack)
            #expect((found != nil) == Self.referenceContains(haystack, needle))
            if let found {
                #expect(found.count == needle.count)
                #expect(Self.referenceContains(Array(haystack[found]), needle))
            }
            #expect(ByteText.trimmedRange(haystack) == ByteText.trimmed(haystack[...]).indices)
        }
    }

    @Test func commaSeparatedMatchesReference() async {
        await propertyCheck(count: 500, input: Self.text) { text in
            let reference = Array(text.utf8).split(separator: 0x2C, omittingEmptySubsequences: false)
                .map { String(decoding: $0, as: UTF8.self) }.map(Self.referenceTrimmed).filter { !$0.isEmpty }
            #expect(ByteText.commaSeparated(text).map { Array($0.utf8) } == reference)
        }
    }

    @Test func linesOfTextMatchReference() async {
        await propertyCheck(count: 500, input: Self.text) { text in
            #expect(LineScanner.lines(text).map { Array($0.utf8) } == Self.referenceLines(Array(text.utf8)))
        }
    }

    @Test func linesOfBytesCoverTheInputExactly() async {
        await propertyCheck(count: 500, input: Self.bytes) { bytes in
            var lines: [LineScanner.Line] = []
            bytes.withUnsafeBufferPointer { buffer in
                var scanner = LineScanner(buffer)
                while let line = scanner.next() {
                    lines.append(line)
                    if lines.count > bytes.count { break }  // would mean a step that did not advance
                }
            }
            #expect(lines.count <= bytes.count)
            #expect(lines.map { Array(bytes[$0.content]) } == Self.referenceLines(bytes))
            var expectedStart = 0
            for line in lines {
                #expect(line.content.lowerBound == expectedStart)
                #expect(line.next > line.content.lowerBound)
                expectedStart = line.next
            }
            #expect(expectedStart == bytes.count)
        }
    }

    @Test func addressFormMatchesReference() async {
        await propertyCheck(count: 500, input: Self.text) { text in
            // Reference: trim, one pair of angle brackets off, trim, ASCII lower case, `+tag` removed.
            var value = Self.referenceTrimmed(text)
            if value.first == 0x3C { value.removeFirst() }
            if value.last == 0x3E { value.removeLast() }
            value = Self.referenceTrimmed(String(decoding: value, as: UTF8.self)).map {
                $0 >= 65 && $0 <= 90 ? $0 + 32 : $0
            }
            if let at = value.lastIndex(of: 0x40), let plus = value[..<at].firstIndex(of: 0x2B), plus > 0 {
                value.removeSubrange(plus..<at)
            }
            let normalized = MailAddressForm.normalized(text)
            #expect(Array(normalized.utf8) == value)
            if normalized.utf8.first != 0x3C, normalized.utf8.last != 0x3E {
                #expect(MailAddressForm.normalized(normalized) == normalized)
            }
            if let domain = MailAddressForm.domain(text) {
                #expect(normalized.utf8.contains(0x40))
                #expect(!domain.isEmpty)
            }
            _ = MailAddressForm.localPart(of: text, is: "mailer-daemon")
        }
    }

    @Test func hexMatchesReference() async {
        await propertyCheck(count: 300, input: Self.bytes) { bytes in
            #expect(HexEncoding.lowercase(bytes) == Self.referenceHex(bytes))
        }
    }

    @Test func messageIDsAndMIMEValuesAlwaysReturn() async {
        await propertyCheck(count: 500, input: Self.text) { text in
            if let identifier = MessageIDParser.identifier(inText: text) {
                #expect(Self.referenceContains(Array(text.utf8), Array(identifier.utf8)))
            }
            _ = MessageIDParser.firstMessageIDField(inText: "x\r\n> Message-ID: " + text)
            let value = MIMEHeaderValue(text)
            #expect(!value.token.utf8.contains(where: { $0 >= 65 && $0 <= 90 }))
            _ = value.parameterText("report-type")
        }
    }

    // MARK: - Examples kept from MailClassification's former copies

    @Test(arguments: [("  Köln ", "Köln"), ("ö", "ö"), ("\t a b\r\n", "a b"), ("   ", ""), ("", ""), ("日本", "日本")])
    func trimmed(_ input: String, _ expected: String) {
        #expect(ByteText.trimmed(input) == expected)
    }

    @Test(arguments: [
        ("<Support+Billing@Example.COM>", "support@example.com"), ("a@b", "a@b"), ("+x@b.example", "+x@b.example"),
        ("NoDomain", "nodomain"),
        ("\"Jürgen Müller\" <J.Mueller@Example.TEST>", "\"jürgen müller\" <j.mueller@example.test"),
    ])
    func normalizedAddress(_ input: String, _ expected: String) {
        #expect(MailAddressForm.normalized(input) == expected)
    }

    @Test func localPartAndDomain() {
        #expect(MailAddressForm.localPart(of: "MAILER-DAEMON@x.example", is: "mailer-daemon"))
        #expect(MailAddressForm.localPart(of: "<postmaster@x.example>", is: "postmaster"))
        #expect(!MailAddressForm.localPart(of: "mailer-daemon-fan@x.example", is: "mailer-daemon"))
        #expect(MailAddressForm.domain("a@Mail.Example.") == "mail.example")
        #expect(MailAddressForm.domain("a@") == nil)
        #expect(MailAddressForm.domain("mail.example", matches: "example", includeSubdomains: true))
        #expect(!MailAddressForm.domain("mailexample", matches: "example", includeSubdomains: true))
        #expect(ByteText.containsIgnoringCase("The Mail Delivery System", "mail delivery"))
        #expect(!ByteText.containsIgnoringCase("Mail", "mail delivery"))
        // The display name that hung the daemon (issue 11): a multi-byte scalar before the end.
        #expect(!ByteText.containsIgnoringCase("Jürgen Müller", "mail delivery"))
        #expect(ByteText.containsIgnoringCase("Zürich Mail Delivery", "mail delivery"))
    }

    @Test func contentTypeParameters() {
        let value = MIMEHeaderValue("Multipart/Report; Report-Type=\"delivery-status\"; boundary=\"a;b\"")
        #expect(value.token == "multipart/report")
        #expect(value.parameterText("report-type") == "delivery-status")
        #expect(value.parameterText("Boundary") == "a;b")
        #expect(value.parameterText("charset") == nil)
    }

    @Test func messageIDsInText() {
        #expect(MessageIDParser.identifier(inText: " <abc@x.example> trailing") == "abc@x.example")
        #expect(MessageIDParser.identifier(inText: "rfc822; <a b@x>, id@host;") == "b@x")
        #expect(MessageIDParser.identifier(inText: "rfc822; id@host;") == "id@host")
        #expect(MessageIDParser.identifier(inText: "no identifier") == nil)
        #expect(
            MessageIDParser.firstMessageIDField(inText: "Intro\r\n> > message-id: <1@Ü.example>\r\nMessage-ID: <2@x>")
                == "1@Ü.example")
    }

    // MARK: - Linear cost, counted

    /// Counts element reads and index steps of the byte collection an algorithm walks.
    final class Counter { var steps = 0 }

    struct CountingBytes: BidirectionalCollection {
        let base: [UInt8]
        let counter: Counter
        var startIndex: Int { 0 }
        var endIndex: Int { base.count }
        subscript(position: Int) -> UInt8 {
            counter.steps += 1
            return base[position]
        }
        func index(after index: Int) -> Int {
            counter.steps += 1
            return index + 1
        }
        func index(before index: Int) -> Int {
            counter.steps += 1
            return index - 1
        }
    }

    func steps(_ bytes: [UInt8], _ operation: (CountingBytes) -> Void) -> Int {
        let counter = Counter()
        operation(CountingBytes(base: bytes, counter: counter))
        return counter.steps
    }

    @Test func searchAndTrimStepsGrowLinearly() async {
        // Worst cases for the search: a needle that almost matches everywhere; for trimming, all blanks.
        await propertyCheck(count: 50, input: Self.bytes.filter { !$0.isEmpty }) { seed in
            let needle = Array("aaaab".utf8)
            for unit in [seed, Array("aaaa".utf8), [0x20, 0x0D, 0x0A], [0xC3, 0xA4, 0x61]] {
                let small = Array(repeating: unit, count: 64).flatMap { $0 }
                let large = Array(repeating: unit, count: 8 * 64).flatMap { $0 }
                let searchSmall = steps(small) { _ = ByteText.firstRange(ofIgnoringCase: needle, in: $0) }
                let searchLarge = steps(large) { _ = ByteText.firstRange(ofIgnoringCase: needle, in: $0) }
                #expect(searchLarge <= 4 * needle.count * large.count + 16)
                #expect(
                    searchLarge <= 10 * searchSmall + 64, "search: \(searchSmall) steps for n, \(searchLarge) for 8n")
                let trimSmall = steps(small) { _ = ByteText.trimmedRange($0) }
                let trimLarge = steps(large) { _ = ByteText.trimmedRange($0) }
                #expect(trimLarge <= 4 * large.count + 8)
                #expect(trimLarge <= 10 * trimSmall + 64)
                let prefixLarge = steps(large) { _ = ByteText.hasPrefixIgnoringCase($0, needle) }
                #expect(prefixLarge <= 4 * needle.count + 8)
            }
        }
    }

    @Test func lineScannerStepsPerLine() {
        // One `next()` per line, each advancing: the scan of 8n bytes takes 8 times the steps of n bytes.
        func lineCount(_ bytes: [UInt8]) -> Int {
            bytes.withUnsafeBufferPointer { buffer in
                var scanner = LineScanner(buffer)
                var count = 0
                var last = -1
                while scanner.next() != nil {
                    #expect(scanner.position > last)
                    last = scanner.position
                    count += 1
                }
                return count
            }
        }
        let unit = Array("Grüße,\r\n\n é\r\n".utf8)
        let small = Array(repeating: unit, count: 1000).flatMap { $0 }
        let large = Array(repeating: unit, count: 8000).flatMap { $0 }
        #expect(lineCount(small) == 3000)
        #expect(lineCount(large) == 8 * lineCount(small))
    }
}
