/// HTML to readable plain text: paragraphs and line breaks kept, lists as `- item` / `1. item`, table rows
/// as lines with cells separated by ` | `, links as `text <url>`, entities decoded, no script/style/head.
/// One pass over the UTF-8 bytes; tags are ASCII so multibyte text passes through untouched.
///
/// Cost: O(n) in the HTML's bytes (each byte is read a bounded number of times; close tags searched for in
/// vain are not searched again). Output: at most `outputFactor` × n + `outputSlack` bytes, whatever the
/// markup; lists indent at most `maxListIndentLevels` levels deep, and text beyond the bound is cut.
enum HTMLText {
    /// The text is at most this many times the HTML's size (plus `outputSlack`). Ordinary mail HTML gives
    /// less text than markup; only list bullets, numbers and indentation can expand it.
    static let outputFactor = 4
    static let outputSlack = 4096
    /// Deeper lists are indented as this level: nested lists without limit made indentation quadratic.
    static let maxListIndentLevels = 8

    static func text(fromHTML html: String, limits: ParserLimits) -> String {
        var defects: [String] = []
        return text(fromHTML: html, limits: limits, defects: &defects)
    }

    /// The text, with a defect recorded when it reached the output bound and was cut.
    static func text(fromHTML html: String, limits: ParserLimits, defects: inout [String]) -> String {
        var utf8 = Array(html.utf8)
        if utf8.count > limits.maxHTMLBytesForText { utf8.removeSubrange(limits.maxHTMLBytesForText...) }
        var converter = Converter(limits: limits, outputBudget: outputFactor * utf8.count + outputSlack)
        utf8.withUnsafeBufferPointer { converter.run($0) }
        if converter.truncated {
            defects.append(
                "text from HTML cut at \(converter.outputBudget) bytes (\(outputFactor) × its \(utf8.count) bytes + \(outputSlack))"
            )
        }
        return converter.finish()
    }

    /// The charset an HTML document declares in `<meta charset>` or `http-equiv` in its first 2 KB.
    static func declaredCharset(_ bytes: [UInt8]) -> String? {
        let head = ByteText.lowercased(bytes.prefix(2048))
        let marker = Array("charset=".utf8)
        guard head.count >= marker.count else { return nil }
        var index = 0
        while index + marker.count <= head.count {
            if head[index] == 0x63, Array(head[index..<index + marker.count]) == marker {
                var start = index + marker.count
                while start < head.count,
                    head[start] == ASCIIByte.quote || head[start] == ASCIIByte.apostrophe
                        || head[start].isBlank
                {
                    start += 1
                }
                var end = start
                while end < head.count,
                    head[end].isASCIILetter || head[end].isDigit || head[end] == ASCIIByte.hyphen
                        || head[end] == ASCIIByte.underscore || head[end] == ASCIIByte.dot || head[end] == 0x3A
                {
                    end += 1
                }
                return end > start ? String(decoding: head[start..<end], as: UTF8.self) : nil
            }
            index += 1
        }
        return nil
    }

    struct Converter {
        let limits: ParserLimits
        var output: [UInt8] = []
        /// Line breaks owed before the next text (1 = new line, 2 = blank line).
        var pendingBreaks = 0
        var pendingSpace = false
        var pendingCellSeparator = false
        var preDepth = 0
        var links: [(href: [UInt8], start: Int)] = []
        var lists: [(ordered: Bool, counter: Int)] = []
        /// Lists open deeper than `lists` keeps.
        var uncountedListDepth = 0
        var cellsInRow = 0
        /// Close tags already searched for in vain: searching again would make many open tags quadratic.
        var missingCloseTags: Set<String> = []
        /// Most bytes of text produced; one tag or text run adds a bounded amount, so checking after each
        /// keeps the output within the budget.
        let outputBudget: Int
        var truncated = false
        /// The index after the last non-whitespace byte of `output`: a link's text is found from it without
        /// rescanning the output (whitespace kept by `<pre>` made that O(links × whitespace)).
        var contentEnd = 0

        init(limits: ParserLimits, outputBudget: Int = .max) {
            self.limits = limits
            self.outputBudget = outputBudget
        }

