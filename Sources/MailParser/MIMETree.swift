import Glibc

/// The MIME structure of one message, as byte ranges into the raw message (nothing is copied until a
/// part's content is decoded).
struct MIMEPart: Sendable {
    enum Kind: Sendable {
        case leaf
        case multipart(subtype: String, children: [MIMEPart])
    }

    var headers: HeaderSection
    var contentType: MIMEHeaderValue
    /// Lower-cased `type/subtype`.
    var mediaType: String
    var body: Range<Int>
    var kind: Kind

    var mainType: Substring { mediaType[..<(mediaType.firstIndex(of: "/") ?? mediaType.endIndex)] }
    var subtype: Substring {
        guard let slash = mediaType.firstIndex(of: "/") else { return "" }
        return mediaType[mediaType.index(after: slash)...]
    }
}

/// Builds the `MIMEPart` tree within `ParserLimits`, counting parts and recording defects.
struct MIMETreeBuilder {
    let buffer: UnsafeBufferPointer<UInt8>
    let limits: ParserLimits
    /// Told of the bytes the boundary scan passes over.
    var relief: ScanRelief?
    var partCount = 0
    var defects: [String] = []
    private var reportedPartLimit = false
    private var reportedDepthLimit = false

    init(buffer: UnsafeBufferPointer<UInt8>, limits: ParserLimits) {
        self.buffer = buffer
        self.limits = limits
    }

    /// Parses the part (headers and body) in `range`.
    mutating func part(in range: Range<Int>, defaultType: String, depth: Int) -> MIMEPart {
        partCount += 1
        let (headers, bodyStart) = HeaderSection.parse(buffer, in: range, limits: limits, defects: &defects)
        return part(headers: headers, body: bodyStart..<range.upperBound, defaultType: defaultType, depth: depth)
    }

    mutating func part(headers: HeaderSection, body: Range<Int>, defaultType: String, depth: Int) -> MIMEPart {
        var contentType = MIMEHeaderValue(headers.first("content-type") ?? ArraySlice(defaultType.utf8))
        var mediaType: String
        if let (type, subtype) = contentType.mediaType {
            mediaType = "\(type)/\(subtype)"
        } else {
            if headers.first("content-type") != nil {
                defects.append("malformed Content-Type \"\(contentType.token)\"; read as \(defaultType)")
            }
            mediaType = defaultType
            let parameters = contentType.parameters
            contentType = MIMEHeaderValue(ArraySlice(defaultType.utf8))
            contentType.parameters = parameters
        }
        guard mediaType.hasPrefix("multipart/") else {
            return MIMEPart(headers: headers, contentType: contentType, mediaType: mediaType, body: body, kind: .leaf)
        }
        guard let boundary = contentType.rawParameter("boundary"), !boundary.isEmpty else {
            // Without a boundary the parts cannot be told apart; the bytes may be anything (base64 of a PDF), so
            // they are kept as one attachment, as Python's `email` keeps them, never read as the body text.
            defects.append("\(mediaType) without a boundary; kept as an attachment")
            return MIMEPart(headers: headers, contentType: contentType, mediaType: mediaType, body: body, kind: .leaf)
        }
        if depth >= limits.maxDepth {
            if !reportedDepthLimit {
                defects.append("MIME nesting deeper than \(limits.maxDepth); the rest is kept as one attachment")
                reportedDepthLimit = true
            }
            return MIMEPart(
                headers: headers, contentType: contentType, mediaType: "application/octet-stream", body: body,
                kind: .leaf)
        }
        let split = splitMultipart(body: body, boundary: boundary)
        if split.parts.isEmpty {
            defects.append("\(mediaType) boundary never found; body read as text/plain")
            return MIMEPart(
                headers: headers, contentType: MIMEHeaderValue(ArraySlice("text/plain".utf8)),
                mediaType: "text/plain", body: body, kind: .leaf)
        }
        if !split.closed { defects.append("\(mediaType) has no closing boundary") }
        let subtype = String(mediaType.dropFirst("multipart/".count))
        let childDefault = subtype == "digest" ? "message/rfc822" : "text/plain"
        var children: [MIMEPart] = []
        children.reserveCapacity(split.parts.count)
        for range in split.parts {
            if partCount >= limits.maxParts {
                if !reportedPartLimit {
                    defects.append("more than \(limits.maxParts) MIME parts; the rest were skipped")
                    reportedPartLimit = true
                }
                break
            }
            children.append(part(in: range, defaultType: childDefault, depth: depth + 1))
        }
        return MIMEPart(
            headers: headers, contentType: contentType, mediaType: mediaType, body: body,
            kind: .multipart(subtype: subtype, children: children))
    }

