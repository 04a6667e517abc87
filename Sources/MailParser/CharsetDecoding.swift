import Glibc

/// Turns bytes in a declared (or undeclared) charset into a `String`. Conversion goes through glibc
/// iconv; only label normalisation and the detection heuristics live here. Decoding never fails: at worst
/// the result holds U+FFFD replacement characters.
enum CharsetDecoding {
    /// What a charset label means to the decoder.
    enum LabelKind: Equatable {
        /// UTF-8, US-ASCII or no usable label: UTF-8 is tried, then a legacy guess.
        case unicodeOrUnlabelled
        /// ISO-8859-1 and aliases: decoded as windows-1252, as browsers and mail clients do.
        case latin1
        /// Anything else, by its iconv name; `singleByte` when any byte sequence is valid in it.
        case iconv(name: String, singleByte: Bool)
    }

    static func classify(_ label: String?) -> LabelKind {
        guard var name = label?.utf8.isEmpty == false ? label : nil else { return .unicodeOrUnlabelled }
        name = normalizedLabel(name)
        switch name {
        case "", "utf-8", "utf8", "us-ascii", "ascii", "us", "ansi_x3.4-1968", "iso646-us", "646", "unknown-8bit",
            "x-unknown", "unknown", "default", "charset", "unicode-1-1-utf-8", "x-unicode20utf8", "x-user-defined",
            "utf-8-sig":
            return .unicodeOrUnlabelled
        case "iso-8859-1", "iso8859-1", "iso_8859-1", "latin1", "latin-1", "l1", "cp819", "ibm819", "iso-ir-100",
            "iso_8859-1:1987", "csisolatin1", "8859-1", "iso8859_1", "iso-8859-1-i":
            return .latin1
        case "ks_c_5601-1987", "ks_c_5601", "ks_c_5601-1989", "ksc5601", "ksc_5601", "euc-kr", "euckr", "x-euc-kr",
            "cp949", "windows-949", "uhc", "korean", "csksc56011987", "iso-ir-149":
            return .iconv(name: "CP949", singleByte: false)
        case "shift_jis", "shift-jis", "sjis", "x-sjis", "ms_kanji", "csshiftjis", "x-ms-cp932", "windows-31j",
            "cp932", "ms932", "windows-932", "shift_jisx0213":
            return .iconv(name: "CP932", singleByte: false)
        case "euc-jp", "eucjp", "x-euc-jp", "x-euc", "cseucpkdfmtjapanese", "ujis":
            return .iconv(name: "EUC-JP-MS", singleByte: false)
        case "iso-2022-jp", "csiso2022jp", "iso2022jp", "jis", "iso-2022-jp-1", "iso-2022-jp-ms", "cp50220",
            "cp50221", "cp50222":
            return .iconv(name: "ISO-2022-JP-3", singleByte: false)
        case "iso-2022-jp-2": return .iconv(name: "ISO-2022-JP-2", singleByte: false)
        case "gb2312", "gbk", "x-gbk", "cp936", "ms936", "windows-936", "euc-cn", "euccn", "x-euc-cn", "csgb2312",
            "gb_2312-80", "chinese", "gb18030", "hz-gb-2312-euc":
            return .iconv(name: "GB18030", singleByte: false)
        case "hz-gb-2312", "hz": return .iconv(name: "HZ", singleByte: false)
        case "big5", "x-big5", "cn-big5", "csbig5", "big5-hkscs", "big-5", "big-five", "bigfive", "cp950",
            "windows-950", "x-x-big5":
            return .iconv(name: "BIG5-HKSCS", singleByte: false)
        case "koi8-r", "koi8r", "koi", "cskoi8r", "koi8": return .iconv(name: "KOI8-R", singleByte: true)
        case "koi8-u", "koi8u", "koi8-ru": return .iconv(name: "KOI8-U", singleByte: true)
        case "tis-620", "tis620", "windows-874", "cp874", "iso-8859-11", "x-windows-874":
            return .iconv(name: "CP874", singleByte: true)
        case "utf-7", "unicode-1-1-utf-7", "x-unicode-2-0-utf-7", "csunicode11utf7":
            return .iconv(name: "UTF-7", singleByte: false)
        case "utf-16", "utf-16le", "utf-16be", "utf-32", "utf-32le", "utf-32be", "ucs-2", "ucs-2le", "ucs-2be",
            "ucs-4":
            return .iconv(name: name.uppercased(), singleByte: false)
        case "unicode", "unicodefffe": return .iconv(name: "UTF-16", singleByte: false)
        case "macintosh", "mac", "x-mac-roman", "macroman", "csmacintosh":
            return .iconv(name: "MACINTOSH", singleByte: true)
        case "x-mac-cyrillic", "maccyrillic": return .iconv(name: "MAC-CYRILLIC", singleByte: true)
        case "ibm866", "cp866", "866", "csibm866": return .iconv(name: "CP866", singleByte: true)
        case "ibm850", "cp850": return .iconv(name: "CP850", singleByte: true)
        case "ibm437", "cp437": return .iconv(name: "CP437", singleByte: true)
        default:
            break
        }
        if let codePage = windowsCodePage(name) { return .iconv(name: "CP\(codePage)", singleByte: true) }
        if let part = isoPart(name) {
            return part == 1 ? .latin1 : .iconv(name: "ISO-8859-\(part)", singleByte: true)
        }
        return .iconv(name: name.uppercased(), singleByte: false)
    }

