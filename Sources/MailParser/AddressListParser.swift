/// RFC 5322 address lists, tolerant of what clients really write: display names with encoded words (even
/// inside quotes), comments (used as the name when there is no phrase), groups, route addresses, missing
/// angle brackets, and bare names next to addresses.
enum AddressListParser {
    static let maxAddresses = 10_000

    static func parse(
        _ value: ArraySlice<UInt8>, hint: String?, limits: ParserLimits, defects: inout [String]
    ) -> [MailAddress] {
        var addresses: [MailAddress] = []
        var phrase: [UInt8] = []
        // The words outside angle brackets, split at blanks; a quoted local part stays one word with its blanks.
        var bareWords: [[UInt8]] = []
        var bareWord: [UInt8] = []
        var comment: [UInt8] = []
        var angle: [UInt8]?
        var bareHasAt = false
        var index = value.startIndex
        let end = value.endIndex

        func endBareWord() {
            guard !bareWord.isEmpty else { return }
            bareWords.append(bareWord)
            bareWord.removeAll(keepingCapacity: true)
        }

        func emit(_ addresses: inout [MailAddress], _ defects: inout [String]) {
            endBareWord()
            defer {
                phrase.removeAll(keepingCapacity: true)
                bareWords.removeAll(keepingCapacity: true)
                comment.removeAll(keepingCapacity: true)
                angle = nil
                bareHasAt = false
            }
            guard addresses.count < maxAddresses else { return }
            var address: [UInt8]
            var nameBytes: ArraySlice<UInt8>
            if let angle {
                address = angle
                nameBytes = ByteText.trimmed(phrase[...])
            } else {
                // No angle brackets: the last word with an '@' is the address, the words before it a name.
                let words = bareWords
                guard let last = words.last else { return }
                if words.count > 1, last.contains(ASCIIByte.at) {
                    address = Array(last)
                    nameBytes = Array(words.dropLast().joined(separator: [ASCIIByte.space]))[...]
                } else {
                    address = words.joined().map { $0 }
                    nameBytes = []
                }
            }
            address = stripRoute(ByteText.trimmed(address[...]))
            if address.isEmpty { return }
            if nameBytes.isEmpty { nameBytes = ByteText.trimmed(comment[...]) }
            var name: String?
            if !nameBytes.isEmpty {
                let decoded = EncodedWords.decode(nameBytes, hint: hint, limits: limits, defects: &defects)
                let collapsed = ByteText.collapsingWhitespace(decoded)
                name = collapsed.isEmpty ? nil : collapsed
            }
            let addressText = EncodedWords.decodeRaw(address[...], hint: hint, limits: limits, defects: &defects)
            addresses.append(MailAddress(name: name, address: addressText))
        }

        while index < end {
            let byte = value[index]
            switch byte {
            case ASCIIByte.quote:
                let quoteStart = index
                index += 1
                while index < end, value[index] != ASCIIByte.quote {
                    if value[index] == ASCIIByte.backslash, index + 1 < end { index += 1 }
                    let inner = value[index]
                    phrase.append(inner == ASCIIByte.cr || inner == ASCIIByte.lf ? ASCIIByte.space : inner)
                    index += 1
                }
                let closeQuote = min(index, end)
                index += 1
                if index < end, value[index] == ASCIIByte.at {
                    // A quoted local part (`"System Administrator"@example.com`): one word, blanks kept.
                    bareWord += addrSpec(value[quoteStart..<index])
                } else {
                    for inner in value[(quoteStart + 1)..<closeQuote] {
                        if inner.isWhitespace {
                            endBareWord()
                        } else if inner != ASCIIByte.backslash {
                            bareWord.append(inner)
                        }
                        if inner == ASCIIByte.at { bareHasAt = true }
                    }
                }
            case ASCIIByte.openParen:
                let commentEnd = MIMEHeaderValue.skipComment(value, from: index)
                if !comment.isEmpty { comment.append(ASCIIByte.space) }
                let inner = value[(index + 1)..<max(index + 1, min(commentEnd, end) - 1)]
                comment.append(contentsOf: inner.filter { $0 != ASCIIByte.backslash })
                phrase.append(ASCIIByte.space)
                endBareWord()
                index = commentEnd
            case ASCIIByte.lessThan:
                // The closing `>` is the first outside a quoted local part.
                var close = index + 1
                var inQuotes = false
                while close < end {
                    let inner = value[close]
                    if inQuotes, inner == ASCIIByte.backslash {
                        close += 1
                    } else if inner == ASCIIByte.quote {
                        inQuotes.toggle()
                    } else if !inQuotes, inner == ASCIIByte.greaterThan {
                        break
                    }
                    close += 1
                }
                // An unbalanced quote: the first `>` at all closes (still one pass: the bracket ends at or after it).
                if close >= end { close = value[(index + 1)..<end].firstIndex(of: ASCIIByte.greaterThan) ?? end }
                if angle == nil { angle = addrSpec(value[(index + 1)..<close]) }
                index = min(close + 1, end)
            case ASCIIByte.comma:
                emit(&addresses, &defects)
                index += 1
            case ASCIIByte.colon where angle == nil && !bareHasAt:
                // Group name: dropped, its members are read as addresses.
                phrase.removeAll(keepingCapacity: true)
                bareWord.removeAll(keepingCapacity: true)
                bareWords.removeAll(keepingCapacity: true)
                comment.removeAll(keepingCapacity: true)
                index += 1
            case ASCIIByte.semicolon:
                emit(&addresses, &defects)
                index += 1
            default:
                if byte == ASCIIByte.at { bareHasAt = true }
                phrase.append(byte == ASCIIByte.cr || byte == ASCIIByte.lf || byte == ASCIIByte.tab ? 0x20 : byte)
                if byte.isWhitespace { endBareWord() } else { bareWord.append(byte) }
                index += 1
            }
        }
        emit(&addresses, &defects)
        return addresses
    }

