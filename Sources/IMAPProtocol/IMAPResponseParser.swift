/// The incremental parser of an IMAP server's byte stream (RFC 9051 / RFC 3501 responses): feed it chunks as
/// they arrive (any sizes), then pull events with `next()` until it returns nil.
///
/// Responses are framed before they are parsed: a response line and its literals are buffered until complete
/// (bounded by `IMAPParserLimits`), then parsed in one pass. Two kinds of content are not buffered: a message
/// body literal in a FETCH response (`BODY[...]`, `BINARY[...]`, `RFC822*`), which comes out as `bodyBytes`
/// chunks of the bytes fed, and the numbers of a SEARCH response, parsed as they arrive. The whole stream costs
/// O(n) in the bytes fed: framing reads each line byte once and resumes where it stopped when more bytes come;
/// buffered literals are skipped, not scanned; each complete segment is parsed once.
///
/// Memory: at most `maxBufferedResponse` bytes of one response plus the last chunk fed (`bufferedByteCount`;
/// consumed bytes are dropped lazily at the next `feed`, so the storage is at most twice that plus 4 KiB), the
/// events of one segment, and 4 bytes per SEARCH number.
///
/// ```swift
/// parser.feed(chunk)                        // each read from the socket
/// while let event = try parser.next() {
///     switch event {
///     case .bodyBytes(let bytes): try spool.write(bytes)   // a message body, as it arrives
///     case .tagged(let tag, let condition): ...            // the command with this tag is done
///     default: ...
///     }
/// }
/// try parser.finish()                       // at EOF: throws .truncated inside a response
/// ```
///
/// After an error the parser is dead: `next()` throws the same `IMAPProtocolError` again and `feed` ignores its
/// input. The driver then closes the connection.
public struct IMAPResponseParser: Sendable {
    /// The caps; `maxBodySize` may be changed between responses (per mailbox, per message).
    public var limits: IMAPParserLimits

    private var buffer: [UInt8] = []
    /// The first unconsumed byte of `buffer`.
    private var start = 0
    /// The stream offset of `buffer[0]`.
    private var bufferOffset: UInt64 = 0
    private var mode: Mode = .response
    private var scan = SegmentScan()
    private var events: [IMAPResponseEvent] = []
    private var eventIndex = 0
    private var failure: IMAPProtocolError?
    private var awaitingGreeting: Bool

    private enum Mode: Sendable {
        /// Between responses.
        case response
        /// Inside a FETCH attribute list, after a streamed body: `attributes` read so far.
        case fetch(attributes: Int)
        /// Streaming a body literal; `discard` for the literal of an attribute this codec does not know.
        case body(remaining: UInt64, attributes: Int, discard: Bool)
        /// Reading the numbers of a SEARCH response as they arrive.
        case search(SearchScan)
    }

    /// Framing progress of the segment starting at `start`, kept across `next()` calls so no byte is scanned
    /// twice. Positions are relative to `start`.
    private struct SegmentScan: Sendable {
        var scanned = 0
        var lineStart = 0
        var literalRemaining: UInt64 = 0
    }

    /// A complete segment: `buffer[start..<end]`; `streamsBody` when it ends with the header of a body literal
    /// whose bytes are to be streamed.
    private struct Segment {
        var end: Int
        var streamsBody: Bool
    }

    private struct SearchScan: Sendable {
        var numbers: [UInt32] = []
        /// Bytes consumed, capped at 12 per number allowed plus one line (runs of spaces cannot go on forever).
        var bytes = 0
        var current: UInt64 = 0
        var digits = 0
        /// The `(MODSEQ n)` tail, once a `(` was seen.
        var tail: [UInt8]?
    }

    /// A parser for a new connection: the first response must be the greeting. Pass `expectGreeting: false` to
    /// continue a stream after the greeting (a test, or a parser re-created after STARTTLS).
    public init(limits: IMAPParserLimits = IMAPParserLimits(), expectGreeting: Bool = true) {
        self.limits = limits
        awaitingGreeting = expectGreeting
    }

    /// Bytes held and not yet consumed: a partial response, or body bytes not yet handed out.
    public var bufferedByteCount: Int { buffer.count - start }

    /// Bytes of the stream consumed so far (turned into events); with `bufferedByteCount`, all bytes fed.
    public var consumedByteCount: UInt64 { bufferOffset + UInt64(start) }

    /// Whether the parser is between responses with nothing buffered (a clean place to stop or to start TLS).
    public var isAtResponseBoundary: Bool {
        if case .response = mode, bufferedByteCount == 0, eventIndex == events.count { return true }
        return false
    }

    /// Appends the next bytes read from the server. O(chunk) (plus amortised O(1) per byte for dropping
    /// consumed bytes).
    public mutating func feed(_ bytes: some Collection<UInt8>) {
        guard failure == nil else { return }
        dropConsumedBytes()
        buffer.append(contentsOf: bytes)
    }

