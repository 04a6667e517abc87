/// Message-ID, In-Reply-To and References values.
public enum MessageIDParser {
    static let maxIdentifiers = 1000

    /// Every `<id>` in the value, without brackets, in order, duplicates removed. When there are no
    /// brackets at all, blank-separated words containing `@` are taken instead. O(n) in the value's bytes: a
    /// bracket's scan stops at the next `<`, where the following one starts; at most `maxIdentifiers` kept.
    static func identifiers(_ value: ArraySlice<UInt8>) -> [String] {
        var result: [String] = []
        var seen = Set<String>()
        var index = value.startIndex
        var sawBracket = false
        while index < value.endIndex, result.count < maxIdentifiers {
            let byte = value[index]
            if byte == ASCIIByte.openParen {
                index = MIMEHeaderValue.skipComment(value, from: index)
                continue
            }
            if byte == ASCIIByte.lessThan {
                sawBracket = true
                var close = index + 1
                while close < value.endIndex, value[close] != ASCIIByte.greaterThan, value[close] != ASCIIByte.lessThan
                {
                    close += 1
                }
                let inner = value[(index + 1)..<close].filter { !$0.isWhitespace }
                if !inner.isEmpty {
                    let identifier = String(decoding: inner, as: UTF8.self)
                    if seen.insert(identifier).inserted { result.append(identifier) }
                }
                index = close < value.endIndex && value[close] == ASCIIByte.greaterThan ? close + 1 : close
                continue
            }
            index += 1
        }
        if !sawBracket {
            for word in value.split(whereSeparator: { $0.isWhitespace || $0 == ASCIIByte.comma })
            where word.contains(ASCIIByte.at) && result.count < maxIdentifiers {
                let identifier = String(decoding: word, as: UTF8.self)
                if seen.insert(identifier).inserted { result.append(identifier) }
            }
        }
        return result
    }

    /// The first identifier; a bracket-less value without `@` is kept as written when it has no blanks.
    static func messageID(_ value: ArraySlice<UInt8>) -> String? {
        if let first = identifiers(value).first { return first }
        let trimmed = ByteText.trimmed(value)
        guard !trimmed.isEmpty, !trimmed.contains(where: { $0.isWhitespace }) else { return nil }
        return String(decoding: trimmed, as: UTF8.self)
    }

    /// The identifier named in free text (a report field, a quoted header line): inside the first `<...>`
    /// when that holds no blank, else the first blank-free word containing `@` without surrounding `<>,;`.
    /// O(n) in the text's bytes.
    public static func identifier(inText text: some StringProtocol) -> String? {
        let bytes = Array(ByteText.trimmed(text).utf8)[...]
        if let open = bytes.firstIndex(of: ASCIIByte.lessThan),
            let close = bytes[open...].firstIndex(of: ASCIIByte.greaterThan)
        {
            let inner = ByteText.trimmed(bytes[(open + 1)..<close])
            if !inner.isEmpty, !inner.contains(ASCIIByte.space) { return String(decoding: inner, as: UTF8.self) }
        }
        func isWrapper(_ byte: UInt8) -> Bool {
            byte == ASCIIByte.lessThan || byte == ASCIIByte.greaterThan || byte == ASCIIByte.comma
                || byte == ASCIIByte.semicolon
        }
        for word in bytes.split(whereSeparator: { $0 == ASCIIByte.space || $0 == ASCIIByte.tab })
        where word.contains(ASCIIByte.at) {
            var trimmedWord = word
            while let first = trimmedWord.first, isWrapper(first) { trimmedWord = trimmedWord.dropFirst() }
            while let last = trimmedWord.last, isWrapper(last) { trimmedWord = trimmedWord.dropLast() }
            return String(decoding: trimmedWord, as: UTF8.self)
        }
        return nil
    }

    /// The identifier of the first `Message-ID:` line of a text (a bounce that quotes the original headers as
    /// plain text, e.g. Exim's "This is a copy of the message"), `>` quote marks skipped. O(n) in the text's
    /// bytes: one `LineScanner` pass.
    public static func firstMessageIDField(inText text: String) -> String? {
        for line in LineScanner.lines(text) {
            var content = ByteText.trimmed(line)
            while content.utf8.first == ASCIIByte.greaterThan {
                content = ByteText.trimmed(content[content.utf8.index(after: content.startIndex)...])
            }
            guard ByteText.hasPrefixIgnoringCase(content, "message-id:") else { continue }
            if let found = identifier(inText: content.dropFirst("message-id:".count)) { return found }
        }
        return nil
    }
}