        mutating func run(_ html: UnsafeBufferPointer<UInt8>) {
            output.reserveCapacity(html.count / 2)
            var index = 0
            let count = html.count
            var textStart = 0
            while index < count {
                let byte = html[index]
                guard byte == ASCIIByte.lessThan else {
                    index += 1
                    continue
                }
                if textStart < index { appendText(UnsafeBufferPointer(rebasing: html[textStart..<index])) }
                index = handleMarkup(html, at: index)
                textStart = index
                if output.count > outputBudget {
                    cutToBudget()
                    return
                }
            }
            if textStart < count { appendText(UnsafeBufferPointer(rebasing: html[textStart..<count])) }
            if output.count > outputBudget { cutToBudget() }
        }

        /// Cuts the output to the budget on a scalar boundary.
        private mutating func cutToBudget() {
            truncated = true
            output.removeSubrange(outputBudget...)
            while let last = output.last, last & 0xC0 == 0x80 { output.removeLast() }
            if let last = output.last, last >= 0xC0 { output.removeLast() }
            contentEnd = min(contentEnd, output.count)
        }

        mutating func finish() -> String {
            while let last = output.last, last.isWhitespace { output.removeLast() }
            var start = 0
            while start < output.count, output[start].isWhitespace { start += 1 }
            return String(decoding: output[start...], as: UTF8.self)
        }

        /// Parses the tag or comment at `start` and returns the index after it.
        private mutating func handleMarkup(_ html: UnsafeBufferPointer<UInt8>, at start: Int) -> Int {
            let count = html.count
            var index = start + 1
            guard index < count else { return count }
            if html[index] == 0x21 {  // "<!"
                if index + 2 < count, html[index + 1] == ASCIIByte.hyphen, html[index + 2] == ASCIIByte.hyphen {
                    return find(html, "-->", from: index + 3).map { $0 + 3 } ?? count
                }
                return find(html, ">", from: index).map { $0 + 1 } ?? count
            }
            if html[index] == ASCIIByte.question { return find(html, ">", from: index).map { $0 + 1 } ?? count }
            var closing = false
            if html[index] == ASCIIByte.slash {
                closing = true
                index += 1
            }
            let nameStart = index
            while index < count, html[index].isASCIILetter || html[index].isDigit { index += 1 }
            if index == nameStart {
                // A lone '<' in text.
                appendText(UnsafeBufferPointer(rebasing: html[start..<start + 1]))
                return start + 1
            }
            let name = ByteText.lowercasedString(UnsafeBufferPointer(rebasing: html[nameStart..<index]))
            // Attributes, honouring quotes; the tag ends at the first unquoted '>'.
            let attributesStart = index
            var quote: UInt8 = 0
            while index < count {
                let byte = html[index]
                if quote != 0 {
                    if byte == quote { quote = 0 }
                } else if byte == ASCIIByte.quote || byte == ASCIIByte.apostrophe {
                    quote = byte
                } else if byte == ASCIIByte.greaterThan {
                    break
                }
                index += 1
            }
            let attributes = UnsafeBufferPointer(rebasing: html[attributesStart..<index])
            let tagEnd = min(index + 1, count)
            if !closing, ["script", "style", "head", "title", "template", "xml"].contains(name) {
                // Skip to the matching close tag; a missing </head> only skips the tag itself.
                if !missingCloseTags.contains(name), let close = findCaseInsensitive(html, "</" + name, from: tagEnd) {
                    return find(html, ">", from: close).map { $0 + 1 } ?? count
                }
                missingCloseTags.insert(name)
                return name == "head" || name == "title" ? tagEnd : count
            }
            handleTag(name, closing: closing, attributes: attributes)
            return tagEnd
        }

