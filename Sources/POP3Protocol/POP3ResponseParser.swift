import MailParser
import SASLMechanisms

/// An incremental parser for a POP3 server's responses. The transport feeds it each chunk as it arrives (any size,
/// split anywhere) and gets events back; because POP3 responses do not say whether lines follow, the driver
/// declares each response it awaits with `expect(_:)`, in order (several at once when pipelining).
///
/// A new parser expects the greeting. Status lines and listings are buffered within `POP3ParserLimits`; a message
/// body is never buffered: its dot-unstuffed bytes come out as `bodyBytes` events chunk by chunk, and
/// `currentBodyByteCount` tells the driver how much has arrived so it can abort over a size limit. The only bytes
/// held between calls are a partial line (capped) or bytes that arrived before any response was expected (capped).
///
/// A hostile server gets a `POP3ProtocolError` (overlong or malformed lines, garbage, bad unique-ids, duplicates,
/// listings over the limits); after an error the parser is dead and throws the same error on every call.
public struct POP3ResponseParser: Sendable {
    /// The caps this parser enforces.
    public let limits: POP3ParserLimits
    /// The error that killed the parser, if any.
    public private(set) var failure: POP3ProtocolError?
    /// Bytes of the message body being received (or last received), dot-unstuffed.
    public private(set) var currentBodyByteCount = 0

    private enum BodyPosition: Sendable {
        case lineStart, dot, dotCR, inLine
    }

    private enum Stage: Sendable {
        case idle
        case statusLine(POP3ResponseKind)
        case listing
        case body(BodyPosition)
    }

    /// Declared responses; those before `nextExpectation` have started (a queue without O(k) removals, so that
    /// thousands of pipelined commands cost O(1) each).
    private var expectations: [POP3ResponseKind] = [.status]
    private var nextExpectation = 0
    private var stage = Stage.idle
    /// The listing being collected while `stage` is `.listing` (kept apart so it is mutated in place).
    private var listing: POP3ListingAccumulator?
    /// The line being collected (status or listing line), CR included, LF not.
    private var line: [UInt8] = []
    private var lineOffset = 0
    /// Bytes that came while no response was expected.
    private var held: [UInt8] = []
    /// Bytes parsed so far: the stream offset of the next byte.
    private var streamOffset = 0

    /// A parser awaiting the server's greeting (a `.status` response).
    public init(limits: POP3ParserLimits = POP3ParserLimits()) {
        self.limits = limits
    }

    /// Declares the next response (after those already declared). Call it when sending the command; bytes held
    /// because they came early are parsed on the next `parse` call (`parse([])` is fine).
    public mutating func expect(_ kind: POP3ResponseKind) {
        if nextExpectation == expectations.count {
            expectations.removeAll(keepingCapacity: true)
            nextExpectation = 0
        } else if nextExpectation >= 1024, nextExpectation * 2 >= expectations.count {
            expectations.removeFirst(nextExpectation)
            nextExpectation = 0
        }
        expectations.append(kind)
    }

    /// Responses declared but not yet started.
    public var pendingExpectationCount: Int { expectations.count - nextExpectation }

    /// True between responses: nothing partial is buffered and no body or listing is open.
    public var isBetweenResponses: Bool {
        if case .idle = stage { return true }
        return false
    }

    /// Bytes received but not parsed because no response was expected. After the `+OK` to STLS this must be 0:
    /// anything else was sent before the TLS handshake and must not be trusted (the driver should fail).
    public var bufferedByteCount: Int { held.count }

    /// Parses one chunk of the server's bytes. O(n) in the chunk plus the bytes held from before (at most
    /// `limits.unsolicitedBytes`); a body chunk is scanned once and copied once into its event.
    public mutating func parse(_ chunk: some Collection<UInt8>) throws(POP3ProtocolError) -> [POP3Event] {
        if let failure { throw failure }
        var events: [POP3Event] = []
        var outcome: Result<Void, POP3ProtocolError> = .success(())
        if held.isEmpty,
            chunk.withContiguousStorageIfAvailable({ buffer in
                outcome = Result { () throws(POP3ProtocolError) in try process(buffer, into: &events) }
            }) != nil
        {
            // parsed in place
        } else {
            let joined = held + Array(chunk)
            held = []
            joined.withUnsafeBufferPointer { buffer in
                outcome = Result { () throws(POP3ProtocolError) in try process(buffer, into: &events) }
            }
        }
        if case .failure(let error) = outcome {
            failure = error
            throw error
        }
        return events
    }

