/// Message-ID, In-Reply-To and References values.
enum MessageIDParser {
    static let maxIdentifiers = 1000

    /// Every `<id>` in the value, without brackets, in order, duplicates removed. When there are no
    /// brackets at all, blank-separated words containing `@` are taken instead.
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
}