    /// Appends the next bytes read from the server. O(chunk).
    public mutating func feed(_ bytes: UnsafeRawBufferPointer) {
        guard failure == nil else { return }
        dropConsumedBytes()
        buffer.append(contentsOf: bytes)
    }

    /// The next event, or nil when more bytes are needed. Throws on the first byte the grammar or a limit
    /// refuses, and for ever after. Each call does work proportional to the bytes it consumes.
    public mutating func next() throws(IMAPProtocolError) -> IMAPResponseEvent? {
        if let failure { throw failure }
        if let event = popEvent() { return event }
        do throws(ParseFailure) {
            while true {
                switch mode {
                case .body(let remaining, let attributes, let discard):
                    if remaining == 0 {
                        mode = .fetch(attributes: attributes)
                        if discard { continue }
                        return .bodyEnd
                    }
                    let available = buffer.count - start
                    guard available > 0 else { return nil }
                    let count = Int(min(UInt64(available), remaining))
                    let chunk = Array(buffer[start..<start + count])
                    start += count
                    mode = .body(remaining: remaining - UInt64(count), attributes: attributes, discard: discard)
                    if discard { continue }
                    return .bodyBytes(chunk)
                case .search(var search):
                    // Out of `mode` while it grows, so the numbers array is not copied on write at each call.
                    mode = .response
                    let done = try scanSearch(&search)
                    guard let response = done else {
                        mode = .search(search)
                        return nil
                    }
                    return .untagged(response)
                case .response, .fetch:
                    if case .response = mode, scan.scanned == 0, !awaitingGreeting {
                        switch searchPrefix() {
                        case .some(true):
                            start += 8
                            mode = .search(SearchScan())
                            continue
                        case .some(false): break
                        case .none: return nil
                        }
                    }
                    guard let segment = try findSegment() else { return nil }
                    try parse(segment)
                    if let event = popEvent() { return event }
                }
            }
        } catch {
            let failure = IMAPProtocolError(
                error.kind, offset: bufferOffset + UInt64(error.index), excerpt: excerpt(at: error.index))
            self.failure = failure
            buffer = []
            start = 0
            throw failure
        }
    }

    /// Declares the end of the stream (the server closed the connection): throws `.truncated` when a response
    /// is incomplete. Call after `next()` returned nil.
    public mutating func finish() throws(IMAPProtocolError) {
        if let failure { throw failure }
        var complete = bufferedByteCount == 0
        if case .response = mode {} else { complete = false }
        guard !complete else { return }
        let failure = IMAPProtocolError(
            .truncated, offset: bufferOffset + UInt64(buffer.count), excerpt: excerpt(at: start))
        self.failure = failure
        throw failure
    }

    // MARK: - Buffer

    private mutating func popEvent() -> IMAPResponseEvent? {
        guard eventIndex < events.count else { return nil }
        let event = events[eventIndex]
        eventIndex += 1
        if eventIndex == events.count {
            events.removeAll(keepingCapacity: events.capacity <= 64)
            eventIndex = 0
        }
        return event
    }

    /// Drops the consumed prefix when it is at least half the buffer (amortised O(1) per byte), or all of it
    /// when everything was consumed.
    private mutating func dropConsumedBytes() {
        guard start > 0 else { return }
        if start == buffer.count {
            bufferOffset += UInt64(start)
            buffer.removeAll(keepingCapacity: buffer.capacity <= 256 * 1024)
            start = 0
        } else if start >= 4096, start * 2 >= buffer.count {
            bufferOffset += UInt64(start)
            buffer.removeFirst(start)
            start = 0
        }
    }

    /// The response around `index` from its start (or from `index` when that is before `start`), escaped.
    private func excerpt(at index: Int) -> String {
        let from = min(max(0, min(start, index)), buffer.count)
        var end = from
        while end < buffer.count, end - from < IMAPProtocolError.excerptLimit, buffer[end] != .lf { end += 1 }
        if end < buffer.count, buffer[end] == .lf { end += 1 }
        return IMAPProtocolError.escaped(buffer[from..<min(end, buffer.count)])
    }

    // MARK: - Framing