        private mutating func handleTag(_ name: String, closing: Bool, attributes: UnsafeBufferPointer<UInt8>) {
            switch name {
            case "br":
                output.append(ASCIIByte.lf)
                pendingSpace = false
                pendingBreaks = 0
            case "p", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "table", "hr", "dl":
                requestBreaks(2)
            case "pre":
                requestBreaks(2)
                preDepth = max(0, preDepth + (closing ? -1 : 1))
            case "ul", "ol":
                // Beyond `maxListIndentLevels` only the depth is counted: items number on in the deepest
                // list kept, and the stack stays small however many lists are opened.
                if closing {
                    if uncountedListDepth > 0 {
                        uncountedListDepth -= 1
                    } else if !lists.isEmpty {
                        lists.removeLast()
                    }
                } else if lists.count < HTMLText.maxListIndentLevels {
                    lists.append((name == "ol", 0))
                } else {
                    uncountedListDepth += 1
                }
                requestBreaks(lists.isEmpty ? 2 : 1)
            case "li":
                requestBreaks(1)
                if !closing {
                    flushBreaks()
                    let indent = min(max(0, lists.count - 1), HTMLText.maxListIndentLevels - 1)
                    output.append(contentsOf: repeatElement(ASCIIByte.space, count: indent * 2))
                    if var list = lists.last, list.ordered {
                        list.counter += 1
                        lists[lists.count - 1] = list
                        output.append(contentsOf: Array("\(list.counter). ".utf8))
                    } else {
                        output.append(contentsOf: [ASCIIByte.hyphen, ASCIIByte.space])
                    }
                    contentEnd = output.count - 1
                    pendingSpace = false
                }
            case "tr":
                requestBreaks(1)
                cellsInRow = 0
                pendingCellSeparator = false
            case "td", "th":
                if !closing {
                    if cellsInRow > 0 { pendingCellSeparator = true }
                    cellsInRow += 1
                }
            case "div", "section", "article", "header", "footer", "nav", "aside", "form", "address", "center",
                "fieldset", "figure", "main", "dt", "dd", "caption", "tbody", "thead", "tfoot", "body", "html":
                requestBreaks(1)
            case "img":
                // An inline image of the message itself (`cid:`) leaves a placeholder naming it, so the text says
                // where it was; `MessageParser` swaps the Content-ID for the attachment's file name. Remote images
                // (tracking pixels, logos) leave nothing.
                guard !closing, let source = attribute("src", in: attributes) else { return }
                let trimmed = ByteText.trimmed(source[...])
                guard ByteText.hasPrefixIgnoringCase(trimmed, "cid:"), trimmed.count > 4 else { return }
                let placeholder = Array("[image: cid:".utf8) + trimmed.dropFirst(4) + [UInt8(ascii: "]")]
                pendingSpace = true
                placeholder.withUnsafeBufferPointer { appendText($0) }
                pendingSpace = true
            case "a":
                if closing {
                    guard let link = links.popLast() else { return }
                    closeLink(link)
                } else {
                    links.append((attribute("href", in: attributes) ?? [], output.count))
                }
            default:
                break
            }
        }

        private mutating func closeLink(_ link: (href: [UInt8], start: Int)) {
            var href = ByteText.trimmed(link.href[...])
            guard !href.isEmpty else { return }
            let isMail = ByteText.hasPrefixIgnoringCase(href, "mailto:")
            guard
                isMail || ByteText.hasPrefixIgnoringCase(href, "http://")
                    || ByteText.hasPrefixIgnoringCase(href, "https://")
                    || ByteText.hasPrefixIgnoringCase(href, "ftp://")
            else { return }
            if isMail { href = href.dropFirst(7) }
            let start = min(link.start, output.count)
            guard contentEnd > start else { return }  // no text
            // Compared with the URL only when short: the link's own bytes bound the work, not the output's.
            let span = contentEnd - start
            if span <= max(4096, href.count) {
                let text = ByteText.trimmed(output[start..<contentEnd])
                if text.count <= 4096 && text.elementsEqual(href) { return }
                // A link whose text is its own URL (with or without the scheme) needs no repetition.
                if ByteText.hasPrefixIgnoringCase(href, "http"), text.count <= href.count,
                    href.suffix(text.count).elementsEqual(text)
                {
                    return
                }
            }
            var decoded: [UInt8] = []
            href.withUnsafeBufferPointer { appendDecodingEntities($0, into: &decoded) }
            output.append(contentsOf: [ASCIIByte.space, ASCIIByte.lessThan])
            output.append(contentsOf: decoded)
            output.append(ASCIIByte.greaterThan)
            contentEnd = output.count
        }

