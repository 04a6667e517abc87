/// RFC 3501 5.1.3 modified UTF-7, the encoding of IMAP mailbox names: printable ASCII stands for itself (`&` as
/// `&-`), every other run of characters is `&`, its UTF-16BE code units in base64 with `,` for `/` and no
/// padding, then `-`. (`Erledigt/Überprüft` ↔ `Erledigt/&ANw-berpr&APw-ft`.)
public enum ModifiedUTF7 {
    /// Why bytes are not modified UTF-7.
    public struct DecodingError: Error, Sendable, Hashable {
        /// Offset of the offending byte in the input.
        public var offset: Int
        public var reason: String
    }

    private static let alphabet: [UInt8] = Array(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,".utf8)

    /// The modified UTF-7 bytes of `name`. O(n) in the name's UTF-8 bytes, one pass.
    public static func encode(_ name: String) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(name.utf8.count)
        var pending: [UInt16] = []
        for scalar in name.unicodeScalars {
            if scalar.value >= 0x20, scalar.value <= 0x7E {
                flush(&pending, into: &output)
                output.append(UInt8(scalar.value))
                if scalar == "&" { output.append(UInt8(ascii: "-")) }
            } else {
                pending.append(contentsOf: UTF16.encode(scalar)!)
            }
        }
        flush(&pending, into: &output)
        return output
    }

    /// One `&...-` run for the UTF-16 units collected. O(units).
    private static func flush(_ units: inout [UInt16], into output: inout [UInt8]) {
        guard !units.isEmpty else { return }
        output.append(UInt8(ascii: "&"))
        var bits: UInt32 = 0
        var bitCount = 0
        for unit in units {
            for byte in [UInt8(unit >> 8), UInt8(unit & 0xFF)] {
                bits = bits << 8 | UInt32(byte)
                bitCount += 8
                while bitCount >= 6 {
                    bitCount -= 6
                    output.append(alphabet[Int((bits >> UInt32(bitCount)) & 0x3F)])
                }
            }
        }
        if bitCount > 0 { output.append(alphabet[Int((bits << UInt32(6 - bitCount)) & 0x3F)]) }
        output.append(UInt8(ascii: "-"))
        units.removeAll(keepingCapacity: true)
    }

    /// The name the modified UTF-7 `bytes` stand for. Strict: 8-bit or control bytes, a missing `-`, leftover
    /// non-zero bits, an odd byte count, an unpaired surrogate, or printable ASCII written in base64 are errors.
    /// O(n), one pass.
    public static func decode(_ bytes: some Collection<UInt8>) throws(DecodingError) -> String {
        let input = Array(bytes)
        var scalars = String.UnicodeScalarView()
        var index = 0
        while index < input.count {
            let byte = input[index]
            guard byte >= 0x20, byte <= 0x7E else {
                throw DecodingError(offset: index, reason: "byte outside printable ASCII")
            }
            guard byte == UInt8(ascii: "&") else {
                scalars.append(Unicode.Scalar(byte))
                index += 1
                continue
            }
            let shiftStart = index
            index += 1
            if index < input.count, input[index] == UInt8(ascii: "-") {
                scalars.append("&")
                index += 1
                continue
            }
            var bits: UInt32 = 0
            var bitCount = 0
            var units: [UInt16] = []
            var pendingHigh: UInt8?
            while true {
                guard index < input.count else {
                    throw DecodingError(offset: shiftStart, reason: "unterminated &... run")
                }
                let char = input[index]
                if char == UInt8(ascii: "-") { break }
                guard let value = sixBits(char) else {
                    throw DecodingError(offset: index, reason: "not a modified base64 character")
                }
                bits = bits << 6 | UInt32(value)
                bitCount += 6
                if bitCount >= 8 {
                    bitCount -= 8
                    let decoded = UInt8((bits >> UInt32(bitCount)) & 0xFF)
                    if let high = pendingHigh {
                        units.append(UInt16(high) << 8 | UInt16(decoded))
                        pendingHigh = nil
                    } else {
                        pendingHigh = decoded
                    }
                }
                bits &= (1 << UInt32(bitCount)) - 1
                index += 1
            }
            guard !units.isEmpty, pendingHigh == nil, bits == 0, bitCount < 6 else {
                throw DecodingError(offset: shiftStart, reason: "incomplete UTF-16 in &... run")
            }
            index += 1
            var decoder = UTF16()
            var iterator = units.makeIterator()
            decoding: while true {
                switch decoder.decode(&iterator) {
                case .scalarValue(let scalar):
                    guard scalar.value < 0x20 || scalar.value > 0x7E else {
                        throw DecodingError(offset: shiftStart, reason: "printable ASCII written in base64")
                    }
                    scalars.append(scalar)
                case .emptyInput: break decoding
                case .error: throw DecodingError(offset: shiftStart, reason: "unpaired UTF-16 surrogate")
                }
            }
        }
        return String(scalars)
    }

    @inline(__always) private static func sixBits(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"): return byte - UInt8(ascii: "A")
        case UInt8(ascii: "a")...UInt8(ascii: "z"): return byte - UInt8(ascii: "a") + 26
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0") + 52
        case UInt8(ascii: "+"): return 62
        case UInt8(ascii: ","): return 63
        default: return nil
        }
    }
}
