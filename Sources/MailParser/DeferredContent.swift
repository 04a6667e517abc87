import Crypto

/// The transfer encoding of a deferred attachment, whose content is decoded in chunks.
public enum ChunkedTransferEncoding: String, Sendable, Hashable {
    case base64
    case quotedPrintable = "quoted-printable"
    /// 7bit, 8bit, binary or none: the bytes are the content.
    case identity
}

/// Where an attachment too large to copy lies in the raw message, and how to decode it.
public struct DeferredContent: Sendable, Hashable {
    /// Offsets of the encoded body in the raw message the attachment was parsed from.
    public var range: Range<Int>
    public var encoding: ChunkedTransferEncoding

    public init(range: Range<Int>, encoding: ChunkedTransferEncoding) {
        self.range = range
        self.encoding = encoding
    }

    /// Decodes the content from `message` (the same bytes it was parsed from), calling `body` with consecutive
    /// decoded chunks of at most about `chunkSize` octets and `relief` with the encoded bytes read. Memory stays
    /// at one chunk whatever the attachment's size.
    public func decode(
        from message: UnsafeBufferPointer<UInt8>, chunkSize: Int = 1 << 20, relief: ScanRelief? = nil,
        _ body: (UnsafeBufferPointer<UInt8>) throws -> Void
    ) rethrows {
        let clamped = range.clamped(to: 0..<message.count)
        let input = UnsafeBufferPointer(rebasing: message[clamped])
        let step = max(chunkSize, 16)
        switch encoding {
        case .identity:
            var offset = 0
            while offset < input.count {
                let end = min(input.count, offset + step)
                try body(UnsafeBufferPointer(rebasing: input[offset..<end]))
                relief?.scanned(end - offset)
                offset = end
            }
        case .base64:
            var decoder = Base64Decoder()
            let output = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: step / 4 * 3 + 6)
            defer { output.deallocate() }
            var offset = 0
            while offset < input.count {
                let end = min(input.count, offset + step)
                var written = decoder.decode(UnsafeBufferPointer(rebasing: input[offset..<end]), into: output)
                if end == input.count {
                    written += decoder.finish(into: UnsafeMutableBufferPointer(rebasing: output[written...]))
                }
                try body(UnsafeBufferPointer(rebasing: output[0..<written]))
                relief?.scanned(end - offset)
                offset = end
            }
        case .quotedPrintable:
            var offset = 0
            while offset < input.count {
                let end = Self.quotedPrintableChunkEnd(input, from: offset, step: step)
                let decoded = TransferDecoding.quotedPrintable(UnsafeBufferPointer(rebasing: input[offset..<end]))
                try decoded.withUnsafeBufferPointer { try body($0) }
                relief?.scanned(end - offset)
                offset = end
            }
        }
    }

    /// The decoded size and SHA-256 (lower-case hex), read in chunks.
    public func measure(in message: UnsafeBufferPointer<UInt8>, relief: ScanRelief? = nil) -> (
        size: Int, sha256: String
    ) {
        var hasher = SHA256()
        var size = 0
        decode(from: message, relief: relief) { chunk in
            size += chunk.count
            hasher.update(bufferPointer: UnsafeRawBufferPointer(chunk))
        }
        return (size, HexEncoding.lowercase(hasher.finalize()))
    }

    /// Quoted-printable is decoded a line at a time, so a chunk ends after a line break. A line longer than a
    /// chunk (hostile input) is cut where neither an `=XX` escape nor trailing blanks (which the decoder would
    /// take for transport padding at a line end) are split.
    static func quotedPrintableChunkEnd(_ input: UnsafeBufferPointer<UInt8>, from offset: Int, step: Int) -> Int {
        let limit = min(input.count, offset + step)
        if limit == input.count { return limit }
        var end = limit
        while end > offset, input[end - 1] != ASCIIByte.lf { end -= 1 }
        if end > offset { return end }
        end = limit
        while end > offset + 1, limit - end < 80,
            input[end - 1].isBlank || input[end - 1] == ASCIIByte.equals || input[end - 2] == ASCIIByte.equals
        {
            end -= 1
        }
        return end
    }
}