    // MARK: Scanning

    private static let lf: UInt8 = 0x0A
    private static let cr: UInt8 = 0x0D
    private static let dot = UInt8(ascii: ".")

    /// One pass over `buffer`: every iteration advances `index` or changes the stage without reading back.
    private mutating func process(
        _ buffer: UnsafeBufferPointer<UInt8>, into events: inout [POP3Event]
    ) throws(POP3ProtocolError) {
        let base = streamOffset
        var index = 0
        defer { streamOffset = base + index }
        while index < buffer.count {
            switch stage {
            case .idle:
                guard nextExpectation < expectations.count else {
                    let rest = buffer[index...]
                    guard rest.count <= limits.unsolicitedBytes else {
                        throw POP3ProtocolError(
                            .unsolicitedData(limit: limits.unsolicitedBytes),
                            context: "bytes while no response was expected", streamOffset: base + index, bytes: rest)
                    }
                    held = Array(rest)
                    // Held bytes are counted when they are parsed.
                    streamOffset = base + index
                    return
                }
                stage = .statusLine(expectations[nextExpectation])
                nextExpectation += 1
                line.removeAll(keepingCapacity: true)
                lineOffset = base + index
            case .statusLine(let kind):
                guard
                    try collectLine(
                        buffer, &index, limit: limits.statusLineBytes, context: "status line of \(Self.name(kind))")
                else { continue }
                try finishStatusLine(kind, into: &events)
            case .listing:
                // Taken out while it grows so that its arrays stay uniquely referenced (appended in place).
                guard var accumulator = listing else { preconditionFailure("a listing stage without its listing") }
                listing = nil
                defer { if case .listing = stage { listing = accumulator } }
                let complete = try collectLine(
                    buffer, &index, limit: limits.listingLineBytes,
                    context: "\(accumulator.name) line \(accumulator.lineNumber + 1)")
                guard complete else { continue }
                var content = line[...]
                if content.last == Self.cr { content = content.dropLast() }
                if content.elementsEqual([Self.dot]) {
                    events.append(accumulator.event)
                    stage = .idle
                } else if let problem = accumulator.add(content, wireLength: line.count + 1) {
                    throw POP3ProtocolError(
                        problem, context: "\(accumulator.name) line \(accumulator.lineNumber)",
                        streamOffset: lineOffset, bytes: content)
                }
                line.removeAll(keepingCapacity: true)
                lineOffset = base + index
            case .body(let position):
                scanBody(buffer, &index, from: position, into: &events)
            }
        }
    }

    /// Appends bytes up to the next LF to `line`; true when the line is complete (`index` then past its LF).
    /// O(n) in the bytes consumed.
    private mutating func collectLine(
        _ buffer: UnsafeBufferPointer<UInt8>, _ index: inout Int, limit: Int, context: @autoclosure () -> String
    ) throws(POP3ProtocolError) -> Bool {
        let end = Self.lineFeed(in: buffer, from: index)
        let segment = buffer[index..<(end ?? buffer.count)]
        let total = line.count + segment.count + (end == nil ? 0 : 1)
        guard total <= limit else {
            throw POP3ProtocolError(

                .lineTooLong(limit: limit), context: context(), streamOffset: lineOffset,
                bytes: (line + segment.prefix(65)).prefix(65))
        }
        line.append(contentsOf: segment)
        guard let end else {
            index = buffer.count
            return false
        }
        index = end + 1
        return true
    }

