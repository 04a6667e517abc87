/// `Content-Disposition: attachment` values (RFC 6266): an ASCII `filename` for old clients and, when the name
/// is not plain ASCII, `filename*=UTF-8''…` (RFC 8187) with the real name.
enum ContentDisposition {
    /// O(n) in the name's UTF-8 bytes, one pass for each form.
    static func attachment(filename: String) -> String {
        let name = filename.isEmpty ? "attachment" : filename
        var fallback = ""
        var plain = true
        for scalar in name.unicodeScalars {
            // Quotes, backslashes, controls and non-ASCII have no place in the quoted fallback.
            if scalar.isASCII, scalar.value >= 0x20, scalar.value != 0x7F, scalar != "\"", scalar != "\\" {
                fallback.unicodeScalars.append(scalar)
            } else {
                fallback.append("_")
                plain = false
            }
        }
        var value = "attachment; filename=\"\(fallback)\""
        if !plain { value += "; filename*=UTF-8''" + percentEncoded(name) }
        return value
    }

    /// RFC 8187 `value-chars`: attr-char stays, every other byte of the UTF-8 form is `%XX`.
    private static func percentEncoded(_ text: String) -> String {
        let hex = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        for byte in text.utf8 {
            switch byte {
            case 0x30...0x39, 0x41...0x5A, 0x61...0x7A, UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"),
                UInt8(ascii: "&"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "^"),
                UInt8(ascii: "_"), UInt8(ascii: "`"), UInt8(ascii: "|"), UInt8(ascii: "~"):
                out.append(byte)
            default:
                out += [UInt8(ascii: "%"), hex[Int(byte >> 4)], hex[Int(byte & 0x0F)]]
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
