/// Removes quoted history and signatures from a reply, leaving what the sender wrote: attribution lines
/// ("On … wrote:" in English, French, German, Spanish, Dutch, Italian, Portuguese), Outlook separators and
/// From/Sent/To/Subject blocks, trailing `>` quotes, `-- ` signatures and "Sent from my phone" lines.
/// For HTML-only mail, the HTML is first cut at gmail_quote, divRplyFwdMsg, `blockquote type=cite` and
/// similar markers.
enum QuoteStripping {
    /// `text` is the full readable text; `htmlForText` is set when that text was made from HTML.
    static func strippedText(_ text: String, htmlForText: String?, limits: ParserLimits) -> String {
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

    private static func firstIndex(of needle: [UInt8], in haystack: UnsafeBufferPointer<UInt8>, before limit: Int) -> Int? {
        guard let first = needle.first, needle.count <= haystack.count else { return nil }
        var index = 0
        let last = min(limit, haystack.count - needle.count + 1)
        while index < last {
            if haystack[index] == first, haystack[index..<index + needle.count].elementsEqual(needle) { return index }
            index += 1
        }
        return nil
    }

    static func stripPlainText(_ text: String) -> String {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if let cut = historyStart(lines) { lines.removeSubrange(cut...) }
        // Trailing quoted block (and blank lines around it).
        while let last = lines.last, last.trimmingSpaces.isEmpty || last.hasPrefix(">") { lines.removeLast() }
        if let signature = lines.firstIndex(where: { $0 == "-- " || $0 == "--" }), signature > 0 {
            lines.removeSubrange(signature...)
        }
        while let last = lines.last, last.trimmingSpaces.isEmpty || isMobileSignature(last) { lines.removeLast() }
        while let first = lines.first, first.trimmingSpaces.isEmpty { lines.removeFirst() }
        return lines.joined(separator: "\n")
    }

    /// The index of the first line of quoted history, if any.
    static func historyStart(_ lines: [String]) -> Int? {
        for (index, rawLine) in lines.enumerated() {
            let line = rawLine.trimmingSpaces
            if line.isEmpty { continue }
            if isSeparator(line) { return index }
            if isAttribution(line) { return index }
            // An attribution wrapped over two lines.
            if index + 1 < lines.count, line.count < 200, attributionStarts(line) {
                let joined = line + " " + lines[index + 1].trimmingSpaces
                if isAttribution(joined) { return index }
            }
            if isHeaderBlock(lines, at: index) { return index }
        }
        return nil
    }

    private static let separators = [
        "-----original message-----", "-----ursprüngliche nachricht-----", "-----original-nachricht-----",
        "-----message d'origine-----", "-----mensaje original-----", "-----messaggio originale-----",
        "-----oorspronkelijk bericht-----", "-----mensagem original-----",
    ]

    private static func isSeparator(_ line: String) -> Bool {
        let lowered = line.lowercased()
        if separators.contains(where: { lowered.hasPrefix($0) }) { return true }
        // Outlook's underscore rule before the header block.
        return line.count >= 20 && line.allSatisfy { $0 == "_" }
    }

    private static let attributionPrefixes = ["on ", "le ", "am ", "el ", "op ", "il ", "em ", "en "]
    private static let attributionSuffixes = [
        "wrote:", "a écrit :", "a écrit:", "schrieb:", "escribió:", "schreef:", "ha scritto:", "escreveu:",
        "wrote :", "écrit :",
    ]

    private static func attributionStarts(_ line: String) -> Bool {
        let lowered = line.lowercased()
        return attributionPrefixes.contains { lowered.hasPrefix($0) }
    }

    private static func isAttribution(_ line: String) -> Bool {
        guard line.count < 400 else { return false }
        let lowered = line.lowercased()
        guard attributionPrefixes.contains(where: { lowered.hasPrefix($0) }) else {
            return lowered.hasSuffix("wrote:") && lowered.contains("@")
        }
        if attributionSuffixes.contains(where: { lowered.hasSuffix($0) }) { return true }
        // German clients: "Am 02.01.2024 um 10:00 schrieb Name <mail>:".
        return lowered.hasPrefix("am ") && lowered.contains(" schrieb ") && lowered.hasSuffix(":")
    }

    private static let fromLabels = ["from:", "von:", "de :", "de:", "da:", "van:"]
    private static let headerLabels = [
        "sent:", "gesendet:", "envoyé :", "envoyé:", "enviado:", "enviado el:", "inviato:", "verzonden:", "date:",
        "datum:", "fecha:", "to:", "an:", "à :", "à:", "para:", "a:", "aan:", "subject:", "betreff:", "objet :",
        "objet:", "asunto:", "oggetto:", "onderwerp:", "cc:",
    ]

    /// An Outlook-style header block: a From line followed closely by Sent/To/Subject lines.
    private static func isHeaderBlock(_ lines: [String], at index: Int) -> Bool {
        let line = lines[index].trimmingSpaces.lowercased().replacingOccurrences(of: "*", with: "")
        guard fromLabels.contains(where: { line.hasPrefix($0) }) else { return false }
        var matches = 0
        for next in lines[(index + 1)..<min(lines.count, index + 6)] {
            let lowered = next.trimmingSpaces.lowercased().replacingOccurrences(of: "*", with: "")
            if headerLabels.contains(where: { lowered.hasPrefix($0) }) { matches += 1 }
        }
        return matches >= 2
    }

    private static let mobileSignatures = [
        "sent from my iphone", "sent from my ipad", "sent from my android", "sent from my samsung",
        "sent from outlook for", "get outlook for", "envoyé de mon iphone", "envoyé de mon ipad",
        "von meinem iphone gesendet", "von meinem ipad gesendet", "enviado desde mi iphone", "enviado desde mi ipad",
        "sent from my mobile", "sent from mail for windows",
    ]

    private static func isMobileSignature(_ line: String) -> Bool {
        let lowered = line.trimmingSpaces.lowercased()
        return lowered.count < 80 && mobileSignatures.contains { lowered.hasPrefix($0) }
    }
}
