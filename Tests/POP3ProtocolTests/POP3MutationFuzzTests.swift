import POP3Protocol
import TestSupport
import Testing

/// Seeded random mutations of the real Dovecot transcripts, fed in random chunks under random or real response
/// kinds: the parser must never crash or hang, must fail only with `POP3ProtocolError` (and then stay dead), and
/// must never hold more than its caps or emit more body bytes than it was given.
@Suite("POP3 responses: mutation fuzz")
struct POP3MutationFuzzTests {
    static let iterations = 20_000
    static let interesting: [UInt8] = [0x0D, 0x0A, 0x2E, 0x2B, 0x2D, 0x20, 0x5B, 0x5D, 0x2F, 0x00, 0xFF, 0x80, 0x3D]
    static let kinds: [POP3ResponseKind] = [
        .status, .authenticationStep, .capabilityListing, .scanListing, .uniqueIDListing, .messageBody,
    ]

    static func mutate(_ input: [UInt8], using generator: inout SplitMix64) -> [UInt8] {
        var bytes = input
        for _ in 0..<Int.random(in: 1...4, using: &generator) {
            let position = bytes.isEmpty ? 0 : Int.random(in: 0..<bytes.count, using: &generator)
            switch Int.random(in: 0..<8, using: &generator) {
            case 0 where !bytes.isEmpty:
                bytes[position] ^= UInt8(1) << UInt8.random(in: 0...7, using: &generator)
            case 1 where !bytes.isEmpty:
                bytes[position] = interesting.randomElement(using: &generator)!
            case 2:
                let count = Int.random(in: 1...16, using: &generator)
                let inserted = (0..<count).map { _ in
                    Bool.random(using: &generator)
                        ? interesting.randomElement(using: &generator)! : UInt8.random(in: 0...255, using: &generator)
                }
                bytes.insert(contentsOf: inserted, at: position)
            case 3 where !bytes.isEmpty:
                let end = min(bytes.count, position + Int.random(in: 1...64, using: &generator))
                bytes.removeSubrange(position..<end)
            case 4 where !bytes.isEmpty:
                let end = min(bytes.count, position + Int.random(in: 1...256, using: &generator))
                bytes.insert(contentsOf: bytes[position..<end], at: position)
            case 5:
                bytes = Array(bytes.prefix(position))
            case 6:
                let run = [UInt8](
                    repeating: interesting.randomElement(using: &generator)!,
                    count: Int.random(in: 1...12_000, using: &generator))
                bytes.insert(contentsOf: run, at: position)
            default:
                bytes.insert(contentsOf: Array("\r\n.\r\n".utf8), at: position)
            }
        }
        return bytes
    }

    @Test(.timeLimit(.minutes(3)))
    func mutatedTranscriptsNeverCrashHangOrOverrunTheCaps() throws {
        let small = try TranscriptFixture.names.filter { $0 != "user-pass-retr" }.map(TranscriptFixture.load)
        let large = try TranscriptFixture.load("user-pass-retr")
        let limits = POP3ParserLimits()
        var generator = SplitMix64(seed: 0xF022_0013)
        var failures = 0
        var completed = 0
        for iteration in 0..<Self.iterations {
            // One in 500 runs mutates the 300 KB session with its large 8-bit message.
            let fixture = iteration % 500 == 0 ? large : small.randomElement(using: &generator)!
            let input = Self.mutate(fixture.server, using: &generator)
            var parser = POP3ResponseParser(limits: limits)
            let declared =
                Bool.random(using: &generator)
                ? Array(fixture.kinds.dropFirst())
                : (0..<Int.random(in: 0...12, using: &generator)).map { _ in
                    Self.kinds.randomElement(using: &generator)!
                }
            for kind in declared { parser.expect(kind) }
            var bodyBytes = 0
            var start = 0
            var failed: POP3ProtocolError?
            while start < input.count, failed == nil {
                let end = min(input.count, start + Int.random(in: 1...2048, using: &generator))
                do {
                    for event in try parser.parse(input[start..<end]) {
                        if case .bodyBytes(let chunk) = event {
                            #expect(!chunk.isEmpty)
                            bodyBytes += chunk.count
                        }
                    }
                } catch {
                    failed = error
                }
                #expect(parser.bufferedByteCount <= limits.unsolicitedBytes)
                start = end
            }
            #expect(bodyBytes <= input.count)
            if let failed {
                failures += 1
                #expect(throws: failed) { _ = try parser.parse(Array("+OK\r\n".utf8)) }
                #expect(!failed.description.isEmpty)
            } else {
                completed += 1
            }
        }
        // The mix exercises both paths: hostile input refused, and mutations the protocol tolerates.
        #expect(failures > Self.iterations / 20)
        #expect(completed > Self.iterations / 20)
    }
}
