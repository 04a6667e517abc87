import MailParser
import SASLMechanisms

/// RFC 2047 encoded words for header text that is not plain ASCII: UTF-8, B or Q (whichever is shorter, Q on a
/// tie), each word at most 75 characters and never splitting a character (grapheme, else Unicode scalar), so
/// every word decodes on its own.
enum EncodedWordEncoder {
    /// The longest encoded word RFC 2047 allows.
    static let maximumWordLength = 75
    private static let overhead = "=?UTF-8?Q?".utf8.count + "?=".utf8.count

    /// Bytes Q may leave literal in any header context, phrases included (RFC 2047 §5 (3)); space becomes `_`.
    private static func isQLiteral(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"):
            true
        case UInt8(ascii: "!"), UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "/"): true
        default: false
        }
    }

    private static func qLength(_ bytes: some Sequence<UInt8>) -> Int {
        bytes.reduce(0) { $0 + (isQLiteral($1) || $1 == 0x20 ? 1 : 3) }
    }

    private static func bLength(_ count: Int) -> Int { (count + 2) / 3 * 4 }

    /// `text` as encoded words, the first at most `firstLimit` characters long and the others at most
    /// `maximumWordLength`. Adjacent encoded words are joined by folding white space, which decoders drop.
    /// O(n) in the text's bytes: each character is measured once and encoded once.
    static func encode(_ text: String, firstLimit: Int = maximumWordLength) -> [String] {
        let bytes = Array(text.utf8)
        let useB = bLength(bytes.count) < qLength(bytes)
        var words: [String] = []
        var pending: [UInt8] = []
        var pendingLength = 0
        var limit = min(firstLimit, maximumWordLength) - overhead

        func flush() {
            guard !pending.isEmpty else { return }
            words.append(useB ? "=?UTF-8?B?" + SASLBase64.encodedString(pending) + "?=" : qWord(pending))
            pending.removeAll(keepingCapacity: true)
            pendingLength = 0
            limit = maximumWordLength - overhead
        }

        func length(adding piece: [UInt8]) -> Int {
            useB ? bLength(pending.count + piece.count) : pendingLength + qLength(piece)
        }

        for character in text {
            let piece = Array(String(character).utf8)
            // A grapheme too long for one word (a long emoji sequence) is split between its scalars.
            let pieces =
                (useB ? bLength(piece.count) : qLength(piece)) > maximumWordLength - overhead
                ? character.unicodeScalars.map { Array(String($0).utf8) } : [piece]
            for piece in pieces {
                if length(adding: piece) > limit { flush() }
                pending.append(contentsOf: piece)
                pendingLength += useB ? 0 : qLength(piece)
            }
        }
        flush()
        return words
    }

    private static func qWord(_ bytes: [UInt8]) -> String {
        var output = Array("=?UTF-8?Q?".utf8)
        for byte in bytes {
            if isQLiteral(byte) {
                output.append(byte)
            } else if byte == 0x20 {
                output.append(UInt8(ascii: "_"))
            } else {
                output.append(UInt8(ascii: "="))
                HexEncoding.appendUppercase(byte, to: &output)
            }
        }
        output.append(contentsOf: "?=".utf8)
        return String(decoding: output, as: UTF8.self)
    }
}
