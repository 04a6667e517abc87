import Crypto
import MailParser

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The SHA-256 of a message's normalised body: the deduplication key (with the Message-ID) that recognises the
/// same mail arriving by two paths or to two of our addresses, whose header sections differ (`Received`,
/// `Delivered-To`, `Return-Path`, the poller's own additions) while the body does not.
enum BodyFingerprint {
    /// Normalisation: everything after the first empty line; CRLF and lone CR become LF; spaces and tabs at
    /// line ends and empty lines at the end are dropped (transports and mailbox stores differ in exactly
    /// these). The normalised lines are gathered in 32 KiB chunks and hashed a chunk at a time: a hash update
    /// per line cost more than the hashing itself on long messages. `relief` is told of the bytes passed.
    static func sha256(raw: UnsafeBufferPointer<UInt8>, relief: ScanRelief? = nil) -> String {
        let cr = UInt8(ascii: "\r"), lf = UInt8(ascii: "\n"), space = UInt8(ascii: " "), tab = UInt8(ascii: "\t")
        let chunkSize = 32_768
        var hasher = SHA256()
        var chunk: [UInt8] = []
        chunk.reserveCapacity(min(raw.count, chunkSize) + 1024)
        hashing: do {
            let bytes = UnsafeRawBufferPointer(raw)
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
            guard let base = bytes.baseAddress else { break hashing }
            func hashLine(_ lineStart: Int, _ end: Int) {
                var last = end
                while last > lineStart, bytes[last - 1] == space || bytes[last - 1] == tab { last -= 1 }
                if last > lineStart {
                    // Line breaks are written before the next non-empty line, so trailing empty lines vanish.
                    for _ in 0..<pendingBlanks { chunk.append(lf) }
                    pendingBlanks = 0
                    // Typed and contiguous, so the append is one memcpy rather than a byte loop.
                    chunk.append(
                        contentsOf: UnsafeBufferPointer(
                            start: base.assumingMemoryBound(to: UInt8.self) + lineStart, count: last - lineStart))
                    if chunk.count >= chunkSize {
                        hasher.update(data: chunk)
                        chunk.removeAll(keepingCapacity: true)
                    }
                }
                pendingBlanks += 1
            }
            var lineStart = start
            var reported = 0
            // memchr finds the line ends (vectorised); a lone CR inside a line, rare, is a line end too.
            while lineStart < bytes.count {
                let remaining = bytes.count - lineStart
                let newline = memchr(base + lineStart, Int32(lf), remaining).map { base.distance(to: $0) }
                let lineEnd = newline ?? bytes.count
                var segmentStart = lineStart
                while let carriage = memchr(base + segmentStart, Int32(cr), lineEnd - segmentStart) {
                    let position = base.distance(to: carriage)
                    if position == lineEnd - 1, newline != nil { break }  // CRLF
                    hashLine(segmentStart, position)
                    segmentStart = position + 1
                }
                let contentEnd =
                    newline != nil && lineEnd > segmentStart && bytes[lineEnd - 1] == cr ? lineEnd - 1 : lineEnd
                if newline != nil || contentEnd > segmentStart { hashLine(segmentStart, contentEnd) }
                lineStart = lineEnd + 1
                if let relief, lineStart - reported >= relief.interval {
                    relief.scanned(lineStart - reported)
                    reported = lineStart
                }
            }
        }
        hasher.update(data: chunk)
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