    /// Splits a multipart body at its delimiter lines (`--boundary` at a line start, followed only by
    /// blanks; `--boundary--` closes). The line break before a delimiter belongs to the delimiter. A line
    /// starts after LF or after a bare CR, as in the header section (`LineScanner.LineEnds.anyBreak`), so mail
    /// with CR-only line ends splits too. O(n) in the body's bytes: `memchr` for `-`, each delimiter line read
    /// once.
    func splitMultipart(body: Range<Int>, boundary: [UInt8]) -> (parts: [Range<Int>], closed: Bool) {
        guard let base = buffer.baseAddress else { return ([], false) }
        let needle = [ASCIIByte.hyphen, ASCIIByte.hyphen] + boundary
        var parts: [Range<Int>] = []
        var position = body.lowerBound
        var currentStart: Int?
        var closed = false
        needle.withUnsafeBufferPointer { needleBuffer in
            while position < body.upperBound, parts.count <= limits.maxParts {
                // memchr for '-' runs at memory speed over base64 (which has none) and most text. It searches a
                // window at a time so that the bytes passed over can be released (`ScanRelief`).
                let window = min(body.upperBound - position, relief?.interval ?? Int.max)
                guard let found = memchr(base + position, Int32(ASCIIByte.hyphen), window) else {
                    relief?.scanned(window)
                    position += window
                    continue
                }
                let candidate = base.distance(to: found.assumingMemoryBound(to: UInt8.self))
                position = candidate + 1
                // A CR right before the `-` is a bare CR: a line end of CR-only mail.
                guard
                    candidate == body.lowerBound || buffer[candidate - 1] == ASCIIByte.lf
                        || buffer[candidate - 1] == ASCIIByte.cr,
                    body.upperBound - candidate >= needle.count,
                    memcmp(base + candidate, needleBuffer.baseAddress!, needle.count) == 0
                else { continue }
                var after = candidate + needle.count
                var isClosing = false
                if after + 1 < body.upperBound, buffer[after] == ASCIIByte.hyphen, buffer[after + 1] == ASCIIByte.hyphen
                {
                    isClosing = true
                    after += 2
                }
                // Only blanks may follow a delimiter (else it is a longer boundary or text).
                var lineEnd = after
                while lineEnd < body.upperBound, buffer[lineEnd].isBlank { lineEnd += 1 }
                if lineEnd < body.upperBound, buffer[lineEnd] != ASCIIByte.cr, buffer[lineEnd] != ASCIIByte.lf {
                    if !isClosing { continue }
                    // Closing delimiters followed by junk are still closings in practice.
                }
                var contentEnd = candidate
                if contentEnd > body.lowerBound, buffer[contentEnd - 1] == ASCIIByte.lf {
                    contentEnd -= 1
                    if contentEnd > body.lowerBound, buffer[contentEnd - 1] == ASCIIByte.cr { contentEnd -= 1 }
                } else if contentEnd > body.lowerBound, buffer[contentEnd - 1] == ASCIIByte.cr {
                    contentEnd -= 1
                }
                if let start = currentStart { parts.append(start..<max(start, contentEnd)) }
                if isClosing {
                    closed = true
                    currentStart = nil
                    break
                }
                // Only blanks came before `lineEnd`: it is the line's LF, CR LF, CR CR LF (mail converted twice) or
                // bare CR (or the body's end).
                if lineEnd < body.upperBound, buffer[lineEnd] == ASCIIByte.cr {
                    var runEnd = lineEnd + 1
                    while runEnd < body.upperBound, buffer[runEnd] == ASCIIByte.cr { runEnd += 1 }
                    if runEnd < body.upperBound, buffer[runEnd] == ASCIIByte.lf { lineEnd = runEnd }
                }
                currentStart = min(lineEnd + 1, body.upperBound)
                position = currentStart!
            }
        }
        if let start = currentStart, !closed { parts.append(start..<body.upperBound) }
        return (parts, closed)
    }
}
