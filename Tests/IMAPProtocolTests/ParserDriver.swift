import Foundation
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

/// The recorded Dovecot transcripts in `Transcripts/` (see capture-transcripts.py there).
enum Transcripts {
    static let directory = Bundle.module.url(forResource: "Transcripts", withExtension: nil)!

    static func server(_ name: String) -> [UInt8] {
        [UInt8](try! Data(contentsOf: directory.appendingPathComponent("\(name).server")))
    }

    static let names = [
        "setup-append", "poll-session", "authenticate", "login-failure", "idle", "qresync", "starttls",
        "encoder-session-poll", "encoder-session-sasl",
    ]

    /// The messages the capture script appended, in order (`messages.bin`: a size line, then the bytes).
    static var messages: [[UInt8]] {
        let data = [UInt8](try! Data(contentsOf: directory.appendingPathComponent("messages.bin")))
        var messages: [[UInt8]] = []
        var index = 0
        while index < data.count {
            let newline = data[index...].firstIndex(of: 0x0A)!
            let size = Int(String(decoding: data[index..<newline], as: UTF8.self))!
            messages.append(Array(data[(newline + 1)..<(newline + 1 + size)]))
            index = newline + 1 + size
        }
        return messages
    }
}

/// A seeded SplitMix64 generator: reproducible random chunk sizes and mutations.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
