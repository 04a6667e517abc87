/// The caseless form of text that configured phrases are matched against (alert rules' subject phrases and
/// account names): Unicode case folding, locale-independent, so that a phrase matches whatever case a monitoring
/// system or an RFC 2047 encoder sent.
///
/// What "case-insensitive" means here:
/// - every scalar is mapped to the lower case of its upper case (`É`/`é` → `é`, `Σ`/`σ`/`ς` → `σ`, `ﬁ` → `fi`,
///   the Kelvin sign → `k`), ASCII with a fast path;
/// - `ß` and `ẞ` fold to `ss` (so `STRASSE` matches `straße`);
/// - Turkish `İ` and `ı` fold to `i` (so `DİSK`, `dısk`, `DISK` and `disk` are all one word: the dotless and dotted
///   letters are not told apart, since the locale is unknown);
/// - scripts without case (CJK, emoji) stay as they are and match exactly;
/// - accents stay significant (`Échec` does not match `Echec`), and there is no canonical normalization: a
///   decomposed `e` + U+0301 does not match a precomposed `é`. Normalization (Foundation's NFC) is quadratic on
///   long runs of combining marks, and a subject is attacker-controlled; mail software sends NFC in practice.
public enum CaseFolding {
    /// `text` folded as the type's documentation says. O(n) in the text's Unicode scalars, one pass; ASCII text
    /// (the common case) is only lower-cased bytewise.
    public static func folded(_ text: some StringProtocol) -> String {
        guard text.utf8.contains(where: { $0 >= 0x80 }) else { return ByteText.lowercasedASCII(text) }
        return String(decoding: foldedUTF8(text), as: UTF8.self)
    }

    /// The UTF-8 bytes of `folded(text)`, for byte searches (`ByteText.firstRange`). O(n) in the text's Unicode
    /// scalars, one pass writing into one buffer.
    public static func foldedUTF8(_ text: some StringProtocol) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            let value = scalar.value
            if value < 0x80 {
                output.append(UInt8(value).lowercasedASCII)
                continue
            }
            switch value {
            case 0x00DF, 0x1E9E:  // ß, ẞ
                output.append(0x73)
                output.append(0x73)
            case 0x0130, 0x0131:  // İ, ı
                output.append(0x69)
            default:
                if scalar.properties.changesWhenCaseMapped {
                    // Lower case of the upper case: folds `ς` with `σ` and `ﬁ` with `fi`, which lower-casing alone
                    // does not.
                    output.append(contentsOf: scalar.properties.uppercaseMapping.lowercased().utf8)
                } else {
                    UTF8.encode(scalar) { output.append($0) }
                }
            }
        }
        return output
    }
}
