/// Content-Transfer-Encoding decoders, tolerant of what real mailers produce.
enum TransferDecoding {
    /// Decodes base64, skipping whitespace and garbage. `=` ends a quantum (so concatenated encodings
    /// decode), a trailing partial quantum is decoded as far as it goes.
    /// Returns the bytes and the number of skipped non-whitespace bytes.
    static func base64(_ input: UnsafeBufferPointer<UInt8>) -> (bytes: [UInt8], garbage: Int) {
        var decoder = Base64Decoder()
        let bytes = [UInt8](unsafeUninitializedCapacity: input.count / 4 * 3 + 3) { output, initialized in
            let written = decoder.decode(input, into: output)
            initialized = written + decoder.finish(into: UnsafeMutableBufferPointer(rebasing: output[written...]))
        }
        return (bytes, decoder.garbage)
    }

    /// Decodes quoted-printable: `=XX` (either case), soft breaks (also with blanks after the `=`), a bare `=`
    /// kept literally. Blanks before a line break are transport padding and dropped. With `underscoreIsSpace`
    /// it decodes RFC 2047 "Q" text.
    static func quotedPrintable(_ input: UnsafeBufferPointer<UInt8>, underscoreIsSpace: Bool = false) -> [UInt8] {
        guard let source = input.baseAddress else { return [] }
        return [UInt8](unsafeUninitializedCapacity: input.count) { output, initialized in
            let target = output.baseAddress!
            var written = 0
            var index = 0
            let count = input.count
            while index < count {
                let byte = source[index]
                // Most bytes are ordinary text: copy them with a single range check.
                if byte > ASCIIByte.space, byte != ASCIIByte.equals, byte != ASCIIByte.underscore {
                    target[written] = byte
                    written += 1
                    index += 1
                    continue
                }
                if byte == ASCIIByte.equals {
                    if index + 2 < count, let high = source[index + 1].hexValue, let low = source[index + 2].hexValue {
                        target[written] = high << 4 | low
                        written += 1
                        index += 3
                        continue
                    }
                    var next = index + 1
                    while next < count, source[next].isBlank { next += 1 }
                    if next == count {
                        index = next
                        continue
                    }
                    if source[next] == ASCIIByte.lf {
                        index = next + 1
                        continue
                    }
                    if source[next] == ASCIIByte.cr {
                        index = next + 1
                        if index < count, source[index] == ASCIIByte.lf { index += 1 }
                        continue
                    }
                    target[written] = byte
                    written += 1
                    index += 1
                } else if byte.isBlank {
                    // Blanks before a line break are transport padding.
                    var next = index + 1
                    while next < count, source[next].isBlank { next += 1 }
                    if next == count || source[next] == ASCIIByte.cr || source[next] == ASCIIByte.lf {
                        index = next
                        continue
                    }
                    while index < next {
                        target[written] = source[index]
                        written += 1
                        index += 1
                    }
                } else if underscoreIsSpace && byte == ASCIIByte.underscore {
                    target[written] = ASCIIByte.space
                    written += 1
                    index += 1
                } else {
                    target[written] = byte
                    written += 1
                    index += 1
                }
            }
            initialized = written
        }
    }

    /// Decodes the body of one uuencoded file (the lines between `begin` and `end`, exclusive).
    static func uudecode(lines: [ArraySlice<UInt8>]) -> [UInt8] {
        var output: [UInt8] = []
        for line in lines {
            guard let first = line.first else { continue }
            let length = Int((first &- 0x20) & 0x3F)
            if length == 0 { continue }
            var values: [UInt8] = []
            values.reserveCapacity(line.count)
            for byte in line.dropFirst() { values.append((byte &- 0x20) & 0x3F) }
            var produced = 0
            var index = 0
            while produced < length {
                let a = index < values.count ? values[index] : 0
                let b = index + 1 < values.count ? values[index + 1] : 0
                let c = index + 2 < values.count ? values[index + 2] : 0
                let d = index + 3 < values.count ? values[index + 3] : 0
                let triple = [a << 2 | b >> 4, b << 4 | c >> 2, c << 6 | d]
                for byte in triple where produced < length {
                    output.append(byte)
                    produced += 1
                }
                index += 4
            }
        }
        return output
    }
}