    /// Lower-cased, unquoted, without `*language` (RFC 2231) or stray blanks.
    static func normalizedLabel(_ label: String) -> String {
        var bytes = Array(label.utf8)
        if let star = bytes.firstIndex(of: ASCIIByte.asterisk) { bytes.removeSubrange(star...) }
        let trimmed = bytes.filter { !$0.isWhitespace && $0 != ASCIIByte.quote && $0 != ASCIIByte.apostrophe }
        return ByteText.lowercasedString(trimmed)
    }

    /// `windows-1251`, `cp1251`, `x-cp1251`, `win-1251`, `ms-1251` → 1251 (1250…1258 only).
    private static func windowsCodePage(_ name: String) -> Int? {
        var rest = Substring(name)
        if rest.hasPrefix("x-") { rest = rest.dropFirst(2) }
        for prefix in ["windows-", "windows", "cp-", "cp", "win-", "win", "ms-", "ms"] where rest.hasPrefix(prefix) {
            if let number = Int(rest.dropFirst(prefix.count)), (1250...1258).contains(number) { return number }
        }
        return nil
    }

    /// `iso-8859-5`, `iso8859-5`, `iso_8859-5:1988`, `iso-8859-8-i`, `latin2` … → the part number.
    private static func isoPart(_ name: String) -> Int? {
        let latinParts = [
            "latin2": 2, "latin3": 3, "latin4": 4, "latin5": 9, "latin6": 10, "latin7": 13,
            "latin8": 14, "latin9": 15, "latin10": 16, "l2": 2, "l9": 15, "cyrillic": 5, "greek": 7, "hebrew": 8,
            "arabic": 6,
        ]
        if let part = latinParts[name] { return part }
        let bytes = Array(name.utf8)
        guard bytes.count >= 8, ByteText.hasPrefixIgnoringCase(bytes[...], "iso") else { return nil }
        var index = 3
        while index < bytes.count, !bytes[index].isDigit { index += 1 }
        guard index + 4 <= bytes.count, String(decoding: bytes[index..<index + 4], as: UTF8.self) == "8859" else {
            return nil
        }
        index += 4
        while index < bytes.count, !bytes[index].isDigit { index += 1 }
        var number = 0
        var digits = 0
        while index < bytes.count, bytes[index].isDigit, digits < 2 {
            number = number * 10 + Int(bytes[index] - 0x30)
            digits += 1
            index += 1
        }
        return (1...16).contains(number) && number != 12 ? number : nil
    }

    // MARK: - Decoding

    /// Decodes `bytes` labelled `label`. `hint` is a charset label seen elsewhere in the message, tried first
    /// when the text turns out to be unlabelled legacy bytes.
    static func decode(
        _ bytes: UnsafeBufferPointer<UInt8>, label: String?, hint: String? = nil, limits: ParserLimits,
        defects: inout [String]
    ) -> String {
        if ByteText.isASCII(bytes) {
            switch classify(label) {
            case .unicodeOrUnlabelled, .latin1: return String(decoding: bytes, as: UTF8.self)
            case .iconv(let name, let singleByte):
                if singleByte || name == "CP949" || name == "CP932" || name == "EUC-JP-MS" || name == "GB18030"
                    || name == "BIG5-HKSCS" || (name.hasPrefix("ISO-2022-JP") && !bytes.contains(0x1B))
                {
                    return String(decoding: bytes, as: UTF8.self)
                }
            }
        }
        switch classify(label) {
        case .unicodeOrUnlabelled:
            if let text = String(validating: bytes, as: UTF8.self) { return text }
            if let label, !label.isEmpty {
                defects.append("text labelled \(label) is not valid UTF-8; the charset was guessed")
            }
            return decodeLegacyGuess(bytes, hint: hint, limits: limits)
        case .latin1:
            if let text = utf8IfMislabelled(bytes, label: label, defects: &defects) { return text }
            return decodeWindows1252(bytes)
        case .iconv(let name, let singleByte):
            if singleByte, let text = utf8IfMislabelled(bytes, label: label, defects: &defects) { return text }
            if let converted = convert(bytes, from: name, strict: false) {
                if converted.errors > 0 {
                    defects.append("\(converted.errors) invalid byte sequences for charset \(label ?? name)")
                }
                return converted.text
            }
            defects.append("unknown charset \(label ?? name)")
            if let text = String(validating: bytes, as: UTF8.self) { return text }
            return decodeLegacyGuess(bytes, hint: hint, limits: limits)
        }
    }