    /// Finds the end of the segment starting at `start`: the LF ending a line that does not announce a literal,
    /// or ending a literal header that starts a streamed body. Literals in between are skipped (their size
    /// checked). Resumes where the last call stopped: O(new bytes).
    private mutating func findSegment() throws(ParseFailure) -> Segment? {
        var index = start + scan.scanned
        let end = buffer.count
        while index < end {
            if scan.literalRemaining > 0 {
                let take = Int(min(scan.literalRemaining, UInt64(end - index)))
                index += take
                scan.literalRemaining -= UInt64(take)
                if scan.literalRemaining == 0 { scan.lineStart = index - start }
                continue
            }
            let byte = buffer[index]
            if byte == .lf {
                let lineStart = start + scan.lineStart
                let contentEnd = index > lineStart && buffer[index - 1] == .cr ? index - 1 : index
                if let literal = try literalAtLineEnd(from: lineStart, to: contentEnd) {
                    if isStreamedBody(literalStart: literal.headerStart) {
                        scan = SegmentScan()
                        return Segment(end: index + 1, streamsBody: true)
                    }
                    guard literal.size <= UInt64(limits.maxLiteralSize) else {
                        throw ParseFailure(
                            .literalTooLarge(size: literal.size, limit: limits.maxLiteralSize), at: literal.headerStart)
                    }
                    guard (index + 1 - start) + Int(literal.size) <= limits.maxBufferedResponse else {
                        throw ParseFailure(
                            .responseTooLarge(limit: limits.maxBufferedResponse), at: literal.headerStart)
                    }
                    index += 1
                    scan.literalRemaining = literal.size
                    scan.lineStart = index - start
                    continue
                }
                scan = SegmentScan()
                return Segment(end: index + 1, streamsBody: false)
            }
            if byte == 0 { throw ParseFailure(.nulByte, at: index) }
            index += 1
            if index - (start + scan.lineStart) > limits.maxLineLength {
                throw ParseFailure(.lineTooLong(limit: limits.maxLineLength), at: index - 1)
            }
            if index - start > limits.maxBufferedResponse {
                throw ParseFailure(.responseTooLarge(limit: limits.maxBufferedResponse), at: index - 1)
            }
        }
        scan.scanned = index - start
        return nil
    }

    /// The literal announced at the end of `buffer[from..<to]` (`{n}`, `~{n}`; a `+` tolerated), or nil when the
    /// line does not end in one. A brace group of digits and signs that is not a valid 64-bit size (`{-1}`, `{}`,
    /// 21 digits) is an error. O(64) at most.
    private func literalAtLineEnd(from lineStart: Int, to contentEnd: Int) throws(ParseFailure) -> (
        size: UInt64, headerStart: Int
    )? {
        guard contentEnd > lineStart, buffer[contentEnd - 1] == .closeBrace else { return nil }
        var open = contentEnd - 2
        while open >= lineStart, contentEnd - open <= 64, buffer[open] != .openBrace {
            let byte = buffer[open]
            guard byte.isDigit || byte == .plus || byte == 0x2D else { return nil }
            open -= 1
        }
        guard open >= lineStart, buffer[open] == .openBrace else { return nil }
        var digitsEnd = contentEnd - 1
        if digitsEnd > open + 1, buffer[digitsEnd - 1] == .plus { digitsEnd -= 1 }
        let sizeText = buffer[(open + 1)..<digitsEnd]
        var size: UInt64 = 0
        var valid = !sizeText.isEmpty
        for byte in sizeText where valid {
            guard byte.isDigit else {
                valid = false
                break
            }
            let (times10, overflow1) = size.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times10.addingReportingOverflow(UInt64(byte - 0x30))
            valid = !overflow1 && !overflow2
            size = sum
        }
        guard valid else {
            throw ParseFailure(
                .invalidLiteralSize(String(decoding: buffer[open..<contentEnd], as: UTF8.self)), at: open)
        }
        let headerStart = open > lineStart && buffer[open - 1] == .tilde ? open - 1 : open
        return (size, headerStart)
    }

    /// Whether the literal starting at `literalStart` is the value of a body attribute of a FETCH response:
    /// preceded by `] `, `> ` (a section, a partial origin) or `RFC822`, `RFC822.HEADER`, `RFC822.TEXT`. O(1).
    private func isStreamedBody(literalStart: Int) -> Bool {
        guard isInFetch else { return false }
        let space = literalStart - 1
        guard space > start, buffer[space] == .space else { return false }
        let last = buffer[space - 1]
        if last == .closeBracket || last == .greaterThan { return true }
        var tokenStart = space - 1
        while tokenStart > start, space - tokenStart <= 14, buffer[tokenStart - 1] != .space,
            buffer[tokenStart - 1] != .openParen
        {
            tokenStart -= 1
        }
        let token = ResponseCursor.upper(buffer[tokenStart..<space])
        return token == "RFC822" || token == "RFC822.HEADER" || token == "RFC822.TEXT"
    }

