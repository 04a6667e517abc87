/// A structured MIME header value (`Content-Type`, `Content-Disposition`): a lower-cased leading token
/// and `;`-separated parameters, with RFC 2231 continuations and charsets. Parsing is O(n) in the value's
/// bytes, one pass; at most `maxParameters` parameters are kept.
public struct MIMEHeaderValue: Sendable {
    struct RawParameter: Sendable {
        /// Lower-cased name without the RFC 2231 `*n` / `*` suffix.
        var name: String
        var section: Int?
        var extended: Bool
        var value: [UInt8]
    }

    /// Lower-cased `type/subtype` or disposition token.
    public private(set) var token: String
    var parameters: [RawParameter]

    static let maxParameters = 256

    /// Parses a header value given as text (the header field's decoded value).
    public init(_ value: some StringProtocol) {
        self.init(Array(value.utf8)[...])
    }

    init(_ value: ArraySlice<UInt8>) {
        var index = value.startIndex
        let end = value.endIndex
        var tokenBytes: [UInt8] = []
        while index < end, value[index] != ASCIIByte.semicolon {
            let byte = value[index]
            if byte == ASCIIByte.openParen {
                index = MIMEHeaderValue.skipComment(value, from: index)
                continue
            }
            if !byte.isWhitespace && byte != ASCIIByte.quote { tokenBytes.append(byte.lowercasedASCII) }
            index += 1
        }
        token = String(decoding: tokenBytes, as: UTF8.self)
        parameters = []
        while index < end, parameters.count < MIMEHeaderValue.maxParameters {
            index += 1  // the ';'
            while index < end, value[index].isWhitespace || value[index] == ASCIIByte.semicolon { index += 1 }
            guard index < end else { break }
            var nameBytes: [UInt8] = []
            while index < end, value[index] != ASCIIByte.equals, value[index] != ASCIIByte.semicolon {
                if !value[index].isWhitespace { nameBytes.append(value[index].lowercasedASCII) }
                index += 1
            }
            guard index < end, value[index] == ASCIIByte.equals else { continue }
            index += 1
            while index < end, value[index].isBlank || value[index] == ASCIIByte.cr || value[index] == ASCIIByte.lf {
                index += 1
            }
            var raw: [UInt8] = []
            if index < end, value[index] == ASCIIByte.quote {
                index += 1
                while index < end, value[index] != ASCIIByte.quote {
                    if value[index] == ASCIIByte.backslash, index + 1 < end {
                        // Windows paths in unescaped filenames are common; keep a backslash unless it escapes
                        // a quote or a backslash.
                        let next = value[index + 1]
                        if next == ASCIIByte.quote || next == ASCIIByte.backslash {
                            index += 1
                        }
                    }
                    raw.append(value[index])
                    index += 1
                }
                if index < end { index += 1 }
                while index < end, value[index] != ASCIIByte.semicolon { index += 1 }
            } else {
                let start = index
                while index < end, value[index] != ASCIIByte.semicolon { index += 1 }
                raw = Array(ByteText.trimmed(value[start..<index]))
            }
            var name = nameBytes[...]
            var extended = false
            var section: Int?
            if name.last == ASCIIByte.asterisk {
                extended = true
                name = name.dropLast()
            }
            if let star = name.lastIndex(of: ASCIIByte.asterisk) {
                let digits = name[(star + 1)...]
                if !digits.isEmpty, digits.count <= 4, digits.allSatisfy({ $0.isDigit }) {
                    section = digits.reduce(0) { $0 * 10 + Int($1 - 0x30) }
                    name = name[..<star]
                }
            }
            parameters.append(
                RawParameter(
                    name: String(decoding: name, as: UTF8.self), section: section, extended: extended, value: raw))
        }
    }

    static func skipComment(_ value: ArraySlice<UInt8>, from start: Int) -> Int {
        var depth = 0
        var index = start
        while index < value.endIndex {
            switch value[index] {
            case ASCIIByte.backslash: index += 1
            case ASCIIByte.openParen: depth += 1
            case ASCIIByte.closeParen:
                depth -= 1
                if depth == 0 { return index + 1 }
            default: break
            }
            index += 1
        }
        return index
    }