    /// Reads a complete status line and opens what follows it. O(n) in the line.
    private mutating func finishStatusLine(
        _ kind: POP3ResponseKind, into events: inout [POP3Event]
    ) throws(POP3ProtocolError) {
        var content = line[...]
        if content.last == Self.cr { content = content.dropLast() }
        stage = .idle
        if let text = Self.text(after: "+OK", in: content) {
            events.append(.ok(POP3StatusLine(parsing: text)))
            switch kind {
            case .capabilityListing, .scanListing, .uniqueIDListing:
                listing = POP3ListingAccumulator(kind: kind, limits: limits)
                stage = .listing
            case .messageBody:
                currentBodyByteCount = 0
                stage = .body(.lineStart)
            case .status, .authenticationStep:
                break
            }
        } else if let text = Self.text(after: "-ERR", in: content) {
            events.append(.error(POP3StatusLine(parsing: text)))
        } else if kind == .authenticationStep, let text = Self.text(after: "+", in: content) {
            do {
                events.append(.saslChallenge(try SASLBase64.decode(text)))
            } catch {
                throw POP3ProtocolError(
                    .invalidChallenge(reason: error.description), context: "AUTH challenge", streamOffset: lineOffset,
                    bytes: content)
            }
        } else {
            throw POP3ProtocolError(
                .malformedStatusLine, context: "status line of \(Self.name(kind))", streamOffset: lineOffset,
                bytes: content)
        }
        let lineEnd = lineOffset + line.count + 1
        line.removeAll(keepingCapacity: true)
        lineOffset = lineEnd
    }

    /// Streams body bytes from `index`: copies runs between line starts, drops a stuffed dot, and stops after
    /// the `.CRLF` terminator. O(n) in the bytes scanned, one pass; the state carries over chunk boundaries (a
    /// terminator split anywhere is still found).
    private mutating func scanBody(
        _ buffer: UnsafeBufferPointer<UInt8>, _ index: inout Int, from start: BodyPosition,
        into events: inout [POP3Event]
    ) {
        var position = start
        var output: [UInt8] = []
        var runStart = index
        var ended = false
        scan: while index < buffer.count {
            switch position {
            case .inLine:
                if let lineFeed = Self.lineFeed(in: buffer, from: index) {
                    index = lineFeed + 1
                    position = .lineStart
                } else {
                    index = buffer.count
                }
            case .lineStart:
                if buffer[index] == Self.dot {
                    output.append(contentsOf: buffer[runStart..<index])
                    index += 1
                    runStart = index
                    position = .dot
                } else {
                    position = .inLine
                }
            case .dot:
                if buffer[index] == Self.cr {
                    index += 1
                    runStart = index
                    position = .dotCR
                } else {
                    position = .inLine  // a stuffed dot: dropped, the line goes on from here
                }
            case .dotCR:
                if buffer[index] == Self.lf {
                    index += 1
                    runStart = index
                    ended = true
                    break scan
                }
                output.append(Self.cr)  // "." CR and more: the dot was stuffing, the CR is content
                position = .inLine
            }
        }
        if !ended { output.append(contentsOf: buffer[runStart..<index]) }
        if !output.isEmpty {
            currentBodyByteCount += output.count
            events.append(.bodyBytes(output))
        }
        if ended {
            events.append(.bodyEnd(byteCount: currentBodyByteCount))
            stage = .idle
            lineOffset = streamOffset + index
        } else {
            stage = .body(position)
        }
    }

    /// The index of the first LF at or after `start`, found with `memchr` (MailParser's `LineScanner`). O(the bytes
    /// up to it).
    private static func lineFeed(in buffer: UnsafeBufferPointer<UInt8>, from start: Int) -> Int? {
        var scanner = LineScanner(buffer, in: start..<buffer.count)
        guard let line = scanner.next(), line.hasLineFeed else { return nil }
        return line.next - 1
    }

    /// The bytes after `indicator` if the line is `indicator` alone or `indicator SP text` (indicator compared
    /// ASCII case-insensitively). O(1): only the indicator and the byte after it are read.
    private static func text(after indicator: String, in content: ArraySlice<UInt8>) -> ArraySlice<UInt8>? {
        guard ByteText.hasPrefixIgnoringCase(content, indicator.utf8) else { return nil }
        let rest = content.dropFirst(indicator.utf8.count)
        guard let first = rest.first else { return rest }
        return first == 0x20 ? rest.dropFirst() : nil
    }

    private static func name(_ kind: POP3ResponseKind) -> String {
        switch kind {
        case .status: return "a status response"
        case .authenticationStep: return "an AUTH step"
        case .capabilityListing: return "a CAPA response"
        case .scanListing: return "a LIST response"
        case .uniqueIDListing: return "a UIDL response"
        case .messageBody: return "a RETR/TOP response"
        }
    }
}
