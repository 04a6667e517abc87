/// Reads the prolog (everything before the root element) before libxml2 does, so that a `<!DOCTYPE` — and with it
/// every entity declaration, external entity and billion-laughs expansion — is refused before any parser sees
/// it, and so that only ASCII-compatible encodings reach libxml2 (in UTF-16, EBCDIC or UTF-7 this byte scan could
/// not see a DOCTYPE). O(n) in the prolog's bytes, one forward pass; stops at the root element.
enum XMLPrologScanner {
    /// Encodings whose prolog is plain ASCII bytes (lower-cased names as the XML declaration may spell them).
    static let allowedEncodings: Set<String> = {
        var names: Set<String> = ["utf-8", "utf8", "us-ascii", "ascii", "latin1", "latin-1"]
        for part in 1...16 { names.insert("iso-8859-\(part)") }
        for page in 1250...1258 { names.insert("windows-\(page)") }
        return names
    }()

    /// Throws when the prolog holds a DOCTYPE or names an encoding that is not allowed, or the document does not
    /// start like XML in an ASCII-compatible encoding. Anything else (unterminated comments and the like) is left
    /// to libxml2, which reports it.
    static func check(_ bytes: UnsafeBufferPointer<UInt8>) throws(XMLTransactionError) {
        var index = 0
        if bytes.count >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF { index = 3 }
        var first = true
        while index < bytes.count {
            let byte = bytes[index]
            if byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D {
                index += 1
                continue
            }
            guard byte == 0x3C else {
                if byte == 0x00 || byte == 0xFE || byte == 0xFF {
                    throw XMLTransactionError(.unsupportedEncoding("UTF-16 or UTF-32"), line: 1)
                }
                throw XMLTransactionError(.notXML(reason: "the document does not start with '<'"), line: 1)
            }
            if index + 1 < bytes.count, bytes[index + 1] == 0x00 {
                throw XMLTransactionError(.unsupportedEncoding("UTF-16 or UTF-32"), line: 1)
            }
            if matches(bytes, at: index, "<?") {
                let end = find(bytes, "?>", from: index + 2) ?? bytes.count
                if first, matches(bytes, at: index, "<?xml"), index + 5 < bytes.count, isSpace(bytes[index + 5]) {
                    try checkDeclaredEncoding(bytes, declaration: index..<end)
                }
                index = end + 2
            } else if matches(bytes, at: index, "<!--") {
                index = (find(bytes, "-->", from: index + 4) ?? bytes.count) + 3
            } else if matchesIgnoringCase(bytes, at: index, "<!doctype") {
                throw XMLTransactionError(.doctypeRefused, line: line(of: index, in: bytes))
            } else {
                return  // the root element (or something libxml2 will refuse)
            }
            first = false
        }
    }

    /// The declaration's `encoding="…"` must name an allowed encoding. O(declaration's bytes).
    private static func checkDeclaredEncoding(
        _ bytes: UnsafeBufferPointer<UInt8>, declaration: Range<Int>
    ) throws(XMLTransactionError) {
        guard let key = find(bytes, "encoding", from: declaration.lowerBound, before: declaration.upperBound) else {
            return
        }
        var index = key + 8
        while index < declaration.upperBound, isSpace(bytes[index]) || bytes[index] == 0x3D { index += 1 }
        guard index < declaration.upperBound, bytes[index] == 0x22 || bytes[index] == 0x27 else { return }
        let quote = bytes[index]
        let start = index + 1
        var end = start
        while end < declaration.upperBound, bytes[end] != quote { end += 1 }
        let name = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<end]), as: UTF8.self)
        guard allowedEncodings.contains(name.lowercased()) else {
            throw XMLTransactionError(.unsupportedEncoding(String(name.prefix(40))), line: 1)
        }
    }

    private static func isSpace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D
    }

    private static func matches(_ bytes: UnsafeBufferPointer<UInt8>, at index: Int, _ text: StaticString) -> Bool {
        guard index + text.utf8CodeUnitCount <= bytes.count else { return false }
        for offset in 0..<text.utf8CodeUnitCount where bytes[index + offset] != text.utf8Start[offset] {
            return false
        }
        return true
    }

    /// `lowercaseText` is lower-case ASCII; the bytes are compared ASCII-case-insensitively.
    private static func matchesIgnoringCase(
        _ bytes: UnsafeBufferPointer<UInt8>, at index: Int, _ lowercaseText: StaticString
    ) -> Bool {
        guard index + lowercaseText.utf8CodeUnitCount <= bytes.count else { return false }
        for offset in 0..<lowercaseText.utf8CodeUnitCount {
            var byte = bytes[index + offset]
            if byte >= 0x41 && byte <= 0x5A { byte |= 0x20 }
            if byte != lowercaseText.utf8Start[offset] { return false }
        }
        return true
    }

    /// The first index of `text` at or after `from` (and ending before `end`); each start is tried once, so
    /// O(n · |text|) with |text| ≤ 8.
    private static func find(
        _ bytes: UnsafeBufferPointer<UInt8>, _ text: StaticString, from: Int, before end: Int? = nil
    ) -> Int? {
        let limit = min(end ?? bytes.count, bytes.count)
        var index = from
        while index + text.utf8CodeUnitCount <= limit {
            if matches(bytes, at: index, text) { return index }
            index += 1
        }
        return nil
    }

    /// 1-based line of a prolog offset. O(offset).
    private static func line(of offset: Int, in bytes: UnsafeBufferPointer<UInt8>) -> Int {
        var line = 1
        for index in 0..<offset where bytes[index] == 0x0A { line += 1 }
        return line
    }
}