    /// Whether the segment at `start` is part of a FETCH response: after a streamed body, or `* n FETCH `.
    private var isInFetch: Bool {
        if case .fetch = mode { return true }
        var index = start
        guard index + 2 < buffer.count, buffer[index] == .asterisk, buffer[index + 1] == .space else { return false }
        index += 2
        let digitsStart = index
        while index < buffer.count, buffer[index].isDigit { index += 1 }
        guard index > digitsStart, index + 6 < buffer.count, buffer[index] == .space else { return false }
        return ResponseCursor.upper(buffer[(index + 1)..<(index + 6)]) == "FETCH" && buffer[index + 6] == .space
    }

    /// Whether the response at `start` is `* SEARCH` followed by SP or a line end; nil when too few bytes are
    /// buffered to tell.
    private func searchPrefix() -> Bool? {
        let prefix: [UInt8] = Array("* SEARCH".utf8)
        for (offset, expected) in prefix.enumerated() {
            guard start + offset < buffer.count else { return nil }
            let byte = buffer[start + offset]
            if byte != expected, byte != expected + 0x20 || !expected.isUpperLetter { return false }
        }
        guard start + prefix.count < buffer.count else { return nil }
        let after = buffer[start + prefix.count]
        return after == .space || after == .cr || after == .lf
    }

    /// Reads SEARCH numbers from the buffered bytes, consuming them; the response when its line ended. O(bytes).
    private mutating func scanSearch(_ search: inout SearchScan) throws(ParseFailure) -> IMAPUntaggedResponse? {
        let byteLimit = limits.maxSearchResults * 12 + limits.maxLineLength
        while start < buffer.count {
            let byte = buffer[start]
            search.bytes += 1
            guard search.bytes <= byteLimit else { throw ParseFailure(.lineTooLong(limit: byteLimit), at: start) }
            if var tail = search.tail {
                tail.append(byte)
                guard tail.count <= 256 else { throw ParseFailure(.lineTooLong(limit: 256), at: start) }
                start += 1
                search.tail = tail
                if byte == .lf {
                    var cursor = ResponseCursor(tail[...], maxNesting: limits.maxNesting)
                    do throws(ParseFailure) {
                        try cursor.openList()
                        guard try cursor.keyword() == "MODSEQ" else { throw cursor.fail("MODSEQ") }
                        try cursor.space()
                        let modSequence = try cursor.number64("mod-sequence")
                        try cursor.closeList()
                        try cursor.lineEnd()
                        return .search(search.numbers, modSequence: modSequence)
                    } catch {
                        throw ParseFailure(error.kind, at: start - tail.count + error.index)
                    }
                }
                continue
            }
            if byte.isDigit {
                search.current = search.current * 10 + UInt64(byte - 0x30)
                search.digits += 1
                guard search.current <= UInt64(UInt32.max) else {
                    throw ParseFailure(.numberOutOfRange("SEARCH number"), at: start)
                }
                start += 1
                continue
            }
            if search.digits > 0 {
                guard search.numbers.count < limits.maxSearchResults else {
                    throw ParseFailure(.tooManySearchResults(limit: limits.maxSearchResults), at: start)
                }
                search.numbers.append(UInt32(search.current))
                search.current = 0
                search.digits = 0
            }
            switch byte {
            case .space, .cr:
                start += 1
            case .lf:
                start += 1
                return .search(search.numbers, modSequence: nil)
            case .openParen:
                search.tail = []
            default:
                throw ParseFailure(.syntax(expected: "number in SEARCH"), at: start)
            }
        }
        return nil
    }

    // MARK: - Parsing a segment

    private mutating func parse(_ segment: Segment) throws(ParseFailure) {
        var cursor = ResponseCursor(buffer[start..<segment.end], maxNesting: limits.maxNesting)
        switch mode {
        case .fetch(let attributes):
            try parseFetchAttributes(&cursor, count: attributes, first: false, streamsBody: segment.streamsBody)
        default:
            try parseResponse(&cursor, streamsBody: segment.streamsBody)
        }
        if case .body = mode {} else if !cursor.atEnd { throw cursor.fail("end of response") }
        start = segment.end
    }

    private mutating func parseResponse(_ cursor: inout ResponseCursor, streamsBody: Bool) throws(ParseFailure) {
        switch cursor.peek() {
        case .plus:
            guard !awaitingGreeting else { throw ParseFailure(.unexpectedGreeting, at: cursor.index) }
            cursor.index += 1
            _ = cursor.skip(.space)
            let text = Array(cursor.restOfLine())
            try cursor.lineEnd()
            events.append(.continuationRequest(IMAPContinuationRequest(bytes: text)))
        case .asterisk:
            cursor.index += 1
            try cursor.space()
            if awaitingGreeting {
                let statusIndex = cursor.index
                let word = try? cursor.keyword()
                guard word == "OK" || word == "PREAUTH" || word == "BYE" else {
                    throw ParseFailure(.unexpectedGreeting, at: statusIndex)
                }
                cursor.index = statusIndex
                let condition = try parseCondition(&cursor)
                awaitingGreeting = false
                events.append(.greeting(condition))
            } else {
                try parseUntagged(&cursor, streamsBody: streamsBody)
            }
        default:
            guard !awaitingGreeting else { throw ParseFailure(.unexpectedGreeting, at: cursor.index) }
            let tagBytes = try cursor.atom(allowBracket: true, "tag")
            try cursor.space()
            let statusIndex = cursor.index
            let condition = try parseCondition(&cursor)
            guard condition.status == .ok || condition.status == .no || condition.status == .bad else {
                throw ParseFailure(.syntax(expected: "OK, NO or BAD"), at: statusIndex)
            }
            events.append(.tagged(tag: String(decoding: tagBytes, as: UTF8.self), condition))
        }
    }

