/// Base64 (RFC 4648 §4) for the wire form of SASL messages: an AUTH initial response, a `+ ` challenge line, a
/// continuation answer. Encoding always pads; decoding skips ASCII whitespace (a server may wrap or pad a challenge
/// line with blanks) but rejects every other byte outside the alphabet with a typed error, so that garbage from a
/// hostile server is reported instead of silently decoded into something else.
public enum SASLBase64 {
    private static let alphabet: [UInt8] = Array(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
    private static let padding = UInt8(ascii: "=")

    /// Sextet value of each byte: 0–63, `skip` for whitespace, `invalid` otherwise (padding is handled apart).
    private static let sextets: [UInt8] = {
        var table = [UInt8](repeating: invalid, count: 256)
        for (value, byte) in alphabet.enumerated() { table[Int(byte)] = UInt8(value) }
        for blank in [0x20, 0x09, 0x0D, 0x0A] as [UInt8] { table[Int(blank)] = skip }
        return table
    }()
    private static let invalid: UInt8 = 0xFF
    private static let skip: UInt8 = 0xFE

    /// The base64 text of `bytes`, as ASCII bytes, padded with `=`. O(n) in the input, one pass.
    public static func encode(_ bytes: some Collection<UInt8>) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity((bytes.count + 2) / 3 * 4)
        var iterator = bytes.makeIterator()
        while let first = iterator.next() {
            let second = iterator.next()
            let third = iterator.next()
            let group = UInt32(first) << 16 | UInt32(second ?? 0) << 8 | UInt32(third ?? 0)
            output.append(alphabet[Int(group >> 18 & 0x3F)])
            output.append(alphabet[Int(group >> 12 & 0x3F)])
            output.append(second == nil ? padding : alphabet[Int(group >> 6 & 0x3F)])
            output.append(third == nil ? padding : alphabet[Int(group & 0x3F)])
        }
        return output
    }

    /// The base64 text of `bytes` as a `String`. O(n) in the input.
    public static func encodedString(_ bytes: some Collection<UInt8>) -> String {
        String(decoding: encode(bytes), as: UTF8.self)
    }

    /// Decodes base64 text. ASCII blanks (space, tab, CR, LF) anywhere are skipped; missing final padding is
    /// accepted; any other byte outside the alphabet, a lone final sextet, or data after the padding throws
    /// `SASLError.invalidBase64` with the offset of the offending byte. O(n) in the input, one pass.
    public static func decode(_ text: some Collection<UInt8>) throws(SASLError) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(text.count / 4 * 3 + 3)
        var group: UInt32 = 0
        var sextetCount = 0
        var paddingSeen = 0
        for (offset, byte) in text.enumerated() {
            let value = sextets[Int(byte)]
            if value == skip { continue }
            if byte == padding {
                // Padding may only follow two or three sextets of a quantum, and only up to a full quantum.
                guard sextetCount >= 2, sextetCount + paddingSeen < 4 else {
                    throw .invalidBase64(offset: offset, reason: "misplaced padding")
                }
                paddingSeen += 1
                continue
            }
            guard value != invalid else {
                throw .invalidBase64(offset: offset, reason: "byte 0x\(hexByte(byte)) is not base64")
            }
            guard paddingSeen == 0 else {
                throw .invalidBase64(offset: offset, reason: "data after padding")
            }
            group = group << 6 | UInt32(value)
            sextetCount += 1
            if sextetCount == 4 {
                output.append(UInt8(truncatingIfNeeded: group >> 16))
                output.append(UInt8(truncatingIfNeeded: group >> 8))
                output.append(UInt8(truncatingIfNeeded: group))
                group = 0
                sextetCount = 0
            }
        }
        switch sextetCount {
        case 0:
            guard paddingSeen == 0 else { throw .invalidBase64(offset: text.count, reason: "padding without data") }
        case 1:
            throw .invalidBase64(offset: text.count, reason: "truncated quantum")
        case 2:
            output.append(UInt8(truncatingIfNeeded: group >> 4))
        default:
            output.append(UInt8(truncatingIfNeeded: group >> 10))
            output.append(UInt8(truncatingIfNeeded: group >> 2))
        }
        return output
    }

    private static func hexByte(_ byte: UInt8) -> String {
        let digits = String(byte, radix: 16, uppercase: true)
        return byte < 0x10 ? "0" + digits : digits
    }
}
