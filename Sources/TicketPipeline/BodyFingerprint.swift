import Crypto

/// The SHA-256 of a message's normalised body: the deduplication key (with the Message-ID) that recognises the
/// same mail arriving by two paths or to two of our addresses, whose header sections differ (`Received`,
/// `Delivered-To`, `Return-Path`, the poller's own additions) while the body does not.
enum BodyFingerprint {
    /// Normalisation: everything after the first empty line; CRLF and lone CR become LF; spaces and tabs at
    /// line ends and empty lines at the end are dropped (transports and mailbox stores differ in exactly
    /// these). Hashed line by line straight from the raw bytes: no copy, no string work.
    static func sha256(raw: [UInt8]) -> String {
        let cr = UInt8(ascii: "\r"), lf = UInt8(ascii: "\n"), space = UInt8(ascii: " "), tab = UInt8(ascii: "\t")
        var hasher = SHA256()
        raw.withUnsafeBytes { bytes in
            var start = bytes.count
            var index = 0
            while index < bytes.count {
                // An empty line: LF (after CR or not) followed by CRLF or LF.
                if bytes[index] == lf {
                    if index + 1 < bytes.count, bytes[index + 1] == lf {
                        start = index + 2
                        break
                    }
                    if index + 2 < bytes.count, bytes[index + 1] == cr, bytes[index + 2] == lf {
                        start = index + 3
                        break
                    }
                }
                index += 1
            }
            var pendingBlanks = 0
            var lineStart = start
            var position = start
            func endLine(at end: Int) {
                var last = end
                while last > lineStart, bytes[last - 1] == space || bytes[last - 1] == tab { last -= 1 }
                if last > lineStart {
                    // Line breaks are written before the next non-empty line, so trailing empty lines vanish.
                    for _ in 0..<pendingBlanks { withUnsafeBytes(of: lf) { hasher.update(bufferPointer: $0) } }
                    pendingBlanks = 0
                    hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: bytes[lineStart..<last]))
                }
                pendingBlanks += 1
            }
            while position < bytes.count {
                let byte = bytes[position]
                if byte == cr || byte == lf {
                    endLine(at: position)
                    position += byte == cr && position + 1 < bytes.count && bytes[position + 1] == lf ? 2 : 1
                    lineStart = position
                } else {
                    position += 1
                }
            }
            if lineStart < bytes.count { endLine(at: bytes.count) }
        }
        let digits = Array("0123456789abcdef".utf8)
        var hex: [UInt8] = []
        hex.reserveCapacity(64)
        for byte in hasher.finalize() {
            hex.append(digits[Int(byte >> 4)])
            hex.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: hex, as: UTF8.self)
    }
}
