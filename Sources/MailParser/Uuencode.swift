/// uuencoded files (`begin 644 name` … `end`), as old clients put them in plain-text bodies.
enum Uuencode {
    struct File {
        var name: String
        var data: [UInt8]
        /// Byte range of the whole block (from `begin` to the end of the `end` line) in the input.
        var range: Range<Int>
    }

    static let maxFiles = 100

    /// Every uuencoded block in `text`.
    static func files(in text: UnsafeBufferPointer<UInt8>) -> [File] {
        var files: [File] = []
        var lineStart = 0
        var current: (name: String, start: Int, lines: [ArraySlice<UInt8>])?
        let bytes = Array(text)
        while lineStart < bytes.count, files.count < maxFiles {
            var lineEnd = lineStart
            while lineEnd < bytes.count, bytes[lineEnd] != ASCIIByte.lf { lineEnd += 1 }
            var contentEnd = lineEnd
            if contentEnd > lineStart, bytes[contentEnd - 1] == ASCIIByte.cr { contentEnd -= 1 }
            let line = bytes[lineStart..<contentEnd]
            if var block = current {
                if ByteText.equalsIgnoringCase(ByteText.trimmed(line), "end") {
                    let end = min(lineEnd + 1, bytes.count)
                    files.append(
                        File(name: block.name, data: TransferDecoding.uudecode(lines: block.lines), range: block.start..<end))
                    current = nil
                } else {
                    block.lines.append(line)
                    current = block
                }
            } else if let name = beginLineName(line) {
                current = (name, lineStart, [])
            }
            lineStart = lineEnd + 1
        }
        return files
    }

    /// Cheap pre-check: a line starting with "begin ".
    static func mayContainBlock(_ bytes: [UInt8]) -> Bool {
        let needle = Array("begin ".utf8)
        var index = 0
        while index + needle.count <= bytes.count {
            if bytes[index] == 0x62, index == 0 || bytes[index - 1] == ASCIIByte.lf,
                bytes[index..<index + needle.count].elementsEqual(needle)
            {
                return true
            }
            index += 1
        }
        return false
    }

    static func firstFile(in text: UnsafeBufferPointer<UInt8>) -> File? {
        files(in: text).first
    }

    /// `begin 644 file name.txt` → `file name.txt`.
    private static func beginLineName(_ line: ArraySlice<UInt8>) -> String? {
        guard ByteText.hasPrefixIgnoringCase(line, "begin ") else { return nil }
        let rest = line.dropFirst(6)
        let mode = rest.prefix(while: { $0.isDigit })
        guard (3...4).contains(mode.count), rest.dropFirst(mode.count).first == ASCIIByte.space else { return nil }
        let name = ByteText.trimmed(rest.dropFirst(mode.count + 1))
        guard !name.isEmpty else { return nil }
        return String(decoding: name, as: UTF8.self)
    }
}
