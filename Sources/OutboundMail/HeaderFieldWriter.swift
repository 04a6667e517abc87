/// Writes header fields folded at white space so that lines stay within 78 characters where the words allow
/// (RFC 5322 §2.2.3); unfolding (removing each CRLF) gives back the words joined by single spaces.
struct HeaderFieldWriter {
    static let lineLimit = 78
    private(set) var bytes: [UInt8] = []

    /// `name: ` then `words` joined by spaces, a line break before a word that would overflow the line.
    /// Control characters in a word become spaces: no field value can start a new field. O(n) in the words.
    mutating func field(_ name: String, words: [String]) {
        var line = name.utf8.count + 1
        var lineHasWord = false
        bytes.append(contentsOf: name.utf8)
        bytes.append(UInt8(ascii: ":"))
        for word in words {
            let clean = word.utf8.map { $0 < 0x20 || $0 == 0x7F ? UInt8(ascii: " ") : $0 }
            // Never before the first word of a line: a word longer than a line stays whole.
            if line + 1 + clean.count > Self.lineLimit, lineHasWord {
                bytes.append(contentsOf: [0x0D, 0x0A])
                line = 0
            }
            lineHasWord = true
            bytes.append(UInt8(ascii: " "))
            bytes.append(contentsOf: clean)
            line += 1 + clean.count
        }
        bytes.append(contentsOf: [0x0D, 0x0A])
    }

    /// A field whose value is one unbreakable token (`Message-ID`, `Date`, `Content-Type`).
    mutating func field(_ name: String, _ value: String) {
        field(name, words: [value])
    }
}
