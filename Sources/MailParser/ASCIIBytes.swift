import Glibc

/// Byte-level helpers: the parser works on UTF-8/ASCII bytes, never on `Character`s.
enum ASCIIByte {
    static let tab: UInt8 = 0x09
    static let lf: UInt8 = 0x0A
    static let cr: UInt8 = 0x0D
    static let space: UInt8 = 0x20
    static let quote: UInt8 = 0x22
    static let percent: UInt8 = 0x25
    static let apostrophe: UInt8 = 0x27
    static let openParen: UInt8 = 0x28
    static let closeParen: UInt8 = 0x29
    static let asterisk: UInt8 = 0x2A
    static let comma: UInt8 = 0x2C
    static let hyphen: UInt8 = 0x2D
    static let dot: UInt8 = 0x2E
    static let slash: UInt8 = 0x2F
    static let colon: UInt8 = 0x3A
    static let semicolon: UInt8 = 0x3B
    static let lessThan: UInt8 = 0x3C
    static let equals: UInt8 = 0x3D
    static let greaterThan: UInt8 = 0x3E
    static let question: UInt8 = 0x3F
    static let at: UInt8 = 0x40
    static let backslash: UInt8 = 0x5C
    static let underscore: UInt8 = 0x5F
    static let ampersand: UInt8 = 0x26
    static let hash: UInt8 = 0x23
}

extension UInt8 {
    @inline(__always) var isWhitespace: Bool {
        self == ASCIIByte.space || self == ASCIIByte.tab || self == ASCIIByte.cr || self == ASCIIByte.lf
    }
    @inline(__always) var isBlank: Bool { self == ASCIIByte.space || self == ASCIIByte.tab }
    @inline(__always) var isDigit: Bool { self >= 0x30 && self <= 0x39 }
    @inline(__always) var isASCIILetter: Bool { (self | 0x20) >= 0x61 && (self | 0x20) <= 0x7A }
    @inline(__always) var lowercasedASCII: UInt8 { (self >= 0x41 && self <= 0x5A) ? self | 0x20 : self }
    /// The value of a hex digit, or nil.
    @inline(__always) var hexValue: UInt8? {
        switch self {
        case 0x30...0x39: return self - 0x30
        case 0x41...0x46: return self - 0x41 + 10
        case 0x61...0x66: return self - 0x61 + 10
        default: return nil
        }
    }
}

enum ByteText {
    /// True when `bytes` equals `lowercaseASCII` ignoring ASCII case.
    @inline(__always)
    static func equalsIgnoringCase<C: Collection<UInt8>>(_ bytes: C, _ lowercaseASCII: StaticString) -> Bool {
        guard bytes.count == lowercaseASCII.utf8CodeUnitCount else { return false }
        return lowercaseASCII.withUTF8Buffer { expected in
            var index = 0
            for byte in bytes {
                if byte.lowercasedASCII != expected[index] { return false }
                index += 1
            }
            return true
        }
    }

    /// True when `bytes` starts with `lowercaseASCII` ignoring ASCII case.
    static func hasPrefixIgnoringCase(_ bytes: ArraySlice<UInt8>, _ lowercaseASCII: StaticString) -> Bool {
        let count = lowercaseASCII.utf8CodeUnitCount
        guard bytes.count >= count else { return false }
        return equalsIgnoringCase(bytes.prefix(count), lowercaseASCII)
    }

    static func trimmed(_ bytes: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        var start = bytes.startIndex
        var end = bytes.endIndex
        while start < end, bytes[start].isWhitespace { start += 1 }
        while end > start, bytes[end - 1].isWhitespace { end -= 1 }
        return bytes[start..<end]
    }

    static func lowercased(_ bytes: some Sequence<UInt8>) -> [UInt8] {
        bytes.map { $0.lowercasedASCII }
    }

    /// Lower-cased ASCII string of a token (charset names, MIME types).
    static func lowercasedString(_ bytes: some Sequence<UInt8>) -> String {
        String(decoding: lowercased(bytes), as: UTF8.self)
    }

    /// Whether every byte is 7-bit.
    @inline(__always)
    static func isASCII(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        var index = 0
        let count = bytes.count
        // Eight bytes at a time: the common case is plain ASCII text.
        if let base = bytes.baseAddress {
            let raw = UnsafeRawPointer(base)
            while index + 8 <= count {
                if raw.loadUnaligned(fromByteOffset: index, as: UInt64.self) & 0x8080_8080_8080_8080 != 0 {
                    return false
                }
                index += 8
            }
        }
        while index < count {
            if bytes[index] & 0x80 != 0 { return false }
            index += 1
        }
        return true
    }

    static func isASCII(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBufferPointer { isASCII($0) }
    }

    static func isASCII(_ bytes: ArraySlice<UInt8>) -> Bool {
        bytes.withUnsafeBufferPointer { isASCII($0) }
    }

    /// Collapses runs of whitespace into one space and trims both ends.
    static func collapsingWhitespace(_ text: String) -> String {
        var output: [UInt8] = []
        output.reserveCapacity(text.utf8.count)
        var pendingSpace = false
        for byte in text.utf8 {
            if byte.isWhitespace {
                pendingSpace = !output.isEmpty
            } else {
                if pendingSpace { output.append(ASCIIByte.space) }
                pendingSpace = false
                output.append(byte)
            }
        }
        return String(decoding: output, as: UTF8.self)
    }

    /// Replaces CRLF (and lone CR) with LF; copies runs between CRs in bulk.
    static func normalizingNewlines(_ bytes: [UInt8]) -> [UInt8] {
        bytes.withUnsafeBufferPointer { input in
            guard let base = input.baseAddress, memchr(base, Int32(ASCIIByte.cr), input.count) != nil else {
                return bytes
            }
            return [UInt8](unsafeUninitializedCapacity: input.count) { output, initialized in
                var written = 0
                var position = 0
                let count = input.count
                while position < count {
                    let found = memchr(base + position, Int32(ASCIIByte.cr), count - position)
                    let crIndex = found.map { base.distance(to: $0.assumingMemoryBound(to: UInt8.self)) } ?? count
                    let run = crIndex - position
                    if run > 0 {
                        (output.baseAddress! + written).update(from: base + position, count: run)
                        written += run
                    }
                    guard crIndex < count else { break }
                    output[written] = ASCIIByte.lf
                    written += 1
                    position = crIndex + 1
                    if position < count, base[position] == ASCIIByte.lf { position += 1 }
                }
                initialized = written
            }
        }
    }
}
