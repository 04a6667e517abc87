/// uuencoded files (`begin 644 name` … `end`), as old clients put them in plain-text bodies.
enum Uuencode {
    struct File {
        var name: String
        var data: [UInt8]
        /// Byte range of the whole block (from `begin` to the end of the `end` line) in the input.
        var range: Range<Int>
    }

    static let maxFiles = 100

    /// Every uuencoded block in `text`. O(n): one `LineScanner` pass, each block's lines decoded once.
    static func files(in text: UnsafeBufferPointer<UInt8>) -> [File] {
        var files: [File] = []
        var current: (name: String, start: Int, lines: [ArraySlice<UInt8>])?
        let bytes = Array(text)
        var lines = LineScanner(text)
        while files.count < maxFiles, let scanned = lines.next() {
            let line = bytes[scanned.content]
            if var block = current {
                if ByteText.equalsIgnoringCase(ByteText.trimmed(line), "end") {
                    files.append(
                        File(
                            name: block.name, data: TransferDecoding.uudecode(lines: block.lines),
                            range: block.start..<scanned.next))
                    current = nil
                } else {
                    block.lines.append(line)
                    current = block
                }
            } else if let name = beginLineName(line) {
                current = (name, scanned.content.lowerBound, [])
            }
        }
        return files
    }

    /// Cheap pre-check: a line starting with "begin ". O(n), one `LineScanner` pass.
    static func mayContainBlock(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBufferPointer { buffer in
            var lines = LineScanner(buffer)
            while let line = lines.next() {
                let start = line.content.lowerBound
                if buffer.count - start >= 6, buffer[start] == 0x62, buffer[start + 1] == 0x65,
                    buffer[start + 2] == 0x67, buffer[start + 3] == 0x69, buffer[start + 4] == 0x6E,
                    buffer[start + 5] == ASCIIByte.space
                {
                    return true
                }
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
