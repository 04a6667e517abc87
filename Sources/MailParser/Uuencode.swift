import Glibc

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
                        File(
                            name: block.name, data: TransferDecoding.uudecode(lines: block.lines),
                            range: block.start..<end))
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
        bytes.withUnsafeBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return false }
            var lineStart = 0
            while lineStart < buffer.count {
                if buffer.count - lineStart >= 6, base[lineStart] == 0x62, base[lineStart + 1] == 0x65,
                    base[lineStart + 2] == 0x67, base[lineStart + 3] == 0x69, base[lineStart + 4] == 0x6E,
                    base[lineStart + 5] == ASCIIByte.space
                {
                    return true
                }
                guard let found = memchr(base + lineStart, Int32(ASCIIByte.lf), buffer.count - lineStart) else {
                    return false
                }
                lineStart = base.distance(to: found.assumingMemoryBound(to: UInt8.self)) + 1
            }
            return false
        }
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