    /// `status [SP [code] text] CRLF`.
    private func parseCondition(_ cursor: inout ResponseCursor) throws(ParseFailure) -> IMAPResponseCondition {
        let begin = cursor.index
        let word = try cursor.keyword("OK, NO, BAD, BYE or PREAUTH")
        guard let status = IMAPResponseCondition.Status(rawValue: word) else {
            throw ParseFailure(.syntax(expected: "OK, NO, BAD, BYE or PREAUTH"), at: begin)
        }
        var code: IMAPResponseCode?
        var text = ""
        if cursor.skip(.space) {
            if cursor.peek() == .openBracket {
                code = try parseResponseCode(&cursor)
                _ = cursor.skip(.space)
            }
            text = String(decoding: cursor.restOfLine(), as: UTF8.self)
        }
        try cursor.lineEnd()
        return IMAPResponseCondition(status: status, code: code, text: text)
    }

    private func parseResponseCode(_ cursor: inout ResponseCursor) throws(ParseFailure) -> IMAPResponseCode {
        try cursor.expect(.openBracket, "[")
        let name = try cursor.keyword("response code")
        let code: IMAPResponseCode
        switch name {
        case "ALERT": code = .alert
        case "AUTHENTICATIONFAILED": code = .authenticationFailed
        case "AUTHORIZATIONFAILED": code = .authorizationFailed
        case "UNAVAILABLE": code = .unavailable
        case "EXPIRED": code = .expired
        case "PRIVACYREQUIRED": code = .privacyRequired
        case "CONTACTADMIN": code = .contactAdmin
        case "TRYCREATE": code = .tryCreate
        case "NONEXISTENT": code = .nonexistent
        case "ALREADYEXISTS": code = .alreadyExists
        case "READ-ONLY": code = .readOnly
        case "READ-WRITE": code = .readWrite
        case "PARSE": code = .parse
        case "CANNOT": code = .cannot
        case "LIMIT": code = .limit
        case "OVERQUOTA": code = .overQuota
        case "INUSE": code = .inUse
        case "NOPERM": code = .noPermission
        case "SERVERBUG": code = .serverBug
        case "CLIENTBUG": code = .clientBug
        case "CLOSED": code = .closed
        case "UIDNOTSTICKY": code = .uidNotSticky
        case "CAPABILITY":
            code = .capability(try parseCapabilityNames(&cursor, until: .closeBracket))
        case "PERMANENTFLAGS":
            try cursor.space()
            code = .permanentFlags(try cursor.flagList())
        case "UIDVALIDITY":
            try cursor.space()
            code = .uidValidity(try cursor.number32("UIDVALIDITY"))
        case "UIDNEXT":
            try cursor.space()
            code = .uidNext(try cursor.number32("UIDNEXT"))
        case "UNSEEN":
            try cursor.space()
            code = .unseen(try cursor.number32("UNSEEN"))
        case "HIGHESTMODSEQ":
            try cursor.space()
            code = .highestModSequence(try cursor.number64("HIGHESTMODSEQ"))
        case "COPYUID":
            try cursor.space()
            let validity = try cursor.number32("UIDVALIDITY")
            try cursor.space()
            let source = try cursor.uidSet()
            try cursor.space()
            code = .copyUID(uidValidity: validity, source: source, destination: try cursor.uidSet())
        case "APPENDUID":
            try cursor.space()
            let validity = try cursor.number32("UIDVALIDITY")
            try cursor.space()
            code = .appendUID(uidValidity: validity, uids: try cursor.uidSet())
        default:
            var text: [UInt8] = []
            if cursor.skip(.space) {
                while let byte = cursor.peek(), byte != .closeBracket, byte != .cr, byte != .lf {
                    text.append(byte)
                    cursor.index += 1
                }
            }
            code = .other(name: name, text: String(decoding: text, as: UTF8.self))
        }
        try cursor.expect(.closeBracket, "] after response code")
        return code
    }

