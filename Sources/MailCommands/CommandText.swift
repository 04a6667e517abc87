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

    /// `text` as an error keeps it: its first `keptLimit` Unicode scalars. Scalars, not characters: one character
    /// can hold a megabyte of combining marks. O(keptLimit).
    static func kept(_ text: some StringProtocol) -> String {
        prefix(text, scalars: keptLimit)
    }

    /// The first `count` Unicode scalars of `text`. O(count).
    static func prefix(_ text: some StringProtocol, scalars count: Int) -> String {
        String(String.UnicodeScalarView(text.unicodeScalars.prefix(count)))
    }

    /// `text` quoted for an error description: control characters escaped (`TerminalText`), cut after
    /// `excerptLimit` Unicode scalars (counted before and after escaping) with `…`. O(excerptLimit), whatever the
    /// length of `text`.
    static func excerpt(_ text: some StringProtocol) -> String {
        var escaped = TerminalText.escaped(prefix(text, scalars: excerptLimit))
        var cut = !text.unicodeScalars.dropFirst(excerptLimit).isEmpty
        if escaped.unicodeScalars.count > excerptLimit {
            escaped = prefix(escaped, scalars: excerptLimit)
            cut = true
        }
        return "\"" + escaped + (cut ? "…" : "") + "\""
    }

    /// The caseless form a label, type name or choice is matched in: `CaseFolding`'s folded UTF-8 bytes, compared
    /// and hashed as bytes. Bytes, not a `String`: Swift's `==` and hashing normalize, and normalizing a long run of
    /// out-of-order combining marks sorts it, quadratically. O(n) in the text's scalars.
    static func caselessKey(_ text: some StringProtocol) -> [UInt8] {
        Array(CaseFolding.folded(text).utf8)
    }

    /// `caselessKey(text)`, or nil without folding when `text` is too long to fold to any key of at most
    /// `longest` bytes (folding shrinks a scalar's bytes at most 3 times: the Kelvin sign's three to `k`'s one), so
    /// that a megabyte label from mail costs one length check, not a fold. O(n) in the text's scalars, O(1) when
    /// nil.
    static func caselessKey(_ text: some StringProtocol, matchingAtMost longest: Int) -> [UInt8]? {
        guard text.utf8.count <= 3 * longest + 16 else { return nil }
        return caselessKey(text)
    }
}
