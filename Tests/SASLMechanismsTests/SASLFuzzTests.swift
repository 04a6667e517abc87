import SASLMechanisms
import TestSupport
import Testing

/// Seeded random challenges and wire text: exchanges and the base64 decoder never crash, fail only with
/// `SASLError`, and never let the secret into any text.
@Suite("SASL: seeded fuzz")
struct SASLFuzzTests {
    static let pieces: [[UInt8]] = [
        Array(#"{"status":"401","schemes":"bearer","scope":"mail"}"#.utf8), Array("Username:".utf8),
        Array("Password:".utf8), [], [0x01], [0x00], [0xFF, 0xFE], Array(#"{"status":{"nested":[1,2]}}"#.utf8),
        Array("\u{1B}[2J".utf8), Array(#"{"status":"#.utf8),
    ]

    @Test func randomChallengesNeverCrashOrLeakTheSecret() throws {
        var generator = SplitMix64(seed: 0x5A51_0013)
        for _ in 0..<5_000 {
            var exchange: SASLExchange
            switch Int.random(in: 0..<4, using: &generator) {
            case 0: exchange = try .plain(username: "bench", password: "hunter2secret")
            case 1: exchange = try .login(username: "bench", password: "hunter2secret")
            case 2: exchange = try .xoauth2(username: "bench", accessToken: "hunter2secret")
            default: exchange = try .oauthBearer(username: "bench", accessToken: "hunter2secret")
            }
            if Bool.random(using: &generator) { exchange.initialResponseSent() }
            for _ in 0..<Int.random(in: 1...4, using: &generator) {
                var challenge = Self.pieces.randomElement(using: &generator)!
                if Bool.random(using: &generator) {
                    challenge += (0..<Int.random(in: 0...40, using: &generator)).map { _ in
                        UInt8.random(in: 0...255, using: &generator)
                    }
                }
                do {
                    _ = try exchange.respond(toChallenge: challenge)
                } catch {
                    #expect(!error.description.contains("hunter2"))
                }
                #expect(!exchange.description.contains("hunter2"))
                #expect(!(exchange.serverError?.description.contains("hunter2") ?? false))
            }
        }
    }

    @Test func randomWireTextDecodesOrFailsWithAnOffsetInside() {
        var generator = SplitMix64(seed: 0xBA5E_0064)
        let alphabet = Array("ABCxyz019+/=  \r\n\t".utf8)
        for _ in 0..<20_000 {
            let count = Int.random(in: 0...64, using: &generator)
            let text = (0..<count).map { _ in
                Int.random(in: 0..<10, using: &generator) == 0
                    ? UInt8.random(in: 0...255, using: &generator) : alphabet.randomElement(using: &generator)!
            }
            do {
                let decoded = try SASLBase64.decode(text)
                #expect(decoded.count <= count * 3 / 4 + 2)
            } catch {
                guard case .invalidBase64(let offset, _) = error else {
                    Issue.record("wrong error \(error)")
                    continue
                }
                #expect((0...count).contains(offset))
            }
        }
    }
}
