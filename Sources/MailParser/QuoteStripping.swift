/// Removes quoted history and signatures from a reply, leaving what the sender wrote: attribution lines
/// ("On … wrote:" in English, French, German, Spanish, Dutch, Italian, Portuguese), Outlook separators and
/// From/Sent/To/Subject blocks, trailing `>` quotes, `-- ` signatures and "Sent from my phone" lines.
/// For HTML-only mail, the HTML is first cut at gmail_quote, divRplyFwdMsg, `blockquote type=cite` and
/// similar markers.
public enum QuoteStripping {
    /// `text` is the full readable text; `htmlForText` is set when that text was made from HTML.
    public static func strippedText(_ text: String, htmlForText: String?, limits: ParserLimits) -> String {
        var base = text
        if let html = htmlForText, let cut = quoteMarkerOffset(in: html) {
            let utf8 = Array(html.utf8)
            base = HTMLText.text(fromHTML: String(decoding: utf8[..<cut], as: UTF8.self), limits: limits)
        }
        return stripPlainText(base)
    }

    /// Offset of the first tag carrying a known quoted-history marker.
    static func quoteMarkerOffset(in html: String) -> Int? {
        let lowered = ByteText.lowercased(html.utf8)
        let markers = [
            "class=\"gmail_quote", "class=gmail_quote", "id=\"divrplyfwdmsg\"", "id=divrplyfwdmsg",
            "id=\"appendonsend\"", "type=\"cite\"", "type=cite", "class=\"moz-cite-prefix\"", "class=\"yahoo_quoted\"",
            "id=\"olk_src_body_section\"", "name=\"messagereplysection\"", "class=\"protonmail_quote\"",
            "data-marker=\"__quoted_content__\"",
        ]
        var best: Int?
        lowered.withUnsafeBufferPointer { buffer in
            for marker in markers {
                let needle = Array(marker.utf8)
                guard let found = firstIndex(of: needle, in: buffer, before: best ?? buffer.count) else { continue }
                var tagStart = found
                while tagStart > 0, buffer[tagStart] != ASCIIByte.lessThan { tagStart -= 1 }
                best = min(best ?? Int.max, tagStart)
            }
        }
        return best
    }

    private static func firstIndex(of needle: [UInt8], in haystack: UnsafeBufferPointer<UInt8>, before limit: Int)
        -> Int?
    {
        guard let first = needle.first, needle.count <= haystack.count else { return nil }
        var index = 0
        let last = min(limit, haystack.count - needle.count + 1)
        while index < last {
            if haystack[index] == first, haystack[index..<index + needle.count].elementsEqual(needle) { return index }
            index += 1
        }
        return nil
    }

    /// Works on UTF-8 bytes, one `LineScanner` pass to find lines, O(n); what is kept is always one contiguous range of the
    /// input (leading blank lines to the cut), so the result is a single copy.
    static func stripPlainText(_ text: String) -> String {
        let bytes = Array(text.utf8)
        var lines: [Range<Int>] = []
        bytes.withUnsafeBufferPointer { buffer in
            var scanner = LineScanner(buffer)
            while let line = scanner.next() { lines.append(line.content) }
        }
        var keep = lines.count
        if let cut = historyStart(bytes, lines) { keep = cut }
        func trimmed(_ index: Int) -> ArraySlice<UInt8> { ByteText.trimmed(bytes[lines[index]]) }
        // Trailing quoted block (and blank lines around it).
        while keep > 0, trimmed(keep - 1).isEmpty || bytes[lines[keep - 1]].first == ASCIIByte.greaterThan {
            keep -= 1
        }
        for index in 1..<max(1, keep) {
            // "-- " or "--": tested on the bytes, since a generic sequence comparison per line showed in profiles.
            let range = lines[index]
            guard range.count == 2 || range.count == 3, bytes[range.lowerBound] == ASCIIByte.hyphen,
                bytes[range.lowerBound + 1] == ASCIIByte.hyphen,
                range.count == 2 || bytes[range.lowerBound + 2] == ASCIIByte.space
            else { continue }
            keep = index
            break
        }
        while keep > 0, trimmed(keep - 1).isEmpty || isMobileSignature(trimmed(keep - 1)) { keep -= 1 }
        var first = 0
        while first < keep, trimmed(first).isEmpty { first += 1 }
        guard first < keep else { return "" }
        return String(decoding: bytes[lines[first].lowerBound..<lines[keep - 1].upperBound], as: UTF8.self)
    }

    /// The index of the first line of quoted history, if any.
    static func historyStart(_ bytes: [UInt8], _ lines: [Range<Int>]) -> Int? {
        for index in lines.indices {
            let line = ByteText.trimmed(bytes[lines[index]])
            guard !line.isEmpty, line.count < 400 else { continue }
            if isSeparator(line) || isAttribution(line) { return index }
            // An attribution wrapped over two lines. Every attribution prefix is two letters and a space.
            if index + 1 < lines.count, line.count < 200, line.count > 3,
                line[line.startIndex + 2] == ASCIIByte.space, startsWithAny(line, attributionPrefixes)
            {
                let joined = Array(line) + [ASCIIByte.space] + Array(ByteText.trimmed(bytes[lines[index + 1]]))
                if isAttribution(joined[...]) { return index }
            }
            if isHeaderBlock(bytes, lines, at: index) { return index }
        }
        return nil
    }