    /// `*(SP atom)` up to `terminator` (not consumed).
    private func parseCapabilityNames(_ cursor: inout ResponseCursor, until terminator: UInt8) throws(ParseFailure)
        -> IMAPCapabilities
    {
        var names: [String] = []
        while cursor.skip(.space) {
            if cursor.peek() == terminator || cursor.atLineEnd { break }
            names.append(String(decoding: try cursor.atom("capability"), as: UTF8.self))
        }
        return IMAPCapabilities(names)
    }

    private mutating func parseUntagged(_ cursor: inout ResponseCursor, streamsBody: Bool) throws(ParseFailure) {
        if let first = cursor.peek(), first.isDigit {
            let number = try cursor.number32("message number")
            try cursor.space()
            let name = try cursor.keyword("EXISTS, EXPUNGE, RECENT or FETCH")
            switch name {
            case "EXISTS":
                try cursor.lineEnd()
                events.append(.untagged(.exists(number)))
            case "EXPUNGE":
                try cursor.lineEnd()
                events.append(.untagged(.expunge(number)))
            case "RECENT":
                try cursor.lineEnd()
                events.append(.untagged(.recent(number)))
            case "FETCH":
                try cursor.space()
                try cursor.openList()
                events.append(.fetchBegin(sequence: number))
                try parseFetchAttributes(&cursor, count: 0, first: true, streamsBody: streamsBody)
            default:
                events.append(.untagged(.other(name: "\(number) \(name)", text: otherText(&cursor))))
                try cursor.lineEnd()
            }
            return
        }
        let nameIndex = cursor.index
        let name = try cursor.keyword("response name")
        switch name {
        case "OK", "NO", "BAD", "BYE", "PREAUTH":
            cursor.index = nameIndex
            events.append(.untagged(.condition(try parseCondition(&cursor))))
        case "CAPABILITY":
            let capabilities = try parseCapabilityNames(&cursor, until: .cr)
            try cursor.lineEnd()
            events.append(.untagged(.capability(capabilities)))
        case "ENABLED":
            let names = try parseCapabilityNames(&cursor, until: .cr)
            try cursor.lineEnd()
            events.append(.untagged(.enabled(names.names)))
        case "FLAGS":
            try cursor.space()
            let flags = try cursor.flagList()
            try cursor.lineEnd()
            events.append(.untagged(.flags(flags)))
        case "LIST", "LSUB":
            try cursor.space()
            events.append(.untagged(.list(try parseListEntry(&cursor))))
        case "STATUS":
            try cursor.space()
            let mailbox = IMAPMailboxName(wireBytes: try cursor.astring())
            try cursor.space()
            let status = try parseStatusItems(&cursor)
            _ = cursor.skip(.space)
            try cursor.lineEnd()
            events.append(.untagged(.status(mailbox, status)))
        case "SEARCH":
            var numbers: [UInt32] = []
            while cursor.skip(.space), !cursor.atLineEnd {
                guard numbers.count < limits.maxSearchResults else {
                    throw ParseFailure(.tooManySearchResults(limit: limits.maxSearchResults), at: cursor.index)
                }
                numbers.append(try cursor.number32("SEARCH number"))
            }
            try cursor.lineEnd()
            events.append(.untagged(.search(numbers, modSequence: nil)))
        case "ESEARCH":
            events.append(.untagged(.extendedSearch(try parseExtendedSearch(&cursor))))
        case "VANISHED":
            try cursor.space()
            var earlier = false
            if cursor.peek() == .openParen {
                try cursor.openList()
                guard try cursor.keyword() == "EARLIER" else { throw cursor.fail("EARLIER") }
                try cursor.closeList()
                try cursor.space()
                earlier = true
            }
            let uids = try cursor.uidSet()
            try cursor.lineEnd()
            events.append(.untagged(.vanished(uids, earlier: earlier)))
        default:
            events.append(.untagged(.other(name: name, text: otherText(&cursor))))
            try cursor.lineEnd()
        }
    }

    /// The rest of an uninterpreted response, literals included, escaped and cut to 1 KiB; moves the cursor to
    /// the final line end. O(segment).
    private func otherText(_ cursor: inout ResponseCursor) -> String {
        _ = cursor.skip(.space)
        let begin = cursor.index
        var end = cursor.bytes.endIndex
        if end > begin, cursor.bytes[end - 1] == .lf { end -= 1 }
        if end > begin, cursor.bytes[end - 1] == .cr { end -= 1 }
        cursor.index = end
        var text = ""
        var index = begin
        while index < end, text.utf8.count < 1024 {
            let next = min(end, index + IMAPProtocolError.excerptLimit)
            text += IMAPProtocolError.escaped(cursor.bytes[index..<next])
            index = next
        }
        return text
    }

