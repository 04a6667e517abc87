import MailParser

/// Text operations the command parsers share: trimming that also drops the no-break spaces French typography
/// puts around `:` (which `ByteText.trimmed` keeps, being ASCII only), and the short, escaped excerpt of a value
/// that an error's description quotes.
enum CommandText {
    /// The longest excerpt an error description quotes, in characters.
    static let excerptLimit = 80
    /// The longest text an error keeps in its kind, in characters: an error about a 1 MB line holds no copy of
    /// it.
    static let keptLimit = 1_000

    /// `text` without leading and trailing SP, HT, CR, LF, U+00A0 and U+202F. O(n) in the bytes trimmed, each
    /// step removing at least one byte.
    static func trimmed(_ text: some StringProtocol) -> Substring {
        var value = ByteText.trimmed(text)
        while true {
            if let first = value.unicodeScalars.first, isSpace(first) {
                value = value[value.unicodeScalars.index(after: value.startIndex)...]
            } else if let last = value.unicodeScalars.last, isSpace(last) {
                value = value[..<value.unicodeScalars.index(before: value.endIndex)]
            } else {
                return value
            }
        }
    }

    private static func isSpace(_ scalar: Unicode.Scalar) -> Bool {
        scalar == " " || scalar == "\t" || scalar == "\r" || scalar == "\n" || scalar == "\u{00A0}"
            || scalar == "\u{202F}"
    }

    /// `text` as an error keeps it: its first `keptLimit` characters. O(keptLimit).
    static func kept(_ text: some StringProtocol) -> String {
        String(text.prefix(keptLimit))
    }

    /// `text` quoted for an error description: control characters escaped (`TerminalText`), cut after
    /// `excerptLimit` characters (counted after escaping) with `…`. O(excerptLimit), whatever the length of `text`.
    static func excerpt(_ text: some StringProtocol) -> String {
        var end = text.startIndex
        var characters = 0
        while end != text.endIndex, characters < excerptLimit {
            end = text.index(after: end)
            characters += 1
        }
        var escaped = TerminalText.escaped(String(text[..<end]))
        var cut = end != text.endIndex
        if escaped.count > excerptLimit {
            escaped = String(escaped.prefix(excerptLimit))
            cut = true
        }
        return "\"" + escaped + (cut ? "…" : "") + "\""
    }
}
