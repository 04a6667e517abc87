import MailParser

/// Small ASCII-only text operations on header values. Header names, tokens and addresses are ASCII in
/// practice, so working on UTF-8 bytes avoids Unicode case folding on the per-message path.
enum HeaderText {
    static func lowercasedASCII(_ text: String) -> String { lowercasedASCII(text[...]) }

    static func lowercasedASCII(_ text: Substring) -> String {
        let utf8 = text.utf8
        guard utf8.contains(where: { $0 >= 0x41 && $0 <= 0x5A }) else { return String(text) }
        return String(unsafeUninitializedCapacity: utf8.count) { buffer in
            var count = 0
            for byte in utf8 {
                buffer[count] = byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte
                count += 1
            }
            return count
        }
    }

    static func isBlank(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0D || byte == 0x0A
    }

    static func trimmed(_ text: some StringProtocol) -> Substring {
        let string = Substring(text)
        guard let first = string.utf8.firstIndex(where: { !isBlank($0) }) else { return "" }
        // The byte after the last non-blank one is on a scalar boundary (blanks are ASCII), the last
        // non-blank byte itself may be inside a multi-byte scalar.
        let end = string.utf8.index(after: string.utf8.lastIndex(where: { !isBlank($0) })!)
        return string[first..<end]
    }

    /// Compares ASCII case-insensitively without allocating.
    static func equalsIgnoringCase(_ lhs: some StringProtocol, _ rhs: some StringProtocol) -> Bool {
        lhs.utf8.count == rhs.utf8.count && hasPrefixIgnoringCase(lhs, rhs)
    }

    static func hasPrefixIgnoringCase(_ text: some StringProtocol, _ prefix: some StringProtocol) -> Bool {
        var textBytes = text.utf8.makeIterator()
        for expected in prefix.utf8 {
            guard let byte = textBytes.next(), sameIgnoringCase(byte, expected) else { return false }
        }
        return true
    }

    /// Whether `text` contains `needle` (ASCII case-insensitive). Works on the UTF-8 bytes, so every step
    /// advances by one byte whatever the scalars are: O(text × needle) bytes compared, needles are short.
    static func containsIgnoringCase(_ text: String, _ needle: String) -> Bool {
        let haystack = Array(text.utf8)
        let pattern = Array(needle.utf8)
        guard !pattern.isEmpty else { return true }
        guard haystack.count >= pattern.count else { return false }
        for start in 0...(haystack.count - pattern.count) {
            var offset = 0
            while offset < pattern.count, sameIgnoringCase(haystack[start + offset], pattern[offset]) { offset += 1 }
            if offset == pattern.count { return true }
        }
        return false
    }

    /// Whether an address's local part (before the last `@`) is `localPart` (given in lower case).
    static func localPart(of address: String, is localPart: String) -> Bool {
        guard let at = address.utf8.lastIndex(of: UInt8(ascii: "@")) else { return false }
        var local = address[..<at]
        if local.utf8.first == UInt8(ascii: "<") { local = local.dropFirst() }
        return equalsIgnoringCase(local, localPart)
    }

    private static func sameIgnoringCase(_ a: UInt8, _ b: UInt8) -> Bool {
        if a == b { return true }
        let folded = a | 0x20
        return folded == b | 0x20 && folded >= 0x61 && folded <= 0x7A
    }

    /// The first token of a header value (`auto-replied; foo` → `auto-replied`), lower-cased.
    static func firstToken(_ value: String) -> String {
        let trimmedValue = trimmed(value)
        let end =
            trimmedValue.utf8.firstIndex(where: { $0 == UInt8(ascii: ";") || $0 == UInt8(ascii: ",") || isBlank($0) })
            ?? trimmedValue.endIndex
        return lowercasedASCII(trimmedValue[..<end])
    }

    /// Comma-separated items, trimmed, empty ones dropped.
    static func commaSeparated(_ value: String) -> [Substring] {
        value.split(separator: ",").map { trimmed($0) }.filter { !$0.isEmpty }
    }
}

/// A normalised mail address: lower-cased, angle brackets and a `+tag` sub-address removed.
enum AddressForm {
    /// `"<Support+Billing@Example.COM>"` → `support@example.com`.
    static func normalized(_ address: some StringProtocol) -> String {
        var value = HeaderText.trimmed(address)
        if value.hasPrefix("<") { value = value.dropFirst() }
        if value.hasSuffix(">") { value = value.dropLast() }
        let lowered = HeaderText.lowercasedASCII(HeaderText.trimmed(value))
        guard let at = lowered.utf8.lastIndex(of: UInt8(ascii: "@")) else { return lowered }
        let local = lowered[..<at]
        guard let plus = local.utf8.firstIndex(of: UInt8(ascii: "+")), plus != local.startIndex else { return lowered }
        return String(local[..<plus]) + String(lowered[at...])
    }

    /// The lower-cased domain of an address, without a trailing dot; nil without `@`.
    static func domain(_ address: some StringProtocol) -> String? {
        let lowered = normalized(address)
        guard let at = lowered.utf8.lastIndex(of: UInt8(ascii: "@")) else { return nil }
        var domain = lowered[lowered.index(after: at)...]
        if domain.hasSuffix(".") { domain = domain.dropLast() }
        return domain.isEmpty ? nil : String(domain)
    }