/// Base64 decoding that can stop and resume anywhere, so a large attachment is decoded chunk by chunk with the
/// same result as in one piece: skips whitespace and garbage, `=` ends a quantum (concatenated encodings
/// decode), a trailing partial quantum is decoded as far as it goes.
struct Base64Decoder {
    private static let invalid: UInt8 = 0xFF
    private static let padding: UInt8 = 0xFE

    /// Base64 alphabet values; `invalid` for bytes to skip, `padding` for `=`.
    private static let values: [UInt8] = {
        var table = [UInt8](repeating: invalid, count: 256)
        for (value, byte) in Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
            .enumerated()
        {
            table[Int(byte)] = UInt8(value)
        }
        // RFC 4648 URL-safe alphabet, which some broken mailers emit.
        table[Int(UInt8(ascii: "-"))] = 62
        table[Int(UInt8(ascii: "_"))] = 63
        table[Int(ASCIIByte.equals)] = padding
        return table
    }()

    private var quantum: UInt32 = 0
    private var pending = 0
    /// Non-whitespace bytes skipped so far.
    private(set) var garbage = 0

    /// Decodes `input` into `output`, which must hold `input.count / 4 * 3 + 3` octets; returns how many were
    /// written. An unfinished quantum is carried to the next call.
    mutating func decode(_ input: UnsafeBufferPointer<UInt8>, into output: UnsafeMutableBufferPointer<UInt8>) -> Int {
        var quantum = self.quantum
        var pending = self.pending
        var garbage = self.garbage
        defer {
            self.quantum = quantum
            self.pending = pending
            self.garbage = garbage
        }
        return Self.values.withUnsafeBufferPointer { table in
            var written = 0
            var index = 0
            let count = input.count
            while index < count {
                // Fast path: four alphabet characters at a quantum boundary (all of a 76-column line).
                if pending == 0, index + 4 <= count {
                    let a = table[Int(input[index])]
                    let b = table[Int(input[index + 1])]
                    let c = table[Int(input[index + 2])]
                    let d = table[Int(input[index + 3])]
                    if (a | b | c | d) & 0xC0 == 0 {
                        let bits = UInt32(a) << 18 | UInt32(b) << 12 | UInt32(c) << 6 | UInt32(d)
                        output[written] = UInt8(truncatingIfNeeded: bits >> 16)
                        output[written + 1] = UInt8(truncatingIfNeeded: bits >> 8)
                        output[written + 2] = UInt8(truncatingIfNeeded: bits)
                        written += 3
                        index += 4
                        continue
                    }
                }
                let byte = input[index]
                index += 1
                let value = table[Int(byte)]
                if value < 64 {
                    quantum = quantum << 6 | UInt32(value)
                    pending += 1
                    if pending == 4 {
                        output[written] = UInt8(truncatingIfNeeded: quantum >> 16)
                        output[written + 1] = UInt8(truncatingIfNeeded: quantum >> 8)
                        output[written + 2] = UInt8(truncatingIfNeeded: quantum)
                        written += 3
                        pending = 0
                        quantum = 0
                    }
                } else if value == Self.padding {
                    written += Self.flushPartial(
                        quantum, pending, UnsafeMutableBufferPointer(rebasing: output[written...]))
                    pending = 0
                    quantum = 0
                } else if !byte.isWhitespace {
                    garbage += 1
                }
            }
            return written
        }
    }

    /// Writes what an unfinished last quantum holds (at most 2 octets); returns how many.
    mutating func finish(into output: UnsafeMutableBufferPointer<UInt8>) -> Int {
        let written = Self.flushPartial(quantum, pending, output)
        quantum = 0
        pending = 0
        return written
    }

    @inline(__always)
    private static func flushPartial(_ quantum: UInt32, _ pending: Int, _ output: UnsafeMutableBufferPointer<UInt8>)
        -> Int
    {
        switch pending {
        case 2:
            output[0] = UInt8(truncatingIfNeeded: quantum >> 4)
            return 1
        case 3:
            output[0] = UInt8(truncatingIfNeeded: quantum >> 10)
            output[1] = UInt8(truncatingIfNeeded: quantum >> 2)
            return 2
        default:
            return 0
        }
    }
}