    /// `(attributes) SP delimiter SP mailbox [SP extended-data] CRLF`.
    private func parseListEntry(_ cursor: inout ResponseCursor) throws(ParseFailure) -> IMAPListEntry {
        var attributes: [String] = []
        try cursor.list { (cursor: inout ResponseCursor) throws(ParseFailure) in
            attributes.append(try cursor.flag().name)
        }
        try cursor.space()
        var delimiter: Character?
        if let bytes = try cursor.nstring() {
            guard bytes.count == 1, bytes[0] < 0x80 else { throw cursor.fail("one-character delimiter") }
            delimiter = Character(Unicode.Scalar(bytes[0]))
        }
        try cursor.space()
        let mailbox = IMAPMailboxName(wireBytes: try cursor.astring())
        if cursor.skip(.space) { try cursor.skipValue() }
        try cursor.lineEnd()
        return IMAPListEntry(attributes: attributes, delimiter: delimiter, mailbox: mailbox)
    }

    private func parseStatusItems(_ cursor: inout ResponseCursor) throws(ParseFailure) -> IMAPMailboxStatus {
        var status = IMAPMailboxStatus()
        try cursor.list { (cursor: inout ResponseCursor) throws(ParseFailure) in
            let name = try cursor.keyword("status item")
            try cursor.space()
            switch name {
            case "MESSAGES": status.messages = try cursor.number32(name)
            case "RECENT": status.recent = try cursor.number32(name)
            case "UIDNEXT": status.uidNext = try cursor.number32(name)
            case "UIDVALIDITY": status.uidValidity = try cursor.number32(name)
            case "UNSEEN": status.unseen = try cursor.number32(name)
            case "DELETED": status.deleted = try cursor.number32(name)
            case "SIZE": status.size = try cursor.number64(name)
            case "HIGHESTMODSEQ": status.highestModSequence = try cursor.number64(name)
            default: try cursor.skipValue()
            }
        }
        return status
    }

    /// `ESEARCH [(TAG "x")] [UID] *(SP name SP value)`.
    private func parseExtendedSearch(_ cursor: inout ResponseCursor) throws(ParseFailure) -> IMAPExtendedSearch {
        var result = IMAPExtendedSearch()
        if cursor.skip(.space), cursor.peek() == .openParen {
            try cursor.openList()
            guard try cursor.keyword() == "TAG" else { throw cursor.fail("TAG") }
            try cursor.space()
            result.tag = String(decoding: try cursor.astring(), as: UTF8.self)
            try cursor.closeList()
            _ = cursor.skip(.space)
        }
        while !cursor.atLineEnd {
            let name = try cursor.keyword("ESEARCH item")
            if name == "UID" {
                result.uid = true
                _ = cursor.skip(.space)
                continue
            }
            try cursor.space()
            switch name {
            case "MIN": result.min = try cursor.number32(name)
            case "MAX": result.max = try cursor.number32(name)
            case "COUNT": result.count = try cursor.number32(name)
            case "ALL": result.all = try cursor.uidSet()
            case "MODSEQ": result.modSequence = try cursor.number64(name)
            default: try cursor.skipValue()
            }
            _ = cursor.skip(.space)
        }
        try cursor.lineEnd()
        return result
    }
}

// MARK: - FETCH

extension IMAPResponseParser {
    /// The attributes of a FETCH response from the cursor on: `count` read before, `first` when no separator is
    /// due. Ends at `)` CRLF (`fetchEnd`), or at a streamed body literal (then the mode is `.body`).
    fileprivate mutating func parseFetchAttributes(
        _ cursor: inout ResponseCursor, count: Int, first: Bool, streamsBody: Bool
    ) throws(ParseFailure) {
        var count = count
        var first = first
        while true {
            if cursor.skip(.closeParen) {
                try cursor.lineEnd()
                events.append(.fetchEnd)
                mode = .response
                return
            }
            if !first { try cursor.space() }
            first = false
            count += 1
            guard count <= limits.maxFetchAttributes else {
                throw ParseFailure(.tooManyFetchAttributes(limit: limits.maxFetchAttributes), at: cursor.index)
            }
            let nameIndex = cursor.index
            let name = try attributeName(&cursor)
            switch name {
            case "UID":
                try cursor.space()
                events.append(.fetchAttribute(.uid(try cursor.number32("UID"))))
            case "RFC822.SIZE":
                try cursor.space()
                events.append(.fetchAttribute(.rfc822Size(try cursor.number64("RFC822.SIZE"))))
            case "FLAGS":
                try cursor.space()
                events.append(.fetchAttribute(.flags(try cursor.flagList())))
            case "INTERNALDATE":
                try cursor.space()
                events.append(.fetchAttribute(.internalDate(String(decoding: try cursor.quoted(), as: UTF8.self))))
            case "MODSEQ":
                try cursor.space()
                try cursor.openList()
                let value = try cursor.number64("mod-sequence")
                try cursor.closeList()
                events.append(.fetchAttribute(.modSequence(value)))
            case "BODY" where cursor.peek() == .openBracket, "BINARY" where cursor.peek() == .openBracket:
                let section = Self.upperSection(try cursor.bracketed())
                let origin = try partialOrigin(&cursor)
                try cursor.space()
                let kind: IMAPBodySection.Kind = name == "BODY" ? .body : .binary
                try parseBody(
                    &cursor, IMAPBodySection(kind: kind, section: section, origin: origin), count, streamsBody)
            case "RFC822", "RFC822.HEADER", "RFC822.TEXT":
                try cursor.space()
                try parseBody(&cursor, IMAPBodySection(kind: .init(rawValue: name)!), count, streamsBody)
            default:
                guard !name.isEmpty else { throw ParseFailure(.syntax(expected: "FETCH attribute"), at: nameIndex) }
                if cursor.peek() == .openBracket { _ = try cursor.bracketed() }
                _ = try partialOrigin(&cursor)
                try cursor.space()
                try skipAttributeValue(&cursor, count, streamsBody)
            }
            if case .body = mode { return }
        }
    }

