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
        var bare: [UInt8] = []
        var comment: [UInt8] = []
        var angle: [UInt8]?
        var bareHasAt = false
        var index = value.startIndex
        let end = value.endIndex

        func emit(_ addresses: inout [MailAddress], _ defects: inout [String]) {
            defer {
                phrase.removeAll(keepingCapacity: true)
                bare.removeAll(keepingCapacity: true)
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
                let words = bare.split(whereSeparator: { $0.isWhitespace })
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
                index += 1
                while index < end, value[index] != ASCIIByte.quote {
                    if value[index] == ASCIIByte.backslash, index + 1 < end { index += 1 }
                    let inner = value[index]
                    phrase.append(inner == ASCIIByte.cr || inner == ASCIIByte.lf ? ASCIIByte.space : inner)
                    bare.append(inner)
                    if inner == ASCIIByte.at { bareHasAt = true }
                    index += 1
                }
                index += 1
            case ASCIIByte.openParen:
                let commentEnd = MIMEHeaderValue.skipComment(value, from: index)
                if !comment.isEmpty { comment.append(ASCIIByte.space) }
                let inner = value[(index + 1)..<max(index + 1, min(commentEnd, end) - 1)]
                comment.append(contentsOf: inner.filter { $0 != ASCIIByte.backslash })
                phrase.append(ASCIIByte.space)
                bare.append(ASCIIByte.space)
                index = commentEnd
            case ASCIIByte.lessThan:
                var close = index + 1
                while close < end, value[close] != ASCIIByte.greaterThan { close += 1 }
                let inner = value[(index + 1)..<close].filter { !$0.isWhitespace && $0 != ASCIIByte.quote }
                if angle == nil { angle = inner }
                index = min(close + 1, end)
            case ASCIIByte.comma:
                emit(&addresses, &defects)
                index += 1
            case ASCIIByte.colon where angle == nil && !bareHasAt:
                // Group name: dropped, its members are read as addresses.
                phrase.removeAll(keepingCapacity: true)
                bare.removeAll(keepingCapacity: true)
                comment.removeAll(keepingCapacity: true)
                index += 1
            case ASCIIByte.semicolon:
                emit(&addresses, &defects)
                index += 1
            default:
                if byte == ASCIIByte.at { bareHasAt = true }
                phrase.append(byte == ASCIIByte.cr || byte == ASCIIByte.lf || byte == ASCIIByte.tab ? 0x20 : byte)
                bare.append(byte)
                index += 1
            }
        }
        emit(&addresses, &defects)
        return addresses
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
