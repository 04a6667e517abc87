import MailParser

/// Quoted-printable (RFC 2045 §6.7) for UTF-8 text bodies: lines end in CRLF, encoded lines are at most 76
/// characters (soft breaks `=` never split an escape), trailing blanks and every byte outside printable ASCII
/// are escaped, and a line starting with `.` or `From ` is escaped too, so no transport rewrites it.
enum QuotedPrintableEncoder {
    static let maximumLineLength = 76

    /// `text` encoded; any newline convention in, CRLF out. O(n) in the text's bytes, one pass.
    static func encode(_ text: String) -> [UInt8] {
        let bytes = ByteText.normalizingNewlines(Array(text.utf8))
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count + bytes.count / 8)
        var lineStart = 0
        var index = 0
        while index <= bytes.count {
            if index == bytes.count || bytes[index] == UInt8(ascii: "\n") {
                var end = index
                if end > lineStart, bytes[end - 1] == UInt8(ascii: "\r") { end -= 1 }
                encodeLine(bytes[lineStart..<end], into: &output)
                if index < bytes.count { output.append(contentsOf: [0x0D, 0x0A]) }
                lineStart = index + 1
            }
            index += 1
        }
        return output
    }

    /// One line without its break. O(n) in the line's bytes.
    private static func encodeLine(_ line: ArraySlice<UInt8>, into output: inout [UInt8]) {
        var column = 0
        let escapesFirst = line.first == UInt8(ascii: ".") || line.starts(with: "From ".utf8)
        for index in line.indices {
            let byte = line[index]
            let isLast = index == line.index(before: line.endIndex)
            let literal =
                (byte >= 33 && byte <= 126 && byte != UInt8(ascii: "="))
                || ((byte == 0x20 || byte == 0x09) && !isLast)
            let escaped = !literal || (index == line.startIndex && escapesFirst)
            let width = escaped ? 3 : 1
            // Room is kept for the soft break's `=`, unless this is the line's last piece.
            if column + width > maximumLineLength - (isLast ? 0 : 1) {
                output.append(contentsOf: [UInt8(ascii: "="), 0x0D, 0x0A])
                column = 0
            }
            if escaped {
                output.append(UInt8(ascii: "="))
                HexEncoding.appendUppercase(byte, to: &output)
            } else {
                output.append(byte)
            }
            column += width
        }
    }
}