    /// Letters, digits, `.`, `-`, `_`, `$` (`RFC822.SIZE`, `X-GM-LABELS`), upper-cased; stops before `[`.
    private func attributeName(_ cursor: inout ResponseCursor) throws(ParseFailure) -> String {
        let begin = cursor.index
        while let byte = cursor.peek(),
            (byte | 0x20) >= 0x61 && (byte | 0x20) <= 0x7A || byte.isDigit || byte == 0x2E || byte == 0x2D
                || byte == 0x5F || byte == 0x24
        {
            cursor.index += 1
        }
        guard cursor.index > begin else { throw cursor.fail("FETCH attribute") }
        return ResponseCursor.upper(cursor.bytes[begin..<cursor.index])
    }

    private static func upperSection(_ bytes: ArraySlice<UInt8>) -> String {
        ResponseCursor.upper(bytes)
    }

    /// `<n>` after a section, if present.
    private func partialOrigin(_ cursor: inout ResponseCursor) throws(ParseFailure) -> UInt64? {
        guard cursor.skip(.lessThan) else { return nil }
        let origin = try cursor.number64("partial origin")
        try cursor.expect(.greaterThan, ">")
        return origin
    }

    /// A body value: NIL, a quoted string, a buffered literal, or the streamed literal ending the segment.
    private mutating func parseBody(
        _ cursor: inout ResponseCursor, _ section: IMAPBodySection, _ count: Int, _ streamsBody: Bool
    ) throws(ParseFailure) {
        switch cursor.peek() {
        case .quote:
            let bytes = try cursor.quoted()
            events.append(.bodyBegin(section, size: UInt64(bytes.count)))
            if !bytes.isEmpty { events.append(.bodyBytes(bytes)) }
            events.append(.bodyEnd)
        case .openBrace, .tilde:
            let headerIndex = cursor.index
            let size = try cursor.literalHeader()
            guard size <= limits.maxBodySize else {
                throw ParseFailure(.bodyTooLarge(size: size, limit: limits.maxBodySize), at: headerIndex)
            }
            events.append(.bodyBegin(section, size: size))
            if streamsBody, cursor.atEnd {
                mode = .body(remaining: size, attributes: count, discard: false)
            } else {
                let bytes = try cursor.take(size)
                if !bytes.isEmpty { events.append(.bodyBytes(Array(bytes))) }
                events.append(.bodyEnd)
            }
        default:
            guard try cursor.keyword("NIL or body") == "NIL" else { throw cursor.fail("NIL or body") }
            events.append(.bodyNil(section))
        }
    }

    /// The value of an attribute this codec skips; a streamed literal there is discarded as it arrives.
    private mutating func skipAttributeValue(_ cursor: inout ResponseCursor, _ count: Int, _ streamsBody: Bool)
        throws(ParseFailure)
    {
        guard cursor.peek() == .openBrace || cursor.peek() == .tilde else {
            try cursor.skipValue()
            return
        }
        let headerIndex = cursor.index
        let size = try cursor.literalHeader()
        if streamsBody, cursor.atEnd {
            guard size <= limits.maxBodySize else {
                throw ParseFailure(.bodyTooLarge(size: size, limit: limits.maxBodySize), at: headerIndex)
            }
            mode = .body(remaining: size, attributes: count, discard: true)
        } else {
            _ = try cursor.take(size)
        }
    }
}

extension UInt8 {
    fileprivate var isUpperLetter: Bool { self >= 0x41 && self <= 0x5A }
}