        private mutating func requestBreaks(_ count: Int) {
            pendingBreaks = max(pendingBreaks, count)
            pendingSpace = false
            pendingCellSeparator = false
        }

        private mutating func flushBreaks() {
            guard pendingBreaks > 0 else { return }
            while let last = output.last, last.isBlank { output.removeLast() }
            if !output.isEmpty {
                var trailing = 0
                var index = output.count - 1
                while index >= 0, output[index] == ASCIIByte.lf, trailing < 2 {
                    trailing += 1
                    index -= 1
                }
                if trailing < pendingBreaks {
                    output.append(contentsOf: repeatElement(ASCIIByte.lf, count: pendingBreaks - trailing))
                }
            }
            pendingBreaks = 0
            pendingSpace = false
        }

        private mutating func appendText(_ text: UnsafeBufferPointer<UInt8>) {
            var decoded: [UInt8] = []
            appendDecodingEntities(text, into: &decoded)
            if preDepth > 0 {
                if !decoded.isEmpty {
                    flushBreaks()
                    let normalized = ByteText.normalizingNewlines(decoded)
                    output.append(contentsOf: normalized)
                    if let last = normalized.lastIndex(where: { !$0.isWhitespace }) {
                        contentEnd = output.count - normalized.count + last + 1
                    }
                }
                return
            }
            for byte in decoded {
                if byte.isWhitespace {
                    pendingSpace = true
                    continue
                }
                if pendingBreaks > 0 {
                    flushBreaks()
                } else if pendingCellSeparator {
                    while let last = output.last, last.isBlank { output.removeLast() }
                    output.append(contentsOf: [ASCIIByte.space, 0x7C, ASCIIByte.space])
                } else if pendingSpace, let last = output.last, last != ASCIIByte.lf, last != ASCIIByte.space {
                    output.append(ASCIIByte.space)
                }
                pendingCellSeparator = false
                pendingSpace = false
                output.append(byte)
                contentEnd = output.count
            }
        }

        /// Appends `text` with character references decoded (`&amp;`, `&#233;`, `&#xE9;`); `&nbsp;` becomes
        /// a plain space.
        func appendDecodingEntities(_ text: UnsafeBufferPointer<UInt8>, into decoded: inout [UInt8]) {
            var index = 0
            let count = text.count
            decoded.reserveCapacity(decoded.count + count)
            while index < count {
                let byte = text[index]
                guard byte == ASCIIByte.ampersand else {
                    decoded.append(byte)
                    index += 1
                    continue
                }
                var end = index + 1
                while end < count, end - index <= 32,
                    text[end].isASCIILetter || text[end].isDigit || text[end] == ASCIIByte.hash
                {
                    end += 1
                }
                let name = UnsafeBufferPointer(rebasing: text[(index + 1)..<end])
                var scalar: UInt32?
                if name.first == ASCIIByte.hash {
                    let digits = name.dropFirst()
                    if digits.first == 0x78 || digits.first == 0x58 {
                        scalar = digits.dropFirst().reduce(UInt32(0)) { value, digit in
                            guard let nibble = digit.hexValue, value < 0x11_0000 else { return 0x11_0000 }
                            return value * 16 + UInt32(nibble)
                        }
                        if digits.count < 2 { scalar = nil }
                    } else if !digits.isEmpty, digits.allSatisfy({ $0.isDigit }) {
                        scalar = digits.reduce(UInt32(0)) { value, digit in
                            value < 0x11_0000 ? value * 10 + UInt32(digit - 0x30) : 0x11_0000
                        }
                    }
                    if scalar == 0 { scalar = 0xFFFD }
                } else {
                    scalar = HTMLText.namedEntities[String(decoding: name, as: UTF8.self)]
                }
                guard let value = scalar else {
                    decoded.append(byte)
                    index += 1
                    continue
                }
                let resolved = value == 0xA0 ? 0x20 : value
                let unicode = Unicode.Scalar(resolved) ?? "\u{FFFD}"
                decoded.append(contentsOf: Array(String(Character(unicode)).utf8))
                index = end < count && text[end] == ASCIIByte.semicolon ? end + 1 : end
            }
        }