    /// An addr-spec as written (inside angle brackets, or a quoted local part): blanks and line breaks outside
    /// quotes dropped (folding), a quoted local part kept quoted only when it must be, as Python's `email`
    /// writes it: `"System Administrator"@example.com` keeps its quotes and its blank, `"john.doe"@example.com`
    /// becomes `john.doe@example.com`. O(n) in the bytes, one pass.
    static func addrSpec(_ bytes: ArraySlice<UInt8>) -> [UInt8] {
        var result: [UInt8] = []
        result.reserveCapacity(bytes.count)
        var quoted: [UInt8]?
        var index = bytes.startIndex
        while index < bytes.endIndex {
            let byte = bytes[index]
            index += 1
            if quoted != nil {
                if byte == ASCIIByte.quote {
                    result += quotedLocalPart(quoted!)
                    quoted = nil
                } else if byte == ASCIIByte.backslash, index < bytes.endIndex {
                    quoted!.append(bytes[index])
                    index += 1
                } else if byte != ASCIIByte.cr, byte != ASCIIByte.lf {
                    quoted!.append(byte)
                }
            } else if byte == ASCIIByte.quote {
                quoted = []
            } else if !byte.isWhitespace {
                result.append(byte)
            }
        }
        if let quoted { result += quotedLocalPart(quoted) }
        return result
    }

    /// The content of a quoted local part, quoted again (with `\` and `"` escaped) when it holds a blank or
    /// a special other than `.`, else bare.
    private static func quotedLocalPart(_ content: [UInt8]) -> [UInt8] {
        let specials: [UInt8] = Array("()<>@,:;\\\"[]".utf8)
        guard content.isEmpty || content.contains(where: { $0.isWhitespace || specials.contains($0) }) else {
            return content
        }
        var result: [UInt8] = [ASCIIByte.quote]
        for byte in content {
            if byte == ASCIIByte.quote || byte == ASCIIByte.backslash { result.append(ASCIIByte.backslash) }
            result.append(byte)
        }
        result.append(ASCIIByte.quote)
        return result
    }

    /// `@relay1,@relay2:user@host` (obsolete route) → `user@host`; also drops a `mailto:` prefix.
    private static func stripRoute(_ address: ArraySlice<UInt8>) -> [UInt8] {
        var result = address
        if result.first == ASCIIByte.at, let colon = result.firstIndex(of: ASCIIByte.colon) {
            result = result[(colon + 1)...]
        }
        if ByteText.hasPrefixIgnoringCase(result, "mailto:") { result = result.dropFirst(7) }
        return Array(result)
    }
}
