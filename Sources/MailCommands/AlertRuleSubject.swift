import MailParser

/// One message's subject in folded form (`CaseFolding`), with the searches alert rules make in it.
struct AlertRuleSubject {
    /// The folded subject's UTF-8 bytes.
    let bytes: [UInt8]

    /// Folds `subject` once: O(n) in its scalars.
    init(_ subject: String) {
        bytes = CaseFolding.foldedUTF8(subject)
    }

    /// A configured phrase or name in folded, trimmed form; nil when blank (a blank phrase would match
    /// everywhere). O(m) in the phrase.
    static func key(_ phrase: String) -> [UInt8]? {
        let folded = CaseFolding.foldedUTF8(ByteText.trimmed(phrase))
        return folded.isEmpty ? nil : folded
    }

    /// The first occurrence of the folded `key` at or after `start`. O((n − start) × m) byte comparisons at worst
    /// (`ByteText.firstRange`), n the subject's bytes and m the key's: linear in the subject for a configured
    /// phrase.
    func firstRange(of key: [UInt8], from start: Int = 0) -> Range<Int>? {
        guard start <= bytes.count else { return nil }
        // Already folded on both sides: the ASCII case-insensitive search only meets lower case.
        return ByteText.firstRange(ofIgnoringCase: key, in: bytes[start...])
    }

    /// Whether the bytes from `start` are `key`, ending on a word boundary before `end`. O(m).
    func startsWord(_ key: [UInt8], at start: Int, end: Int) -> Bool {
        guard end - start >= key.count, bytes[start..<(start + key.count)].elementsEqual(key) else { return false }
        return isBoundary(after: start + key.count, end: end)
    }

    /// Whether the bytes just before `end` are `key`, starting on a word boundary. O(m).
    func endsWord(_ key: [UInt8], before end: Int, start: Int) -> Bool {
        guard end - start >= key.count, bytes[(end - key.count)..<end].elementsEqual(key) else { return false }
        return isBoundary(before: end - key.count, start: start)
    }

    /// The range without ASCII blanks at either end. O(blanks).
    func trimmed(_ range: Range<Int>) -> Range<Int> {
        ByteText.trimmedRange(bytes[range])
    }

    /// The text of a range for a reason (see `quoted(_:)`).
    func quoted(_ range: Range<Int>) -> String {
        Self.quoted(String(decoding: bytes[range], as: UTF8.self))
    }

    /// Text from the mail for a reason: escaped for logs and cut to 80 scalars. O(n) in the text's scalars.
    static func quoted(_ text: String) -> String {
        let scalars = text.unicodeScalars
        var cut = String.UnicodeScalarView()
        var count = 0
        for scalar in scalars {
            guard count < 80 else {
                cut.append("…")
                break
            }
            cut.append(scalar)
            count += 1
        }
        return "\"" + TerminalText.escaped(String(cut)) + "\""
    }

    private func isBoundary(after index: Int, end: Int) -> Bool {
        guard index < end else { return true }
        let scalar = String(decoding: bytes[index..<min(index + 4, end)], as: UTF8.self).unicodeScalars.first
        return scalar.map { !Self.isWordScalar($0) } ?? true
    }

    private func isBoundary(before index: Int, start: Int) -> Bool {
        guard index > start else { return true }
        var first = index - 1
        // Back over UTF-8 continuation bytes (at most three) to the scalar's first byte.
        while first > start, bytes[first] & 0xC0 == 0x80, index - first < 4 { first -= 1 }
        let scalar = String(decoding: bytes[first..<index], as: UTF8.self).unicodeScalars.first
        return scalar.map { !Self.isWordScalar($0) } ?? true
    }

    /// Letters and digits continue a word, except in scripts written without spaces (Han, kana, Thai), where an
    /// account name can be followed by anything.
    private static func isWordScalar(_ scalar: Unicode.Scalar) -> Bool {
        let value = scalar.value
        if value < 0x80 {
            let byte = UInt8(value)
            return (byte >= 0x30 && byte <= 0x39) || ((byte | 0x20) >= 0x61 && (byte | 0x20) <= 0x7A)
        }
        if scalar.properties.isIdeographic { return false }
        if (0x3040...0x30FF).contains(value) || (0x31F0...0x31FF).contains(value) || (0xFF66...0xFF9F).contains(value)
            || (0x0E00...0x0E7F).contains(value)
        {
            return false
        }
        return scalar.properties.isAlphabetic || scalar.properties.numericType != nil
    }
}