        private func attribute(_ wanted: String, in attributes: UnsafeBufferPointer<UInt8>) -> [UInt8]? {
            let lowered = ByteText.lowercased(attributes)
            let key = Array(wanted.utf8)
            var index = 0
            while index + key.count < lowered.count {
                if lowered[index..<index + key.count].elementsEqual(key),
                    index == 0 || lowered[index - 1].isWhitespace
                {
                    var cursor = index + key.count
                    while cursor < lowered.count, lowered[cursor].isWhitespace { cursor += 1 }
                    guard cursor < lowered.count, lowered[cursor] == ASCIIByte.equals else {
                        index += 1
                        continue
                    }
                    cursor += 1
                    while cursor < lowered.count, lowered[cursor].isWhitespace { cursor += 1 }
                    guard cursor < lowered.count else { return nil }
                    let quote = lowered[cursor]
                    if quote == ASCIIByte.quote || quote == ASCIIByte.apostrophe {
                        let start = cursor + 1
                        var end = start
                        while end < attributes.count, attributes[end] != quote { end += 1 }
                        return Array(attributes[start..<end])
                    }
                    var end = cursor
                    while end < attributes.count, !attributes[end].isWhitespace,
                        attributes[end] != ASCIIByte.greaterThan
                    {
                        end += 1
                    }
                    return Array(attributes[cursor..<end])
                }
                index += 1
            }
            return nil
        }

        private func find(_ html: UnsafeBufferPointer<UInt8>, _ needle: String, from start: Int) -> Int? {
            let bytes = Array(needle.utf8)
            var index = start
            while index + bytes.count <= html.count {
                if html[index] == bytes[0], html[index..<index + bytes.count].elementsEqual(bytes) { return index }
                index += 1
            }
            return nil
        }

        private func findCaseInsensitive(_ html: UnsafeBufferPointer<UInt8>, _ needle: String, from start: Int) -> Int?
        {
            let bytes = Array(needle.utf8)
            var index = start
            while index + bytes.count <= html.count {
                if html[index] == bytes[0],
                    html[index..<index + bytes.count].lazy.map({ $0.lowercasedASCII }).elementsEqual(bytes)
                {
                    return index
                }
                index += 1
            }
            return nil
        }
    }