    /// `type/subtype` with a usable default: `text/plain` when missing or malformed.
    var mediaType: (type: Substring, subtype: Substring)? {
        guard let slash = token.firstIndex(of: "/") else { return nil }
        let type = token[..<slash]
        let subtype = token[token.index(after: slash)...]
        guard !type.isEmpty, !subtype.isEmpty else { return nil }
        return (type, subtype)
    }

    /// The parameter's bytes without charset conversion (for `boundary`, which is case-sensitive, and for
    /// `charset`, `format` and similar tokens). The plain form wins; an RFC 2231 form (`boundary*=''x`,
    /// sections) is joined and percent-decoded.
    func rawParameter(_ name: String) -> [UInt8]? {
        if let plain = parameters.first(where: { $0.name == name && $0.section == nil && !$0.extended }) {
            return plain.value
        }
        let sections = parameters.filter { $0.name == name }.sorted { ($0.section ?? 0) < ($1.section ?? 0) }
        guard !sections.isEmpty else { return nil }
        var bytes: [UInt8] = []
        for (position, part) in sections.enumerated() {
            var value = part.value[...]
            if part.extended {
                if position == 0 {
                    let quotes = value.indices.filter { value[$0] == ASCIIByte.apostrophe }.prefix(2)
                    if quotes.count == 2 { value = value[(quotes[1] + 1)...] }
                }
                bytes.append(contentsOf: MIMEHeaderValue.percentDecoded(value))
            } else {
                bytes.append(contentsOf: value)
            }
        }
        return bytes
    }

    /// The parameter's value as text, without charset conversion (see `rawParameter`): for tokens such as
    /// `report-type` or `boundary`.
    public func parameterText(_ name: String) -> String? {
        rawParameter(ByteText.lowercasedASCII(name)).map { String(decoding: $0, as: UTF8.self) }
    }

    /// The decoded parameter: RFC 2231 sections joined and decoded (`charset'lang'%XX`) when present, else
    /// the plain value with RFC 2047 words (Outlook) and raw UTF-8 decoded.
    func parameter(_ name: String, hint: String?, limits: ParserLimits, defects: inout [String]) -> String? {
        let matching = parameters.filter { $0.name == name }
        guard !matching.isEmpty else { return nil }
        let rfc2231 = matching.filter { $0.extended || $0.section != nil }
        if !rfc2231.isEmpty {
            let ordered = rfc2231.sorted { ($0.section ?? 0) < ($1.section ?? 0) }
            var bytes: [UInt8] = []
            var charset: String?
            for (position, part) in ordered.enumerated() {
                var value = part.value[...]
                if part.extended {
                    if position == 0 {
                        // charset'language'value
                        let quotes = value.indices.filter { value[$0] == ASCIIByte.apostrophe }.prefix(2)
                        if quotes.count == 2 {
                            let label = ByteText.lowercasedString(value[value.startIndex..<quotes[0]])
                            charset = label.isEmpty ? nil : label
                            value = value[(quotes[1] + 1)...]
                        }
                    }
                    bytes.append(contentsOf: MIMEHeaderValue.percentDecoded(value))
                } else {
                    bytes.append(contentsOf: value)
                }
            }
            if EncodedWords.containsEncodedWordStart(bytes[...]), charset == nil {
                return EncodedWords.decode(bytes[...], hint: hint, limits: limits, defects: &defects)
            }
            return CharsetDecoding.decode(bytes, label: charset, hint: hint, limits: limits, defects: &defects)
        }
        return EncodedWords.decode(matching[0].value[...], hint: hint, limits: limits, defects: &defects)
    }

    /// `%XX` escapes decoded (RFC 2231 values, and the `mailto:` bodies variable commands arrive in); a `%` not
    /// followed by two hex digits is kept as it is. O(n), one pass.
    public static func percentDecoded(_ value: ArraySlice<UInt8>) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(value.count)
        var index = value.startIndex
        while index < value.endIndex {
            if value[index] == ASCIIByte.percent, index + 2 < value.endIndex,
                let high = value[index + 1].hexValue, let low = value[index + 2].hexValue
            {
                output.append(high << 4 | low)
                index += 3
            } else {
                output.append(value[index])
                index += 1
            }
        }
        return output
    }
}