    static func decode(
        _ bytes: [UInt8], label: String?, hint: String? = nil, limits: ParserLimits, defects: inout [String]
    ) -> String {
        bytes.withUnsafeBufferPointer { decode($0, label: label, hint: hint, limits: limits, defects: &defects) }
    }

    static func decode(
        _ bytes: ArraySlice<UInt8>, label: String?, hint: String? = nil, limits: ParserLimits,
        defects: inout [String]
    ) -> String {
        bytes.withUnsafeBufferPointer { decode($0, label: label, hint: hint, limits: limits, defects: &defects) }
    }

    /// A single-byte label on bytes that are valid, non-ASCII UTF-8 is almost certainly wrong: legacy text
    /// is very rarely valid UTF-8 by accident.
    private static func utf8IfMislabelled(
        _ bytes: UnsafeBufferPointer<UInt8>, label: String?, defects: inout [String]
    ) -> String? {
        guard let text = String(validating: bytes, as: UTF8.self) else { return nil }
        defects.append("text labelled \(label ?? "?") is UTF-8; decoded as UTF-8")
        return text
    }

    /// Windows-1252 without a table when no byte falls in 0x80–0x9F (there it equals ISO-8859-1, i.e. the
    /// byte value is the code point); through iconv otherwise.
    static func decodeWindows1252(_ bytes: UnsafeBufferPointer<UInt8>) -> String {
        var hasC1 = false
        for byte in bytes where byte >= 0x80 && byte < 0xA0 {
            hasC1 = true
            break
        }
        if hasC1, let converted = convert(bytes, from: "CP1252", strict: false) { return converted.text }
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count + bytes.count / 4)
        for byte in bytes {
            if byte < 0x80 {
                output.append(byte)
            } else {
                output.append(0xC0 | (byte >> 6))
                output.append(0x80 | (byte & 0x3F))
            }
        }
        return String(decoding: output, as: UTF8.self)
    }

    /// Converts with iconv to UTF-8. Returns nil when iconv does not know `name`, or (when `strict`) at the
    /// first invalid sequence. A sequence cut at the very end is not an error in strict mode, so a sample
    /// can be checked.
    static func convert(
        _ input: UnsafeBufferPointer<UInt8>, from name: String, strict: Bool
    ) -> (text: String, errors: Int)? {
        guard let pooled = IconvDescriptorPool.shared.take(name) else { return nil }
        defer { IconvDescriptorPool.shared.give(pooled, for: name) }
        let descriptor = pooled.raw
        guard let inputBase = input.baseAddress, !input.isEmpty else { return ("", 0) }
        var output: [UInt8] = []
        output.reserveCapacity(input.count * 2 + 16)
        let chunkSize = 16 << 10
        let chunk = UnsafeMutablePointer<CChar>.allocate(capacity: chunkSize)
        defer { chunk.deallocate() }
        var inPointer: UnsafeMutablePointer<CChar>? = UnsafeMutableRawPointer(mutating: inputBase)
            .assumingMemoryBound(to: CChar.self)
        var inLeft = input.count
        var errors = 0
        func drain(_ outPointer: UnsafeMutablePointer<CChar>?) {
            guard let outPointer else { return }
            let produced = chunk.distance(to: outPointer)
            UnsafeRawPointer(chunk).withMemoryRebound(to: UInt8.self, capacity: produced) {
                output.append(contentsOf: UnsafeBufferPointer(start: $0, count: produced))
            }
        }
        while inLeft > 0 {
            var outPointer: UnsafeMutablePointer<CChar>? = chunk
            var outLeft = chunkSize
            let result = iconv(descriptor, &inPointer, &inLeft, &outPointer, &outLeft)
            drain(outPointer)
            if result != -1 { continue }
            let error = errno
            if error == E2BIG { continue }
            if error == EINVAL {
                // Truncated multibyte sequence at the end of the input.
                if !strict {
                    errors += 1
                    output.append(contentsOf: [0xEF, 0xBF, 0xBD])
                }
                break
            }
            // EILSEQ (or anything unexpected): replace one byte and go on.
            errors += 1
            if strict { return nil }
            output.append(contentsOf: [0xEF, 0xBF, 0xBD])
            inPointer = inPointer.map { $0 + 1 }
            inLeft -= 1
        }
        var outPointer: UnsafeMutablePointer<CChar>? = chunk
        var outLeft = chunkSize
        _ = iconv(descriptor, nil, nil, &outPointer, &outLeft)
        drain(outPointer)
        return (String(decoding: output, as: UTF8.self), errors)
    }

    // MARK: - Guessing

    /// Decodes bytes that are not UTF-8 and carry no trustworthy label. Heuristics, in order: ISO-2022
    /// escapes; the hint; Western text (8-bit bytes mostly isolated between ASCII) as windows-1252; kana in
    /// a strict Shift_JIS/EUC-JP decoding; mostly lower-case Cyrillic in windows-1251 or KOI8-R; EUC-KR when
    /// lead bytes stay in the Hangul rows; GB18030; Big5; windows-1252 as the last resort.
    static func decodeLegacyGuess(_ bytes: UnsafeBufferPointer<UInt8>, hint: String?, limits: ParserLimits) -> String {
        let name = guessCharset(bytes, hint: hint, limits: limits)
        if name == "CP1252" { return decodeWindows1252(bytes) }
        return convert(bytes, from: name, strict: false)?.text ?? decodeWindows1252(bytes)
    }

    /// The iconv name of the most plausible charset for non-UTF-8 bytes.
    static func guessCharset(_ bytes: UnsafeBufferPointer<UInt8>, hint: String?, limits: ParserLimits) -> String {
        let sample = UnsafeBufferPointer(rebasing: bytes[0..<min(bytes.count, limits.maxCharsetDetectionBytes)])
        // ISO-2022-JP: ESC $ B, ESC $ @, ESC ( J.
        var index = 0
        while index + 2 < sample.count {
            if sample[index] == 0x1B, sample[index + 1] == 0x24 || sample[index + 1] == 0x28,
                sample[index + 2] == 0x42 || sample[index + 2] == 0x40 || sample[index + 2] == 0x4A
            {
                return "ISO-2022-JP-3"
            }
            index += 1
        }
        if let hint, case .iconv(let name, _) = classify(hint), convert(sample, from: name, strict: true) != nil {
            return name
        }
        // Runs of 8-bit bytes: Western languages have isolated accented letters.
        var highBytes = 0
        var isolated = 0
        var leadsInHangulRows = 0
        var leads = 0
        index = 0
        while index < sample.count {
            if sample[index] >= 0x80 {
                var runEnd = index
                while runEnd < sample.count, sample[runEnd] >= 0x80 { runEnd += 1 }
                let run = runEnd - index
                highBytes += run
                if run == 1 { isolated += 1 }
                var lead = index
                while lead + 1 < runEnd {
                    leads += 1
                    if sample[lead] >= 0xB0 && sample[lead] <= 0xC8 { leadsInHangulRows += 1 }
                    lead += 2
                }
                index = runEnd
            } else {
                index += 1
            }
        }
        if highBytes == 0 || isolated * 2 >= highBytes { return "CP1252" }

        func scalars(_ name: String) -> String.UnicodeScalarView? {
            convert(sample, from: name, strict: true)?.text.unicodeScalars
        }
        for japanese in ["CP932", "EUC-JP-MS"] {
            guard let decoded = scalars(japanese) else { continue }
            var kana = 0
            var nonASCII = 0
            for scalar in decoded where scalar.value >= 0x80 {
                nonASCII += 1
                if (0x3041...0x30FF).contains(scalar.value) { kana += 1 }
            }
            if nonASCII > 0, kana * 10 >= nonASCII { return japanese }
        }
        for cyrillic in ["CP1251", "KOI8-R"] {
            guard let decoded = scalars(cyrillic) else { continue }
            var lower = 0
            var nonASCII = 0
            for scalar in decoded where scalar.value >= 0x80 {
                nonASCII += 1
                if (0x0430...0x044F).contains(scalar.value) || scalar.value == 0x0451 { lower += 1 }
            }
            if nonASCII > 0, lower * 10 >= nonASCII * 6 { return cyrillic }
        }
        if leads > 0, leadsInHangulRows * 10 >= leads * 9, convert(sample, from: "CP949", strict: true) != nil {
            return "CP949"
        }
        for chinese in ["GB18030", "BIG5-HKSCS"] where convert(sample, from: chinese, strict: true) != nil {
            return chinese
        }
        return "CP1252"
    }
}