    /// The lower-cased local part; the whole value without `@`.
    static func localPart(_ address: some StringProtocol) -> String {
        let lowered = normalized(address)
        guard let at = lowered.utf8.lastIndex(of: UInt8(ascii: "@")) else { return lowered }
        return String(lowered[..<at])
    }

    /// Whether `domain` is `parent` or, when `includeSubdomains`, a subdomain of it.
    static func domain(_ domain: String, matches parent: String, includeSubdomains: Bool) -> Bool {
        if domain == parent { return true }
        guard includeSubdomains, domain.utf8.count > parent.utf8.count + 1 else { return false }
        return domain.hasSuffix("." + parent)
    }
}

/// A MIME header value split into its token (`multipart/report`) and parameters (`report-type`).
/// Parameter names are lower-cased; quoted values are unquoted. Enough for Content-Type decisions here;
/// RFC 2231 continuations are not needed for the parameters this module reads.
struct MIMEValue {
    var token: String
    var parameters: [String: String]

    init(_ value: String) {
        var items: [Substring] = []
        var start = value.startIndex
        var inQuotes = false
        var index = value.startIndex
        while index < value.endIndex {
            let character = value[index]
            if character == "\"" {
                inQuotes.toggle()
            } else if character == "\\", inQuotes {
                index = value.index(after: index)
                if index == value.endIndex { break }
            } else if character == ";", !inQuotes {
                items.append(value[start..<index])
                start = value.index(after: index)
            }
            index = value.index(after: index)
        }
        items.append(value[start...])
        token = HeaderText.lowercasedASCII(HeaderText.trimmed(items.first ?? ""))
        var parameters: [String: String] = [:]
        for item in items.dropFirst() {
            guard let equals = item.firstIndex(of: "=") else { continue }
            let name = HeaderText.lowercasedASCII(HeaderText.trimmed(item[..<equals]))
            var raw = HeaderText.trimmed(item[item.index(after: equals)...])
            if raw.hasPrefix("\""), raw.hasSuffix("\""), raw.count >= 2 {
                raw = raw.dropFirst().dropLast()
            }
            if parameters[name] == nil { parameters[name] = String(raw) }
        }
        self.parameters = parameters
    }
}

/// Finds a Message-ID (`<...>`) on a line of free text.
enum MessageIDText {
    /// The identifier inside the first `<...>` of `text`, or the first whitespace-free word containing `@`.
    static func identifier(in text: some StringProtocol) -> String? {
        let value = HeaderText.trimmed(text)
        if let open = value.firstIndex(of: "<"), let close = value[open...].firstIndex(of: ">") {
            let inner = HeaderText.trimmed(value[value.index(after: open)..<close])
            if !inner.isEmpty, !inner.utf8.contains(0x20) { return String(inner) }
        }
        for word in value.split(whereSeparator: { $0 == " " || $0 == "\t" }) where word.utf8.contains(0x40) {
            return String(word.trimmingCharacters(in: "<>,;"))
        }
        return nil
    }

    /// The Message-ID named by the first `Message-ID:` line of a text body (for bounces that quote the
    /// original headers as plain text, e.g. Exim's "This is a copy of the message").
    static func firstMessageIDHeader(inBody body: String) -> String? {
        for line in TextLines.lines(body) {
            var content = HeaderText.trimmed(line)
            while content.hasPrefix(">") { content = HeaderText.trimmed(content.dropFirst()) }
            guard HeaderText.hasPrefixIgnoringCase(content, "message-id:") else { continue }
            if let found = identifier(in: content.dropFirst("message-id:".count)) { return found }
        }
        return nil
    }
}

extension Substring {
    fileprivate func trimmingCharacters(in set: String) -> Substring {
        var result = self
        while let first = result.first, set.contains(first) { result = result.dropFirst() }
        while let last = result.last, set.contains(last) { result = result.dropLast() }
        return result
    }
}

/// Line splitting on bytes: in Swift, `"\r\n"` is one `Character`, so splitting a String on `"\n"` would
/// miss CRLF line ends.
enum TextLines {
    /// The lines of `text`, split at LF, a trailing CR removed from each; empty lines kept.
    static func lines(_ text: String) -> [Substring] {
        var lines: [Substring] = []
        let utf8 = text.utf8
        var start = utf8.startIndex
        var index = utf8.startIndex
        while index < utf8.endIndex {
            if utf8[index] == 0x0A {
                var end = index
                if end > start, utf8[utf8.index(before: end)] == 0x0D { end = utf8.index(before: end) }
                lines.append(text[start..<end])
                start = utf8.index(after: index)
            }
            index = utf8.index(after: index)
        }
        if start < utf8.endIndex {
            var end = utf8.endIndex
            if utf8[utf8.index(before: end)] == 0x0D { end = utf8.index(before: end) }
            lines.append(text[start..<end])
        }
        return lines
    }
}
