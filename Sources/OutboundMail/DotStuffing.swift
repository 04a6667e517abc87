import MailParser

/// SMTP's DATA transparency (RFC 5321 §4.5.2): lines end in CRLF, a line starting with `.` gets another, and the
/// data ends with a line break, ready for the `.` line.
enum DotStuffing {
    /// O(n) in the message's bytes, one pass.
    static func stuffed(_ message: [UInt8]) -> [UInt8] {
        let lines = ByteText.normalizingNewlines(message)
        var output: [UInt8] = []
        output.reserveCapacity(lines.count + lines.count / 64 + 2)
        var atLineStart = true
        for byte in lines {
            if atLineStart, byte == UInt8(ascii: ".") { output.append(UInt8(ascii: ".")) }
            if byte == UInt8(ascii: "\n") {
                output.append(contentsOf: [0x0D, 0x0A])
                atLineStart = true
                continue
            }
            atLineStart = false
            output.append(byte)
        }
        if !atLineStart { output.append(contentsOf: [0x0D, 0x0A]) }
        return output
    }
}
