/// RFC 2047 encoded words and raw 8-bit (RFC 6532) header text.
enum EncodedWords {
    /// Decodes an unstructured header value (or a display name): encoded words are decoded, the blanks
    /// between adjacent encoded words dropped, and adjacent words in the same charset are joined before
    /// charset conversion so a multibyte character split across two words survives. Raw 8-bit bytes are
    /// read as UTF-8, else in `hint` or a guessed charset.
    static func decode(
        _ value: ArraySlice<UInt8>, hint: String?, limits: ParserLimits, defects: inout [String]
    ) -> String {
        guard containsEncodedWordStart(value) else {
            return decodeRaw(value, hint: hint, limits: limits, defects: &defects)
        }
        var output = ""
        var pendingCharset: String?
        var pendingBytes: [UInt8] = []
        var literalStart = value.startIndex
        var index = value.startIndex
        var previousWasEncoded = false

        func flushPending(_ output: inout String, _ defects: inout [String]) {
            guard let charset = pendingCharset else { return }
            output += CharsetDecoding.decode(pendingBytes, label: charset, limits: limits, defects: &defects)
            pendingCharset = nil
            pendingBytes.removeAll(keepingCapacity: true)
        }

        while index < value.endIndex {
            guard value[index] == ASCIIByte.equals, index + 1 < value.endIndex,
                value[index + 1] == ASCIIByte.question,
                let word = parseWord(value, at: index)
            else {
                index += 1
                continue
            }
            let literal = value[literalStart..<index]
            let literalIsBlank = literal.allSatisfy { $0.isWhitespace }
            if !(previousWasEncoded && literalIsBlank) {
                flushPending(&output, &defects)
                output += decodeRaw(literal, hint: hint, limits: limits, defects: &defects)
            }
            let decoded = word.bytes
            if let charset = pendingCharset, charset == word.charset {
                pendingBytes.append(contentsOf: decoded)
            } else {
                flushPending(&output, &defects)
                pendingCharset = word.charset
                pendingBytes.append(contentsOf: decoded)
            }
            previousWasEncoded = true
            index = word.end
            literalStart = index
        }
        flushPending(&output, &defects)
        if literalStart < value.endIndex {
            output += decodeRaw(value[literalStart...], hint: hint, limits: limits, defects: &defects)
        }
        return output
    }

    static func containsEncodedWordStart(_ value: ArraySlice<UInt8>) -> Bool {
        var index = value.startIndex
        while index + 1 < value.endIndex {
            if value[index] == ASCIIByte.equals, value[index + 1] == ASCIIByte.question { return true }
            index += 1
        }
        return false
    }

    /// Header text without encoded words: UTF-8 (RFC 6532) when valid, else a legacy decoding.
    static func decodeRaw(
        _ value: ArraySlice<UInt8>, hint: String?, limits: ParserLimits, defects: inout [String]
    ) -> String {
        value.withUnsafeBufferPointer { buffer in
            if ByteText.isASCII(buffer) { return String(decoding: buffer, as: UTF8.self) }
            if let text = String(validating: buffer, as: UTF8.self) { return text }
            defects.append("raw 8-bit header text that is not UTF-8; charset guessed")
            return CharsetDecoding.decodeLegacyGuess(buffer, hint: hint, limits: limits)
        }
    }

    static let maxEncodedTextLength = 1024

    struct Word {
        /// Lower-cased charset, without an RFC 2231 `*language` suffix.
        var charset: String
        var bytes: [UInt8]
        /// Index just past the closing `?=`.
        var end: Int
    }

    /// Parses `=?charset?B|Q?text?=` at `start`. Blanks inside the text are tolerated (some clients emit
    /// them); the text ends at the first `?=`.
    static func parseWord(_ value: ArraySlice<UInt8>, at start: Int) -> Word? {
        var index = start + 2
        let charsetStart = index
        while index < value.endIndex, value[index] != ASCIIByte.question {
            let byte = value[index]
            if byte.isWhitespace || byte == ASCIIByte.equals || index - charsetStart > 64 { return nil }
            index += 1
        }
        guard index > charsetStart, index + 2 < value.endIndex, value[index + 2] == ASCIIByte.question else {
            return nil
        }
        var charsetBytes = value[charsetStart..<index]
        if let star = charsetBytes.firstIndex(of: ASCIIByte.asterisk) {
            charsetBytes = charsetBytes[charsetBytes.startIndex..<star]
        }
        let encoding = value[index + 1].lowercasedASCII
        guard encoding == 0x62 || encoding == 0x71 else { return nil }  // "b" or "q"
        let textStart = index + 3
        var textEnd = textStart
        // RFC 2047 words are at most 75 bytes; a generous cap keeps many unterminated "=?" linear.
        let searchEnd = min(value.endIndex, textStart + maxEncodedTextLength)
        while textEnd + 1 < searchEnd {
            if value[textEnd] == ASCIIByte.question, value[textEnd + 1] == ASCIIByte.equals { break }
            if value[textEnd] == ASCIIByte.cr || value[textEnd] == ASCIIByte.lf { return nil }
            textEnd += 1
        }
        guard textEnd + 1 < searchEnd else { return nil }
        let text = value[textStart..<textEnd]
        let bytes = text.withUnsafeBufferPointer { buffer in
            encoding == 0x62
                ? TransferDecoding.base64(buffer).bytes
                : TransferDecoding.quotedPrintable(buffer, underscoreIsSpace: true)
        }
        return Word(charset: ByteText.lowercasedString(charsetBytes), bytes: bytes, end: textEnd + 2)
    }
}
