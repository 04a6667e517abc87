import MailParser

/// The SHA-256 of a message's normalised body: the deduplication key (with the Message-ID) that recognises the
/// same mail arriving by two paths or to two of our addresses, whose header sections differ (`Received`,
/// `Delivered-To`, `Return-Path`, the poller's own additions) while the body does not.
enum BodyFingerprint {
    /// Normalisation: everything after the first empty line; CRLF and lone CR become LF; spaces and tabs at
    /// line ends and empty lines at the end are dropped (transports and mailbox stores differ in exactly
    /// these). One pass over the bytes, no string work.
    static func sha256(raw: [UInt8]) -> String {
        let cr = UInt8(ascii: "\r"), lf = UInt8(ascii: "\n"), space = UInt8(ascii: " "), tab = UInt8(ascii: "\t")
        return raw.withUnsafeBufferPointer { bytes -> String in
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
            var normalised: [UInt8] = []
            normalised.reserveCapacity(bytes.count - start)
            var pendingBlanks = 0
            var lineStart = true
            var position = start
            while position < bytes.count {
                let byte = bytes[position]
                position += 1
                if byte == cr || byte == lf {
                    if byte == cr, position < bytes.count, bytes[position] == lf { position += 1 }
                    while let last = normalised.last, !lineStart, last == space || last == tab {
                        normalised.removeLast()
                    }
                    pendingBlanks += 1
                    lineStart = true
                    continue
                }
                if lineStart, pendingBlanks > 0 {
                    normalised.append(contentsOf: repeatElement(lf, count: pendingBlanks))
                    pendingBlanks = 0
                }
                lineStart = false
                normalised.append(byte)
            }
            return sha256Hex(normalised)
        }
    }
}
