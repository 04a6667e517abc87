import IMAPProtocol

/// Feeds bytes to an `IMAPResponseParser` the way the transport does (chunk, then drain) and records the events,
/// consecutive `bodyBytes` merged so that the same stream cut differently gives the same list.
struct ParserDriver {
    var parser: IMAPResponseParser
    private(set) var events: [IMAPResponseEvent] = []
    /// The most bytes the parser held after any drain, and the largest chunk fed.
    private(set) var maxBuffered = 0
    private(set) var maxChunk = 0
    /// The sizes of the `bodyBytes` events, in order.
    private(set) var bodyChunkSizes: [Int] = []

    init(limits: IMAPParserLimits = IMAPParserLimits(), expectGreeting: Bool = true) {
        parser = IMAPResponseParser(limits: limits, expectGreeting: expectGreeting)
    }

    /// Feeds one chunk and drains the events it completes.
    mutating func feed(_ chunk: some Collection<UInt8>) throws(IMAPProtocolError) {
        maxChunk = max(maxChunk, chunk.count)
        parser.feed(chunk)
        maxBuffered = max(maxBuffered, parser.bufferedByteCount)
        while let event = try parser.next() {
            if case .bodyBytes(let bytes) = event {
                bodyChunkSizes.append(bytes.count)
                if case .bodyBytes(let previous)? = events.last {
                    events[events.count - 1] = .bodyBytes(previous + bytes)
                    continue
                }
            }
            events.append(event)
        }
        maxBuffered = max(maxBuffered, parser.bufferedByteCount)
    }

    /// Feeds `bytes` in chunks of the given sizes (cycled), then declares the end of the stream.
    static func run(
        _ bytes: [UInt8], chunkSizes: [Int] = [65536], limits: IMAPParserLimits = IMAPParserLimits(),
        expectGreeting: Bool = true
    ) throws(IMAPProtocolError) -> ParserDriver {
        var driver = ParserDriver(limits: limits, expectGreeting: expectGreeting)
        var offset = 0
        var turn = 0
        while offset < bytes.count {
            let size = max(1, chunkSizes[turn % chunkSizes.count])
            turn += 1
            let end = min(bytes.count, offset + size)
            try driver.feed(bytes[offset..<end])
            offset = end
        }
        try driver.parser.finish()
        return driver
    }

    /// Parses `text` (a few response lines) after the greeting and returns the events.
    static func events(_ text: String, limits: IMAPParserLimits = IMAPParserLimits()) throws(IMAPProtocolError)
        -> [IMAPResponseEvent]
    {
        try run(Array(text.utf8), limits: limits, expectGreeting: false).events
    }

    /// The error `bytes` end in (nil when they parse).
    static func error(
        _ bytes: [UInt8], chunkSizes: [Int] = [65536], limits: IMAPParserLimits = IMAPParserLimits(),
        expectGreeting: Bool = false
    ) -> IMAPProtocolError? {
        do {
            _ = try run(bytes, chunkSizes: chunkSizes, limits: limits, expectGreeting: expectGreeting)
            return nil
        } catch {
            return error
        }
    }
}
