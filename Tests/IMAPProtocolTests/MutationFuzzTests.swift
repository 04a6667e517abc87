import IMAPProtocol
import TestSupport
import Testing

/// Seeded random mutations of real Dovecot responses: the parser never crashes or hangs, its buffer stays
/// within its cap, and the outcome (events, or error kind and offset) does not depend on how the stream is cut.
@Suite("Mutation fuzz")
struct MutationFuzzTests {
    static let tokens: [[UInt8]] = [
        "{", "}", "{5}\r\n", "{99999999999}\r\n", "{-1}", "(", ")", "\r\n", "\u{0}", "* ", "BODY[] ", "~{3}\r\n",
        "\"", "\\", "* SEARCH ", "NIL", "4294967296", "[", "]", " FETCH (", "UID ", "* 1 FETCH (BODY[] {10}\r\n",
        "+ ", "a1 OK ", "((((((((((((((((((((((((((((((((((", "\u{FF}", "\r", "\n",
    ].map { Array($0.utf8) }

    /// The transcripts cut after each tagged completion (literals skipped while looking for line starts), pieces
    /// over 16 KiB left out, plus a FETCH of a 5 KB body.
    static let corpus: [[UInt8]] = {
        var pieces: [[UInt8]] = []
        for name in Transcripts.names {
            let bytes = Transcripts.server(name)
            var pieceStart = 0
            var lineStart = 0
            var index = 0
            while index < bytes.count {
                guard bytes[index] == 0x0A else {
                    index += 1
                    continue
                }
                let line = bytes[lineStart...index]
                if line.count > 3, line[index - 2] == UInt8(ascii: "}"),
                    let brace = line.lastIndex(of: UInt8(ascii: "{")),
                    let size = Int(String(decoding: line[(brace + 1)..<(index - 2)], as: UTF8.self))
                {
                    index += 1 + size
                    continue  // the line goes on after the literal
                }
                if bytes[lineStart] != UInt8(ascii: "*"), bytes[lineStart] != UInt8(ascii: "+") {
                    if index - pieceStart <= 16 * 1024 { pieces.append(Array(bytes[pieceStart...index])) }
                    pieceStart = index + 1
                }
                index += 1
                lineStart = index
            }
        }
        let body = String(repeating: "Zeile mit Umlauten äöü\r\n", count: 200)
        pieces.append(
            Array("* 7 FETCH (UID 7 BODY[] {\(body.utf8.count)}\r\n\(body) FLAGS (\\Seen))\r\na9 OK ok\r\n".utf8))
        return pieces
    }()

    static func mutate(_ input: [UInt8], using random: inout SplitMix64) -> [UInt8] {
        var bytes = input
        for _ in 0..<(1 + Int(random.next() % 4)) {
            let position = bytes.isEmpty ? 0 : Int(random.next() % UInt64(bytes.count))
            switch random.next() % 6 {
            case 0 where !bytes.isEmpty:
                bytes[position] ^= UInt8(truncatingIfNeeded: 1 << (random.next() % 8))
            case 1:
                bytes = Array(bytes.prefix(position))
            case 2:
                bytes.insert(contentsOf: tokens[Int(random.next() % UInt64(tokens.count))], at: position)
            case 3 where !bytes.isEmpty:
                let end = min(bytes.count, position + 1 + Int(random.next() % 64))
                bytes.removeSubrange(position..<end)
            case 4 where !bytes.isEmpty:
                let end = min(bytes.count, position + 1 + Int(random.next() % 256))
                bytes.insert(contentsOf: bytes[position..<end], at: position)
            default:
                if let digit = bytes.indices.first(where: { $0 >= position && bytes[$0] >= 0x30 && bytes[$0] <= 0x39 })
                {
                    bytes.insert(contentsOf: Array(String(random.next()).utf8), at: digit)
                }
            }
        }
        return bytes
    }

    private struct Outcome: Equatable {
        var events: [IMAPResponseEvent]
        var errorKind: IMAPProtocolError.Kind?
        var errorOffset: UInt64?
    }

    private static func outcome(_ bytes: [UInt8], chunkSizes: [Int]) -> (Outcome, ParserDriver) {
        var driver = ParserDriver(expectGreeting: false)
        var offset = 0
        var turn = 0
        do {
            while offset < bytes.count {
                let end = min(bytes.count, offset + chunkSizes[turn % chunkSizes.count])
                turn += 1
                try driver.feed(bytes[offset..<end])
                offset = end
            }
            try driver.parser.finish()
            return (Outcome(events: driver.events), driver)
        } catch {
            return (Outcome(events: driver.events, errorKind: error.kind, errorOffset: error.offset), driver)
        }
    }

    @Test func twentyThousandMutations() {
        var random = SplitMix64(seed: 0x1A4A_F022)
        let corpus = Self.corpus
        #expect(corpus.count > 40)
        var errors = 0
        for iteration in 0..<20_000 {
            var input: [UInt8] = []
            for _ in 0..<(1 + Int(random.next() % 3)) {
                input += corpus[Int(random.next() % UInt64(corpus.count))]
            }
            input = Self.mutate(input, using: &random)
            let sizes = (0..<16).map { _ in 1 + Int(random.next() % 512) }
            let (chunked, driver) = Self.outcome(input, chunkSizes: sizes)
            if chunked.errorKind != nil { errors += 1 }
            #expect(driver.maxBuffered <= IMAPParserLimits().maxBufferedResponse + driver.maxChunk)
            if iteration % 8 == 0 {
                let (whole, _) = Self.outcome(input, chunkSizes: [max(1, input.count)])
                #expect(whole == chunked, "iteration \(iteration)")
            }
        }
        // The mutations reach the error paths, and not only them.
        #expect(errors > 2_000 && errors < 19_000)
    }
}
