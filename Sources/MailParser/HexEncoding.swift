/// Lower-case hexadecimal text of bytes: digests, signatures, tokens. O(n).
public enum HexEncoding {
    static let digits: [UInt8] = Array("0123456789abcdef".utf8)
    static let upperDigits: [UInt8] = Array("0123456789ABCDEF".utf8)

    /// Appends `=AB`-style escapes' two upper-case digits of `byte` (quoted-printable, RFC 2047 Q). O(1).
    public static func appendUppercase(_ byte: UInt8, to output: inout [UInt8]) {
        output.append(upperDigits[Int(byte >> 4)])
        output.append(upperDigits[Int(byte & 0x0F)])
    }

    /// `[0xAB, 0x01]` → `"ab01"`.
    public static func lowercase(_ bytes: some Sequence<UInt8>) -> String {
        var hex: [UInt8] = []
        hex.reserveCapacity(bytes.underestimatedCount * 2)
        for byte in bytes {
            hex.append(digits[Int(byte >> 4)])
            hex.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: hex, as: UTF8.self)
    }
}
