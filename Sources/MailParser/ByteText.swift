import Glibc

/// The one set of byte and ASCII-text operations for mail: header names, tokens, addresses and markup are
/// ASCII, so these work on UTF-8 bytes and fold only ASCII case (no Unicode case folding on the per-message
/// path). String forms return `Substring`s on scalar boundaries (they cut only next to ASCII bytes), and every
/// operation is one forward pass: each step advances by at least one byte whatever the scalars are.
public enum ByteText {
    /// True when `bytes` equals `lowercaseASCII` ignoring ASCII case.
    @inline(__always)
    public static func equalsIgnoringCase<C: Collection<UInt8>>(_ bytes: C, _ lowercaseASCII: StaticString) -> Bool {
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

    /// `bytes` without leading and trailing SP, HT, CR, LF. O(n).
    public static func trimmed(_ bytes: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        var start = bytes.startIndex
        var end = bytes.endIndex
        while start < end, bytes[start].isWhitespace { start += 1 }
        while end > start, bytes[end - 1].isWhitespace { end -= 1 }
        return bytes[start..<end]
    }

    /// ASCII letters lower-cased, every other byte kept. O(n).
    public static func lowercased(_ bytes: some Sequence<UInt8>) -> [UInt8] {
        bytes.map { $0.lowercasedASCII }
    }

    /// Lower-cased ASCII string of a token (charset names, MIME types).
    public static func lowercasedString(_ bytes: some Sequence<UInt8>) -> String {
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

    /// Collapses runs of whitespace into one space and trims both ends. O(n).
    public static func collapsingWhitespace(_ text: String) -> String {
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

    /// Replaces CRLF (and lone CR) with LF; copies runs between CRs in bulk. O(n), one memchr pass.
    public static func normalizingNewlines(_ bytes: [UInt8]) -> [UInt8] {
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

    // MARK: - Generic byte forms (the string forms below run these on `utf8` views)

    @inline(__always)
    static func isWhitespaceByte(_ byte: UInt8) -> Bool {
        byte == ASCIIByte.space || byte == ASCIIByte.tab || byte == ASCIIByte.cr || byte == ASCIIByte.lf
    }

    @inlinable @inline(__always)
    static func sameIgnoringCase(_ a: UInt8, _ b: UInt8) -> Bool {
        if a == b { return true }
        let folded = a | 0x20
        return folded == b | 0x20 && folded >= 0x61 && folded <= 0x7A
    }

    /// The range of `bytes` without leading and trailing SP, HT, CR, LF. O(n), each byte read at most once.
    public static func trimmedRange<Bytes: BidirectionalCollection<UInt8>>(_ bytes: Bytes) -> Range<Bytes.Index> {
        var start = bytes.startIndex
        var end = bytes.endIndex
        while start < end, isWhitespaceByte(bytes[start]) { start = bytes.index(after: start) }
        while end > start {
            let before = bytes.index(before: end)
            guard isWhitespaceByte(bytes[before]) else { break }
            end = before
        }
        return start..<end
    }

    /// Whether `bytes` starts with `prefix`, ASCII case-insensitively. O(prefix).
    public static func hasPrefixIgnoringCase(_ bytes: some Collection<UInt8>, _ prefix: some Collection<UInt8>) -> Bool
    {
        var iterator = bytes.makeIterator()
        for expected in prefix {
            guard let byte = iterator.next(), sameIgnoringCase(byte, expected) else { return false }
        }
        return true
    }

    /// The first range of `bytes` equal to `needle` ASCII case-insensitively; an empty needle is found at the
    /// start. O(n × m) byte comparisons (n the haystack, m the needle: needles are short keywords), every
    /// step advancing one byte. Inlinable, so that callers in other modules get it specialised for their
    /// collection: unspecialised, each byte costs a few witness-table calls (a 100 KB text took milliseconds).
    @inlinable
    public static func firstRange<Bytes: Collection<UInt8>>(
        ofIgnoringCase needle: some Collection<UInt8>, in bytes: Bytes
    ) -> Range<Bytes.Index>? {
        let pattern = Array(needle)
        guard let first = pattern.first else { return bytes.startIndex..<bytes.startIndex }
        var start = bytes.startIndex
        while start != bytes.endIndex {
            if sameIgnoringCase(bytes[start], first) {
                var index = bytes.index(after: start)
                var offset = 1
                while offset < pattern.count, index != bytes.endIndex, sameIgnoringCase(bytes[index], pattern[offset]) {
                    index = bytes.index(after: index)
                    offset += 1
                }
                if offset == pattern.count { return start..<index }
                if index == bytes.endIndex { return nil }
            }
            start = bytes.index(after: start)
        }
        return nil
    }

    // MARK: - String forms

    /// `text` with ASCII letters lower-cased; other scalars untouched. O(n), no copy when already lower case.
    public static func lowercasedASCII(_ text: some StringProtocol) -> String {
        let utf8 = text.utf8
        guard utf8.contains(where: { $0 >= 0x41 && $0 <= 0x5A }) else { return String(text) }
        return String(unsafeUninitializedCapacity: utf8.count) { buffer in
            var count = 0
            for byte in utf8 {
                buffer[count] = byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte
                count += 1
            }
            return count
        }
    }

    /// `text` without leading and trailing SP, HT, CR, LF. O(n). The cuts are next to ASCII bytes, so on scalar
    /// boundaries.
    public static func trimmed(_ text: some StringProtocol) -> Substring {
        let string = Substring(text)
        let range = trimmedRange(string.utf8)
        return string[range]
    }

    /// Whether the two are equal ASCII case-insensitively. O(n), no allocation.
    public static func equalsIgnoringCase(_ lhs: some StringProtocol, _ rhs: some StringProtocol) -> Bool {
        lhs.utf8.count == rhs.utf8.count && hasPrefixIgnoringCase(lhs.utf8, rhs.utf8)
    }

    /// Whether `text` starts with `prefix` ASCII case-insensitively. O(prefix).
    public static func hasPrefixIgnoringCase(_ text: some StringProtocol, _ prefix: some StringProtocol) -> Bool {
        hasPrefixIgnoringCase(text.utf8, prefix.utf8)
    }

    /// Whether `text` contains `needle` ASCII case-insensitively. O(n × m) byte comparisons on the UTF-8 bytes
    /// (see `firstRange(ofIgnoringCase:in:)`).
    public static func containsIgnoringCase(_ text: some StringProtocol, _ needle: some StringProtocol) -> Bool {
        firstRange(ofIgnoringCase: needle.utf8, in: text.utf8) != nil
    }

    /// The first token of a header value (`auto-replied; foo` → `auto-replied`), lower-cased. O(token).
    public static func firstToken(_ value: some StringProtocol) -> String {
        let trimmedValue = trimmed(value)
        let end =
            trimmedValue.utf8.firstIndex(where: {
                $0 == ASCIIByte.semicolon || $0 == ASCIIByte.comma || isWhitespaceByte($0)
            }) ?? trimmedValue.endIndex
        return lowercasedASCII(trimmedValue[..<end])
    }

    /// Comma-separated items, trimmed, empty ones dropped. O(n).
    public static func commaSeparated(_ value: some StringProtocol) -> [Substring] {
        Substring(value).utf8.split(separator: ASCIIByte.comma).compactMap { item in
            let text = trimmed(Substring(item))
            return text.isEmpty ? nil : text
        }
    }
}