    private static func bytesList(_ strings: [String]) -> [[UInt8]] { strings.map { Array($0.utf8) } }

    /// ASCII-case-insensitive prefix test (`prefix` is lower-case).
    private static func hasPrefix(_ line: ArraySlice<UInt8>, _ prefix: [UInt8]) -> Bool {
        guard line.count >= prefix.count else { return false }
        var index = line.startIndex
        for byte in prefix {
            if line[index].lowercasedASCII != byte { return false }
            index += 1
        }
        return true
    }

    private static func hasSuffix(_ line: ArraySlice<UInt8>, _ suffix: [UInt8]) -> Bool {
        guard line.count >= suffix.count else { return false }
        return hasPrefix(line[(line.endIndex - suffix.count)...], suffix)
    }

    private static func contains(_ line: ArraySlice<UInt8>, _ needle: [UInt8]) -> Bool {
        guard line.count >= needle.count else { return false }
        var index = line.startIndex
        while index + needle.count <= line.endIndex {
            if hasPrefix(line[index...], needle) { return true }
            index += 1
        }
        return false
    }

    private static func startsWithAny(_ line: ArraySlice<UInt8>, _ prefixes: [[UInt8]]) -> Bool {
        prefixes.contains { hasPrefix(line, $0) }
    }

    private static let separators = bytesList([
        "-----original message-----", "-----ursprüngliche nachricht-----", "-----original-nachricht-----",
        "-----message d'origine-----", "-----mensaje original-----", "-----messaggio originale-----",
        "-----oorspronkelijk bericht-----", "-----mensagem original-----",
    ])

    private static func isSeparator(_ line: ArraySlice<UInt8>) -> Bool {
        if line.first == ASCIIByte.hyphen, startsWithAny(line, separators) { return true }
        // Outlook's underscore rule before the header block.
        return line.count >= 20 && line.allSatisfy { $0 == ASCIIByte.underscore }
    }

    private static let attributionPrefixes = bytesList(["on ", "le ", "am ", "el ", "op ", "il ", "em ", "en "])
    private static let attributionSuffixes = bytesList([
        "wrote:", "a écrit :", "a écrit:", "schrieb:", "escribió:", "schreef:", "ha scritto:", "escreveu:",
        "wrote :", "écrit :",
    ])
    private static let wroteSuffix = Array("wrote:".utf8)
    private static let germanWrote = Array(" schrieb ".utf8)
    private static let germanPrefix = Array("am ".utf8)

    private static func isAttribution(_ line: ArraySlice<UInt8>) -> Bool {
        guard line.last == ASCIIByte.colon else { return false }
        guard startsWithAny(line, attributionPrefixes) else {
            return hasSuffix(line, wroteSuffix) && line.contains(ASCIIByte.at)
        }
        if attributionSuffixes.contains(where: { hasSuffix(line, $0) }) { return true }
        // German clients: "Am 02.01.2024 um 10:00 schrieb Name <mail>:".
        return hasPrefix(line, germanPrefix) && contains(line, germanWrote)
    }

    private static let fromLabels = bytesList(["from:", "von:", "de :", "de:", "da:", "van:"])
    private static let headerLabels = bytesList([
        "sent:", "gesendet:", "envoyé :", "envoyé:", "enviado:", "enviado el:", "inviato:", "verzonden:", "date:",
        "datum:", "fecha:", "to:", "an:", "à :", "à:", "para:", "a:", "aan:", "subject:", "betreff:", "objet :",
        "objet:", "asunto:", "oggetto:", "onderwerp:", "cc:",
    ])

    /// Without Markdown-style bold markers (`*From:*`), which some clients put in plain text.
    private static func unstarred(_ line: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        line.contains(ASCIIByte.asterisk) ? line.filter { $0 != ASCIIByte.asterisk }[...] : line
    }

    /// An Outlook-style header block: a From line followed closely by Sent/To/Subject lines.
    private static func isHeaderBlock(_ bytes: [UInt8], _ lines: [Range<Int>], at index: Int) -> Bool {
        let trimmedLine = ByteText.trimmed(bytes[lines[index]])
        // Cheap first-letter filter: every From label starts with f, v or d (or a '*' marker).
        guard let first = trimmedLine.first?.lowercasedASCII,
            first == 0x66 || first == 0x76 || first == 0x64 || first == ASCIIByte.asterisk
        else { return false }
        let line = unstarred(trimmedLine)
        guard startsWithAny(line, fromLabels) else { return false }
        var matches = 0
        for next in lines[(index + 1)..<min(lines.count, index + 6)] {
            if startsWithAny(unstarred(ByteText.trimmed(bytes[next])), headerLabels) { matches += 1 }
        }
        return matches >= 2
    }

    private static let mobileSignatures = bytesList([
        "sent from my iphone", "sent from my ipad", "sent from my android", "sent from my samsung",
        "sent from outlook for", "get outlook for", "envoyé de mon iphone", "envoyé de mon ipad",
        "von meinem iphone gesendet", "von meinem ipad gesendet", "enviado desde mi iphone", "enviado desde mi ipad",
        "sent from my mobile", "sent from mail for windows",
    ])

    private static func isMobileSignature(_ line: ArraySlice<UInt8>) -> Bool {
        line.count < 80 && startsWithAny(line, mobileSignatures)
    }
}