    /// The named character references mail HTML actually uses.
    static let namedEntities: [String: UInt32] = [
        "amp": 0x26, "lt": 0x3C, "gt": 0x3E, "quot": 0x22, "apos": 0x27, "nbsp": 0xA0, "copy": 0xA9, "reg": 0xAE,
        "trade": 0x2122, "euro": 0x20AC, "pound": 0xA3, "yen": 0xA5, "cent": 0xA2, "sect": 0xA7, "deg": 0xB0,
        "plusmn": 0xB1, "middot": 0xB7, "para": 0xB6, "laquo": 0xAB, "raquo": 0xBB, "lsquo": 0x2018,
        "rsquo": 0x2019, "ldquo": 0x201C, "rdquo": 0x201D, "sbquo": 0x201A, "bdquo": 0x201E, "ndash": 0x2013,
        "mdash": 0x2014, "hellip": 0x2026, "bull": 0x2022, "dagger": 0x2020, "times": 0xD7, "divide": 0xF7,
        "shy": 0xAD, "zwnj": 0x200C, "zwj": 0x200D, "ensp": 0x2002, "emsp": 0x2003, "thinsp": 0x2009,
        "iexcl": 0xA1, "iquest": 0xBF, "ordf": 0xAA, "ordm": 0xBA, "frac12": 0xBD, "frac14": 0xBC,
        "frac34": 0xBE, "sup1": 0xB9, "sup2": 0xB2, "sup3": 0xB3, "micro": 0xB5, "not": 0xAC, "larr": 0x2190,
        "rarr": 0x2192, "uarr": 0x2191, "darr": 0x2193, "hearts": 0x2665, "check": 0x2713,
        "Agrave": 0xC0, "Aacute": 0xC1, "Acirc": 0xC2, "Atilde": 0xC3, "Auml": 0xC4, "Aring": 0xC5, "AElig": 0xC6,
        "Ccedil": 0xC7, "Egrave": 0xC8, "Eacute": 0xC9, "Ecirc": 0xCA, "Euml": 0xCB, "Igrave": 0xCC,
        "Iacute": 0xCD, "Icirc": 0xCE, "Iuml": 0xCF, "ETH": 0xD0, "Ntilde": 0xD1, "Ograve": 0xD2, "Oacute": 0xD3,
        "Ocirc": 0xD4, "Otilde": 0xD5, "Ouml": 0xD6, "Oslash": 0xD8, "Ugrave": 0xD9, "Uacute": 0xDA,
        "Ucirc": 0xDB, "Uuml": 0xDC, "Yacute": 0xDD, "THORN": 0xDE, "szlig": 0xDF, "agrave": 0xE0,
        "aacute": 0xE1, "acirc": 0xE2, "atilde": 0xE3, "auml": 0xE4, "aring": 0xE5, "aelig": 0xE6, "ccedil": 0xE7,
        "egrave": 0xE8, "eacute": 0xE9, "ecirc": 0xEA, "euml": 0xEB, "igrave": 0xEC, "iacute": 0xED,
        "icirc": 0xEE, "iuml": 0xEF, "eth": 0xF0, "ntilde": 0xF1, "ograve": 0xF2, "oacute": 0xF3, "ocirc": 0xF4,
        "otilde": 0xF5, "ouml": 0xF6, "oslash": 0xF8, "ugrave": 0xF9, "uacute": 0xFA, "ucirc": 0xFB,
        "uuml": 0xFC, "yacute": 0xFD, "thorn": 0xFE, "yuml": 0xFF, "OElig": 0x152, "oelig": 0x153,
        "Scaron": 0x160, "scaron": 0x161, "Yuml": 0x178, "fnof": 0x192, "circ": 0x2C6, "tilde": 0x2DC,
        "AMP": 0x26, "LT": 0x3C, "GT": 0x3E, "QUOT": 0x22,
    ]
}

/// Inline images in text rendered from HTML: `[image: cid:<content-id>]` placeholders become
/// `[image: <file name>]` when an attachment of the message carries that Content-ID (the first such
/// attachment names it).
enum InlineImages {
    static let placeholderStart = Array("[image: cid:".utf8)

    /// Cost: O(text + attachments), one pass over the text's bytes with a dictionary lookup per placeholder
    /// (a `String.replacing` pass per attachment was O(text × attachments)).
    static func namingAttachments(in text: String, _ attachments: [ParsedAttachment]) -> String {
        guard text.contains("[image: cid:") else { return text }
        var names: [[UInt8]: [UInt8]] = [:]
        for attachment in attachments {
            guard let contentID = attachment.contentID, let filename = attachment.filename else { continue }
            let key = Array(contentID.utf8)
            if names[key] == nil { names[key] = Array(filename.utf8) }
        }
        guard !names.isEmpty else { return text }
        let bytes = Array(text.utf8)
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count)
        let marker = placeholderStart
        var index = 0
        var copiedUpTo = 0
        while index < bytes.count {
            guard bytes[index] == ASCIIByte.openBracket, bytes.count - index >= marker.count,
                bytes[index..<index + marker.count].elementsEqual(marker)
            else {
                index += 1
                continue
            }
            // The Content-ID runs to the next `]`; a `[` first means this is not a placeholder.
            let idStart = index + marker.count
            var end = idStart
            while end < bytes.count, bytes[end] != ASCIIByte.closeBracket, bytes[end] != ASCIIByte.openBracket {
                end += 1
            }
            guard end < bytes.count, bytes[end] == ASCIIByte.closeBracket, let name = names[Array(bytes[idStart..<end])]
            else {
                index = end
                continue
            }
            output.append(contentsOf: bytes[copiedUpTo..<index])
            output.append(contentsOf: Array("[image: ".utf8))
            output.append(contentsOf: name)
            output.append(ASCIIByte.closeBracket)
            index = end + 1
            copiedUpTo = index
        }
        guard copiedUpTo > 0 else { return text }
        output.append(contentsOf: bytes[copiedUpTo...])
        return String(decoding: output, as: UTF8.self)
    }
}
